import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually } from "../support/eventually.js";
import { guestDomainXml } from "../support/guest-domain.js";
import { startPrivateLibvirtd, type PrivateLibvirtd } from "../support/libvirtd.js";
import { ensureVirtPeers, startAgentProcess, startReportingOperator } from "../support/agent-process.js";
import type { ManagedProcess } from "../support/managed-process.js";
import type { OperatorProcess } from "../support/operator-process.js";
import { buildGuestImage } from "../support/qemu-guest.js";
import { startSimulatedCloud, type SimulatedCloud } from "../support/simulated-cloud.js";
import { REPO_ROOT } from "../support/test-assets.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

const TOKEN = "guest-e2e-report-token";
const DOMAIN = "instance-0000000a";
/** A second VM whose domain lacks the heartbeat channel: the agent plugs it in live. */
const PLAIN_DOMAIN = "instance-0000000b";

/**
 * The whole guest layer, every piece real except Nova: a protected VM (a libvirt QEMU/TCG
 * domain booting a Debian kernel with vmkeeper-guest) answers the heartbeat of a real
 * `vmkeeper agent` process through virtio-serial; the VM is frozen (virsh suspend = QEMU
 * stop); the agent reports it Unresponsive to the operator, which hard-reboots the instance
 * in Nova (the simulator, whose server has the domain's UUID) as the policy says.
 */
