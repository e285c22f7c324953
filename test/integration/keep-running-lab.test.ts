import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { NovaClient } from "../../src/openstack/nova-client.js";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually } from "../support/eventually.js";
import { freePort } from "../support/free-port.js";
import { writeHeartbeatKeyFile } from "../support/heartbeat-key-file.js";
import { LAB_CLOUD, labClients, repairLabCompute } from "../support/lab-clients.js";
import { novaLab, type NovaLab } from "../support/nova-lab.js";
import type { NovaFixtures } from "../support/nova-fixtures.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { startSimulatedAgents, type SimulatedAgents } from "../support/simulated-agents.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

const HOSTS = ["compute-1", "compute-2", "compute-3"];

describe("keep running end to end on the real Nova lab (Debian Zed, fake driver)", function () {
  this.timeout(600_000);
  let env: TestEnv;
  let lab: NovaLab;
  let nova: NovaClient;
  let fixtures: NovaFixtures;
  let agents: SimulatedAgents | undefined;
  let op: OperatorProcess | undefined;
  let ns: string;
  const servers: string[] = [];
  const received: { type: string; subject: string; at: number }[] = [];
  let hook: HttpServer | undefined;
  let hookPort = 0;

  before(async () => {
    lab = await novaLab();
    env = await sharedTestEnv();
    ({ nova, fixtures } = labClients(lab));
    ns = await env.createNamespace("lab-keep");
    hook = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        const ev = JSON.parse(body) as { type: string; subject: string };
        received.push({ type: ev.type, subject: ev.subject, at: Date.now() });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook?.listen(0, "127.0.0.1", () => r()));
    hookPort = (hook.address() as { port: number }).port;
    const port = await freePort();
    const keyFile = writeHeartbeatKeyFile(env.workDir);
    agents = startSimulatedAgents({ cloudName: "lab", hosts: HOSTS, ports: [port], keyFile });
    const booted = await fixtures.bootActive([{ name: "ha-e2e-1", host: "compute-1" }, { name: "ha-e2e-2", host: "compute-1" }, { name: "plain-e2e", host: "compute-1" }]);
    servers.push(...booted.map((s) => s.id));
    await env.apply(ns, `${cloudManifests({ name: "lab", secretName: "lab-clouds", cloudsYaml: lab.cloudsYaml, cloudName: LAB_CLOUD, recheckIntervalSeconds: 10 })}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: lab-ha}
spec:
  cloudRef: {name: lab}
  selector: {nameGlobs: ["ha-e2e-*"]}
  recovery: {unsafeSkipPowerFencing: true, localDisk: RebuildFromImage}
  hostMonitoring: {heartbeatIntervalMilliseconds: 200, missedHeartbeats: 3, confirmationWindowSeconds: 2}
  stormProtection: {startupGraceSeconds: 0}
`);
    op = await startOperatorProcess({ kubeconfig: env.kubeconfigFor("operator-c"), identity: "lab-keep", namespace: ns, logDir: env.workDir, extraArgs: ["--leader-elect=false", `--heartbeat-bind-address=127.0.0.1:${port}`, `--heartbeat-key-file=${keyFile}`, "--monitor-interval-ms=200"] });
  });

  after(async () => {
    // Stop vmkeeper before repairing the lab, so nothing fences the host again.
    await op?.proc.stop();
    await agents?.stop();
    await repairLabCompute(lab, nova, 1);
    // Nova still calls a just-killed compute "up" for its service_down_time: go by what we did.
    if (compute2Killed) await repairLabCompute(lab, nova, 2, true);
    if (servers.length) await fixtures.deleteServers(servers).catch(() => undefined);
    hook?.close();
  });

  let compute2Killed = false;

  it("a dead compute host is forced down and its protected servers are rebuilt elsewhere, with Nova's own evacuation records", async () => {
    await eventually(async () => {
      const r = await env.kubectl(["get", "computehosts", "-n", ns, "-o", "jsonpath={.items[*].status.health.state}"]);
      assert.deepEqual(r.stdout.trim().split(/\s+/), ["Healthy", "Healthy", "Healthy"]);
    }, 120_000, 500);
    const killedAt = Date.now();
    agents?.kill("compute-1");
    await lab.compute("kill", 1);
    const inc = await eventually(async () => {
      const r = await env.kubectl(["get", "incident", "lab.compute-1-1", "-n", ns, "-o", "json"]);
      assert.equal(r.code, 0, r.stderr);
      const o = JSON.parse(r.stdout) as { status?: { phase?: string; timestamps?: Record<string, string> } };
      assert.equal(o.status?.phase, "Recovered");
      return o;
    }, 180_000, 1000);
    const ts = inc.status?.timestamps ?? {};
    console.log(`      real Nova: first evacuation accepted ${Date.parse(ts.firstEvacuationAt ?? "") - killedAt} ms after the kill, all ACTIVE after ${Date.parse(ts.recoveredAt ?? "") - killedAt} ms`);
    const [svc] = await nova.listServices({ binary: "nova-compute", host: "compute-1" });
    assert.equal(svc?.forcedDown, true);
    assert.match(svc?.disabledReason ?? "", /^vmkeeper: host failure, incident lab\.compute-1-1/);
    for (const id of servers.slice(0, 2)) {
      const s = await nova.getServer(id);
      assert.equal(s.status, "ACTIVE");
      assert.notEqual(s.host, "compute-1");
      const migrations = await nova.listMigrations({ migrationType: "evacuation", instanceUuid: id });
      assert.equal(migrations.length, 1, "one evacuation, recorded by Nova");
      assert.equal(migrations[0]?.sourceCompute, "compute-1");
    }
    const plain = await nova.getServer(servers[2] ?? "");
    assert.equal(plain.host, "compute-1", "the unprotected server was not touched");
    assert.equal((await nova.listMigrations({ migrationType: "evacuation", instanceUuid: plain.id })).length, 0);
  });

  it("NotifyOnly: the owner's webhook hears of the failure and nothing changes in Nova", async () => {
    const booted = await fixtures.bootActive([{ name: "notify-e2e-1", host: "compute-2" }]);
    servers.push(...booted.map((b) => b.id));
    // compute-1 failed minutes ago: with only the keep-running policy's storm threshold (50 % of
    // 3 hosts) a second failure would rightly be held back. This owner accepts more.
    assert.equal((await env.kubectl(["delete", "instancehapolicy", "lab-ha", "-n", ns])).code, 0);
    await env.apply(ns, `apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: lab-notify}
spec:
  cloudRef: {name: lab}
  mode: NotifyOnly
  selector: {nameGlobs: ["notify-e2e-*"]}
  notification: {webhook: {url: "http://127.0.0.1:${hookPort}/owner", allowHTTP: true}}
  hostMonitoring: {heartbeatIntervalMilliseconds: 200, missedHeartbeats: 3, confirmationWindowSeconds: 2}
  stormProtection: {startupGraceSeconds: 0, maxUnhealthy: 3}
`);
    await new Promise((res) => setTimeout(res, 1000));
    agents?.kill("compute-2");
    compute2Killed = true;
    await lab.compute("kill", 2);
    const inc = await eventually(async () => {
      const g = await env.kubectl(["get", "incident", "lab.compute-2-1", "-n", ns, "-o", "json"]);
      assert.equal(g.code, 0, g.stderr);
      const o = JSON.parse(g.stdout) as { spec: { detectedAt: string }; status?: { phase?: string } };
      assert.equal(o.status?.phase, "Notified");
      return o;
    }, 180_000, 1000);
    const detected = received.find((e) => e.subject === "lab.compute-2-1" && e.type === "dev.vmkeeper.incident.detected");
    assert.ok(detected, `the owner was notified: ${JSON.stringify(received)}`);
    console.log(`      owner notified ${detected.at - Date.parse(inc.spec.detectedAt)} ms after detection`);
    const [svc] = await nova.listServices({ binary: "nova-compute", host: "compute-2" });
    assert.equal(svc?.forcedDown, false, "NotifyOnly never forces a host down");
    assert.equal(svc?.status, "enabled");
    const s = await nova.getServer(booted[0]?.id ?? "");
    assert.equal(s.host, "compute-2", "the server was not moved");
    assert.equal((await nova.listMigrations({ migrationType: "evacuation", instanceUuid: s.id })).length, 0);
  });
});
