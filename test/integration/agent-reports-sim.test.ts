import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "node:https";
import type { GuestHealthReport } from "../../src/agent/reports/agent-report.js";
import { FanOutReportSink } from "../../src/agent/reports/fan-out-report-sink.js";
import { ReportClient } from "../../src/agent/reports/report-client.js";
import { prometheusReportClientMetrics } from "../../src/agent/reports/report-client-metrics.js";
import { cloudsYaml } from "../../src/sim/clouds-yaml.js";
import { SystemClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { Registry } from "prom-client";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually, sleep } from "../support/eventually.js";
import { freePort } from "../support/free-port.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { selfSignedCert, type SelfSignedCert } from "../support/self-signed-cert.js";
import { startSimulatedCloud, type SimulatedCloud } from "../support/simulated-cloud.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

interface EventView {
  reason: string;
  type: string;
  note?: string;
  regarding?: { kind?: string; name?: string };
}

const TOKEN = "agent-report-token-for-tests";

describe("agent reports: a guest the host agent finds unresponsive is rebooted per its policy (real API server + simulator)", function () {
  this.timeout(300_000);
  let env: TestEnv;
  let cloud: SimulatedCloud;
  let tls: SelfSignedCert;
  let client: ReportClient[] = [];
  let sink: FanOutReportSink;
  const ops: OperatorProcess[] = [];
  const reportPorts: number[] = [];
  let ns: string;
  const ids = new Map<string, string>();

  before(async () => {
    env = await sharedTestEnv();
    ns = await env.createNamespace("agentreports");
    cloud = await startSimulatedCloud({ cloudName: "sim-cloud", hosts: 2, workDir: env.workDir });
    const made = cloud.sim.nova.addServers([
      { name: "guest-1", host: "compute-1", tags: ["ha-guest"] },
      { name: "notify-1", host: "compute-2", tags: ["notify-guest"] },
    ]);
    for (const s of made) ids.set(s.name, s.id);
    tls = selfSignedCert();
    const tokenFile = join(tls.dir, "tokens");
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const yaml = cloudsYaml({ cloudName: "sim", authUrl: cloud.server.authUrl, region: cloud.sim.keystone.region, auth: { kind: "password", username: "vmkeeper", password: "vmkeeper-secret", projectName: "admin" } });
    await env.apply(ns, `${cloudManifests({ name: "sim-cloud", secretName: "sim-clouds", cloudsYaml: yaml, cloudName: "sim", recheckIntervalSeconds: 10 })}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: reboot-guests}
spec:
  cloudRef: {name: sim-cloud}
  mode: KeepRunning
  selector: {tags: [ha-guest]}
  guestMonitoring: {enabled: true, action: Reboot, minUptimeSeconds: 0}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: notify-guests}
spec:
  cloudRef: {name: sim-cloud}
  mode: NotifyOnly
  selector: {tags: [notify-guest]}
  guestMonitoring: {enabled: true, action: Reboot, minUptimeSeconds: 0}
`);
    for (const [n, id] of ["vmkeeper-a", "vmkeeper-b"].entries()) {
      const port = await freePort();
      reportPorts.push(port);
      ops.push(await startOperatorProcess({
        kubeconfig: env.kubeconfigFor(id === "vmkeeper-a" ? "operator-a" : "operator-b"),
        identity: id,
        namespace: ns,
        logDir: env.workDir,
        extraArgs: [
          `--heartbeat-bind-address=127.0.0.1:${cloud.heartbeatPorts[n] ?? 0}`,
          `--heartbeat-key-file=${cloud.keyFile}`,
          "--monitor-interval-ms=200",
          `--agent-reports-bind-address=127.0.0.1:${port}`,
          `--agent-reports-tls-cert-file=${tls.certFile}`,
          `--agent-reports-tls-key-file=${tls.keyFile}`,
          `--agent-reports-token-file=${tokenFile}`,
        ],
      }));
    }
    // The node agent's report path: one client per operator replica (a standby stays warm).
    const agentToken = join(tls.dir, "agent-token");
    writeFileSync(agentToken, TOKEN);
    const registry = new Registry();
    client = reportPorts.map((p) => new ReportClient({ endpoints: [`https://127.0.0.1:${p}/v1/reports`], tokenFile: agentToken, caFile: tls.certFile, minBackoffMs: 100, maxBackoffMs: 1000, clock: new SystemClock(), log: silentLogger(), metrics: prometheusReportClientMetrics(registry) }));
    for (const c of client) c.start();
    sink = new FanOutReportSink(client);
    await eventually(async () => {
      for (const h of cloud.hosts) {
        const state = (await env.kubectl(["get", "computehost", `sim-cloud.${h}`, "-n", ns, "-o", "jsonpath={.status.health.state}"])).stdout.trim();
        assert.equal(state, "Healthy", h);
      }
    }, 60_000, 500);
  });

  after(async () => {
    for (const c of client) await c.close(0);
    for (const op of ops) await op.proc.stop();
    await cloud?.stop();
  });

  const id = (name: string): string => ids.get(name) ?? assert.fail(name);
  const reboots = async (name: string): Promise<number> => (await cloud.nova.listInstanceActions(id(name))).filter((a) => a.action === "reboot").length;
  const policyEvents = async (): Promise<EventView[]> =>
    (JSON.parse((await env.kubectl(["get", "events.events.k8s.io", "-n", ns, "-o", "json"])).stdout) as { items: EventView[] }).items.filter((e) => e.regarding?.kind === "InstanceHAPolicy");
  const leaderMetrics = async (): Promise<string> => {
    const leader = (await env.kubectl(["get", "lease", "vmkeeper-operator", "-n", ns, "-o", "jsonpath={.spec.holderIdentity}"])).stdout.trim();
    return ops.find((o) => o.identity === leader)!.metrics();
  };
  const unresponsive = (name: string, at: Date): GuestHealthReport => ({ kind: "GuestHealth", host: name === "guest-1" ? "compute-1" : "compute-2", instanceUuid: id(name), state: "Unresponsive", reason: "5 challenges missed", intervalMs: 2000, threshold: 5, at: at.toISOString() });

  it("hard-reboots the protected guest once, with Events and the metric; the same report again does nothing", async () => {
    const sentAt = Date.now();
    const report = unresponsive("guest-1", new Date());
    sink.submit(report);
    await eventually(async () => assert.equal(await reboots("guest-1"), 1), 30_000, 200);
    console.log(`      guest-1 hard reboot recorded by Nova ${Date.now() - sentAt} ms after the report was submitted`);
    const actions = await cloud.nova.listInstanceActions(id("guest-1"));
    assert.ok(actions.some((a) => a.action === "reboot"), "a reboot action");
    const events = await eventually(async () => {
      const list = (await policyEvents()).filter((e) => e.regarding?.name === "reboot-guests");
      assert.ok(list.some((e) => e.reason === "GuestUnresponsive" && e.type === "Warning"), JSON.stringify(list));
      assert.ok(list.some((e) => e.reason === "GuestRebooted" && e.type === "Normal"));
      return list;
    }, 15_000, 250);
    assert.match(events.find((e) => e.reason === "GuestRebooted")?.note ?? "", /guest-1 .*hard reboot accepted by Nova/);
    for (const e of events) assert.ok(!(e.note ?? "").includes(TOKEN), "no token in Events");
    assert.match(await leaderMetrics(), /vmkeeper_guest_actions_total\{action="Reboot",result="Accepted"\} 1/);
    // The agent sends the same report again (a retry): same epoch, no second reboot.
    sink.submit(report);
    await eventually(() => assert.equal(client.reduce((n, c) => n + c.pending, 0), 0), 10_000, 100);
    await sleep(4000);
    assert.equal(await reboots("guest-1"), 1, "one reboot per report epoch");
  });

  it("refuses a report with a bad token (401) and does nothing", async () => {
    const before = await reboots("guest-1");
    const body = JSON.stringify({ reports: [unresponsive("guest-1", new Date())] });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: reportPorts[0], path: "/v1/reports", method: "POST", ca: tls.cert, headers: { "content-type": "application/json", authorization: "Bearer not-the-token" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(body);
    });
    assert.equal(status, 401);
    await sleep(4000);
    assert.equal(await reboots("guest-1"), before);
  });

  it("ignores a report about guest-1 from the agent of a host Nova does not run it on", async () => {
    const before = await reboots("guest-1");
    sink.submit({ ...unresponsive("guest-1", new Date()), host: "compute-2" });
    await eventually(() => assert.equal(client.reduce((n, c) => n + c.pending, 0), 0), 10_000, 100);
    await sleep(4000);
    assert.equal(await reboots("guest-1"), before);
  });

  it("NotifyOnly: a Warning Event, nothing in Nova", async () => {
    sink.submit(unresponsive("notify-1", new Date()));
    await eventually(async () => {
      const list = (await policyEvents()).filter((e) => e.regarding?.name === "notify-guests" && e.reason === "GuestUnresponsive");
      assert.equal(list.length, 1);
      assert.equal(list[0]?.type, "Warning");
      assert.match(list[0]?.note ?? "", /NotifyOnly/);
    }, 30_000, 250);
    await sleep(3000);
    assert.equal(await reboots("notify-1"), 0);
    const server = await cloud.nova.getServer(id("notify-1"));
    assert.equal(server.status, "ACTIVE");
  });
});