describe("guest layer end to end: frozen guest → node agent → operator → Nova reboot (libvirt + QEMU + agent + operator)", function () {
  this.timeout(900_000);
  let env: TestEnv;
  let cloud: SimulatedCloud;
  let lv: PrivateLibvirtd;
  let op: OperatorProcess | undefined;
  let agent: ManagedProcess | undefined;
  let ns: string;
  let vmId = "";
  let plainId = "";

  before(async function () {
    this.timeout(1_200_000);
    await ensureVirtPeers();
    const image = await buildGuestImage(REPO_ROOT);
    env = await sharedTestEnv();
    ns = await env.createNamespace("guest-e2e");
    cloud = await startSimulatedCloud({ cloudName: "sim-cloud", hosts: 2, workDir: env.workDir });
    const [vm, plain] = cloud.sim.nova.addServers([{ name: "app-1", host: "compute-1", tags: ["ha-guest"] }, { name: "app-2", host: "compute-1", tags: ["ha-guest"] }]);
    vmId = vm?.id ?? "";
    plainId = plain?.id ?? "";
    lv = await startPrivateLibvirtd();
    const xml = join(lv.dir, "app-1.xml");
    writeFileSync(xml, guestDomainXml({ name: DOMAIN, uuid: vmId, image, heartbeatSocketPath: join(lv.dir, `${vmId}.hb.sock`), consoleLog: join(lv.dir, "app-1-console.log") }));
    await lv.virshOk("define", xml);
    const plainXml = join(lv.dir, "app-2.xml");
    writeFileSync(plainXml, guestDomainXml({ name: PLAIN_DOMAIN, uuid: plainId, image, consoleLog: join(lv.dir, "app-2-console.log") }));
    await lv.virshOk("define", plainXml);
    await env.apply(ns, `${cloudManifests({ name: "sim-cloud", secretName: "sim-clouds", cloudsYaml: cloud.cloudsYaml, cloudName: "sim", recheckIntervalSeconds: 10 })}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: reboot-hung-guests}
spec:
  cloudRef: {name: sim-cloud}
  mode: KeepRunning
  selector: {tags: [ha-guest]}
  guestMonitoring: {enabled: true, sensitivity: High, action: Reboot, minUptimeSeconds: 0}
`);
    const started = await startReportingOperator({ env, cloud, namespace: ns, identity: "guest-e2e", token: TOKEN, extraArgs: ["--monitor-interval-ms=200"] });
    op = started.op;
    agent = await startAgentProcess({ cloud: "sim-cloud", host: "compute-1", keyFile: cloud.keyFile, reportUrl: started.reportUrl, tokenFile: started.agentTokenFile, libvirtUri: lv.uri, logPath: join(env.workDir, "agent-guest-e2e.log"), extraArgs: ["--guest-interval-ms=5000", "--guest-threshold=6", "--attach-heartbeat-channels=true", `--channel-path-map=/var/lib/libvirt=${join(lv.dir, "var/lib/libvirt")}`] });
    await lv.virshOk("start", DOMAIN);
    await lv.virshOk("start", PLAIN_DOMAIN);
  });

  after(async () => {
    await agent?.stop();
    await op?.proc.stop();
    await lv?.virsh("destroy", DOMAIN);
    await lv?.virsh("destroy", PLAIN_DOMAIN);
    await lv?.stop();
    await cloud?.stop();
  });

  const agentLog = (): string => readFileSync(agent?.logPath ?? "", "utf8");
  const reboots = async (): Promise<number> => (await cloud.nova.listInstanceActions(vmId)).filter((a) => a.action === "reboot").length;

  it("the guest answers the agent's challenges through real virtio-serial (Healthy)", async () => {
    await eventually(() => assert.match(agentLog(), /"state":"Healthy"[^\n]*"msg":"guest health changed"/), 180_000, 500);
    assert.equal(await reboots(), 0);
  });

  it("a running domain without the channel gets it plugged in live (not in its definition) and its guest answers through it", async () => {
    await eventually(() => assert.match(agentLog(), new RegExp(`"instanceUuid":"${plainId}"[^\n]*"msg":"heartbeat channel attached to the running domain"`)), 120_000, 500);
    await eventually(() => assert.match(agentLog(), new RegExp(`"instanceUuid":"${plainId}","state":"Healthy"[^\n]*"msg":"guest health changed"`)), 180_000, 500);
    assert.match(await lv.virshOk("dumpxml", PLAIN_DOMAIN), /org\.vmkeeper\.heartbeat\.0/);
    assert.doesNotMatch(await lv.virshOk("dumpxml", "--inactive", PLAIN_DOMAIN), /org\.vmkeeper\.heartbeat\.0/, "live only: Nova's definition is not changed");
    assert.doesNotMatch(agentLog(), new RegExp(`"instanceUuid":"${vmId}"[^\n]*heartbeat channel attached`), "a domain with the channel is left alone");
  });

  it("both protected guests run with their policy's High sensitivity (1 s × 3) pushed by the operator, not the agent's own 5 s × 6", async () => {
    for (const id of [vmId, plainId]) {
      const started = new RegExp(`"instanceUuid":"${id}"[^\n]*"intervalMs":1000,"threshold":3[^\n]*"msg":"guest heartbeat session started"`);
      await eventually(() => assert.match(agentLog(), started), 60_000, 300);
    }
  });

  it("a frozen guest is reported Unresponsive and the operator hard-reboots it in Nova, once", async () => {
    const frozenAt = Date.now();
    await lv.virshOk("suspend", DOMAIN);
    await eventually(() => assert.match(agentLog(), /"state":"Unresponsive"[^\n]*"msg":"guest health changed"/), 30_000, 200);
    await eventually(async () => assert.equal(await reboots(), 1), 60_000, 200);
    console.log(`      guest frozen → hard reboot accepted by Nova after ${Date.now() - frozenAt} ms (interval 1 s, threshold 3)`);
    const events = await env.kubectl(["get", "events.events.k8s.io", "-n", ns, "-o", "jsonpath={.items[*].reason}"]);
    assert.match(events.stdout, /GuestUnresponsive/);
    assert.match(events.stdout, /GuestRebooted/);
    await new Promise((res) => setTimeout(res, 3000));
    assert.equal(await reboots(), 1, "one reboot per failure");
    assert.ok(!agentLog().includes(TOKEN), "the report token is not logged");
  });
});
