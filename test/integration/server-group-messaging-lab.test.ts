import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NovaClient } from "../../src/openstack/nova-client.js";
import { startAgentProcess, startReportingOperator } from "../support/agent-process.js";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually } from "../support/eventually.js";
import { freeUdpPort } from "../support/free-udp-port.js";
import { writeHeartbeatKeyFile } from "../support/heartbeat-key-file.js";
import { LAB_CLOUD, labClients } from "../support/lab-clients.js";
import type { ManagedProcess } from "../support/managed-process.js";
import type { NovaFixtures } from "../support/nova-fixtures.js";
import { novaLab } from "../support/nova-lab.js";
import type { OperatorProcess } from "../support/operator-process.js";
import { ensureGuestBinary, GuestApp, startGuestProcess, VirtioSerialPair, type AppMessage } from "../support/sgm-guests.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

const TOKEN = "sgm-lab-agent-token";

/**
 * Server-group messaging against the real Nova lab: a Nova anti-affinity server group of two
 * servers on two computes, a real vmkeeper-guest per member (on a virtio-serial stand-in),
 * a real node agent per compute, the operator. Stopping and starting a member through Nova
 * reaches the other member as notifications.
 */
describe("server-group messaging on the real Nova lab: stop and start of a member reach its peer", function () {
  this.timeout(600_000);
  let env: TestEnv;
  let ns: string;
  let nova: NovaClient;
  let fixtures: NovaFixtures;
  let op: OperatorProcess | undefined;
  const procs: ManagedProcess[] = [];
  const pairs: VirtioSerialPair[] = [];
  const apps = new Map<string, GuestApp>();
  const ids = new Map<string, string>();

  before(async () => {
    await ensureGuestBinary();
    const lab = await novaLab();
    env = await sharedTestEnv();
    ({ nova, fixtures } = labClients(lab));
    ns = await env.createNamespace("sgm-lab");
    const groupName = `sgm-lab-${Date.now()}`;
    const groupId = await fixtures.createServerGroup(groupName, "anti-affinity");
    const booted = await fixtures.bootActive([
      { name: `${groupName}-a`, host: "compute-2", groupId },
      { name: `${groupName}-b`, host: "compute-3", groupId },
    ]);
    for (const [i, s] of booted.entries()) ids.set(i === 0 ? "a" : "b", s.id);
    const keyFile = writeHeartbeatKeyFile(env.workDir);
    const reporting = await startReportingOperator({ env, cloud: { heartbeatPorts: [await freeUdpPort()], keyFile }, namespace: ns, identity: "sgm-lab-op", token: TOKEN, extraArgs: ["--sgm-refresh-interval-ms=300"] });
    op = reporting.op;
    const dir = mkdtempSync(join(tmpdir(), "vmk-sgml-"));
    for (const [n, host] of [["a", "compute-2"], ["b", "compute-3"]] as const) {
      const pair = new VirtioSerialPair(join(dir, `${n}-host.sock`), join(dir, `${n}-guest.sock`));
      await pair.start();
      pairs.push(pair);
      procs.push(startGuestProcess(pair.guestPath, join(dir, `${n}-app.sock`), join(env.workDir, `sgm-lab-guest-${n}.log`)));
      const file = join(dir, `${host}.channels`);
      writeFileSync(file, `${ids.get(n) ?? ""} ${pair.hostPath}\n`);
      procs.push(await startAgentProcess({ cloud: "lab", host, keyFile, reportUrl: reporting.reportUrl, tokenFile: reporting.agentTokenFile, libvirtUri: "off", logPath: join(env.workDir, `sgm-lab-agent-${host}.log`), extraArgs: [`--guest-channels-file=${file}`, "--guest-interval-ms=1000"] }));
    }
    await env.apply(ns, `${cloudManifests({ name: "lab", secretName: "lab-clouds", cloudsYaml: lab.cloudsYaml, cloudName: LAB_CLOUD, recheckIntervalSeconds: 10 })}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: ServerGroupMessaging
metadata: {name: lab-app}
spec:
  cloudRef: {name: lab}
  serverGroup: {id: ${groupId}}
`);
    await eventually(async () => {
      const st = JSON.parse((await env.kubectl(["get", "servergroupmessaging", "lab-app", "-n", ns, "-o", "jsonpath={.status}"])).stdout || "{}") as { connectedCount?: number; memberCount?: number };
      assert.deepEqual([st.memberCount, st.connectedCount], [2, 2]);
    }, 120_000, 500);
    for (const n of ["a", "b"]) {
      const app = await GuestApp.connect(join(dir, `${n}-app.sock`));
      assert.equal((await app.call({ op: "register", app: `lab-app-${n}` })).ok, true);
      assert.equal((await app.call({ op: "subscribe" })).ok, true);
      apps.set(n, app);
    }
  });

  after(async () => {
    for (const a of apps.values()) a.close();
    for (const p of procs) await p.stop();
    await op?.proc.stop();
    for (const p of pairs) await p.stop();
    if (ids.size > 0) await fixtures.deleteServers([...ids.values()]).catch(() => undefined);
  });

  const notified = (n: string, of: string): AppMessage[] => (apps.get(n)?.pushes ?? []).filter((p) => p.event === "sgm-notification" && p.instanceId === ids.get(of));

  it("a member stopped and started through Nova: its peer is told Active>Stopped, then Stopped>Active", async () => {
    const b = ids.get("b") ?? assert.fail("b");
    await nova.stopServer(b);
    await eventually(() => assert.deepEqual(notified("a", "b").map((p) => `${String(p.previousState)}>${String(p.state)}`), ["Active>Stopped"]), 60_000, 200);
    await eventually(async () => assert.equal((await nova.getServer(b)).status, "SHUTOFF"), 60_000, 500);
    await nova.startServer(b);
    await eventually(() => assert.deepEqual(notified("a", "b").map((p) => `${String(p.previousState)}>${String(p.state)}`), ["Active>Stopped", "Stopped>Active"]), 60_000, 200);
    assert.equal(notified("b", "b").length, 0, "a member is not told about itself");
    assert.ok(notified("a", "b").every((p) => p.cause === "StateChanged"), "plain Nova state changes");
  });
});
