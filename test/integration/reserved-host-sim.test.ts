import assert from "node:assert/strict";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually } from "../support/eventually.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { startSimulatedCloud, type SimulatedCloud } from "../support/simulated-cloud.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

interface IncidentView {
  metadata: { name: string };
  spec: { hostRef: { name: string } };
  status?: {
    phase?: string;
    instances?: { name?: string; state: string; method?: string; targetHost?: string }[];
    reservedHosts?: { name: string; serviceHost?: string; enabledAt?: string }[];
    hostReturn?: { mode: string; state: string; message?: string; forceDownLiftedAt?: string; reenabledAt?: string };
    conditions?: { type: string; status: string; reason: string }[];
  };
}

describe("reserved-host recovery and automatic host re-enable (real API server + simulator)", function () {
  this.timeout(300_000);
  let env: TestEnv;
  let cloud: SimulatedCloud;
  let op: OperatorProcess;
  let ns: string;
  const SPARE_REASON = "spare capacity for vmkeeper";

  before(async () => {
    env = await sharedTestEnv();
    ns = await env.createNamespace("reserved");
    cloud = await startSimulatedCloud({ cloudName: "sim-cloud", hosts: 4, replicas: 1, workDir: env.workDir, serviceDownTimeSeconds: 60 });
    cloud.sim.nova.addServers([
      { name: "db-1", host: "compute-1", tags: ["ha"] },
      { name: "web-1", host: "compute-1", tags: ["ha"] },
      { name: "app-1", host: "compute-2", tags: ["ha"] },
    ]);
    // compute-4 is the spare: disabled in Nova by the cloud's operators, up and not forced down.
    const spare = cloud.sim.nova.hosts.get("compute-4")?.service;
    assert.ok(spare);
    cloud.sim.nova.updateService(spare.uuid, { status: "disabled", disabledReason: SPARE_REASON });
    await env.apply(ns, `${cloudManifests({ name: "sim-cloud", secretName: "sim-clouds", cloudsYaml: cloud.cloudsYaml, cloudName: "sim", recheckIntervalSeconds: 10 })}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: tagged-ha}
spec:
  cloudRef: {name: sim-cloud}
  mode: KeepRunning
  selector: {tags: [ha]}
  recovery:
    methods: [ReservedHost, Evacuate]
    reservedHosts: [sim-cloud.compute-4]
    maxConcurrentEvacuationsPerTargetHost: 1
    hostReenable: Automatic
    unsafeSkipPowerFencing: true
    localDisk: RebuildFromImage
  hostMonitoring: {heartbeatIntervalMilliseconds: 200, missedHeartbeats: 3, confirmationWindowSeconds: 2}
  stormProtection: {startupGraceSeconds: 0, maxUnhealthy: "50%"}
`);
    op = await startOperatorProcess({
      kubeconfig: env.kubeconfigFor("operator-a"),
      identity: "vmkeeper-a",
      namespace: ns,
      logDir: env.workDir,
      extraArgs: [`--heartbeat-bind-address=127.0.0.1:${cloud.heartbeatPorts[0] ?? 0}`, `--heartbeat-key-file=${cloud.keyFile}`, "--monitor-interval-ms=200"],
    });
  });

  after(async () => {
    await op?.proc.stop();
    await cloud?.stop();
  });

  const get = async <T>(args: string[]): Promise<T> => JSON.parse((await env.kubectl(["get", ...args, "-n", ns, "-o", "json"])).stdout) as T;
  const incident = async (): Promise<IncidentView | undefined> => (await get<{ items: IncidentView[] }>(["incidents"])).items.find((i) => i.spec.hostRef.name === "sim-cloud.compute-1");
  const service = async (host: string) => (await cloud.nova.listServices({ binary: "nova-compute", host }))[0];

  it("counts the protected instances per policy in a metric", async () => {
    await eventually(async () => {
      for (const h of cloud.hosts) assert.equal((await env.kubectl(["get", "computehost", `sim-cloud.${h}`, "-n", ns, "-o", "jsonpath={.status.health.state}"])).stdout.trim(), "Healthy", h);
      assert.match(await op.metrics(), new RegExp(`vmkeeper_protected_instances\\{namespace="${ns}",policy="tagged-ha"\\} 3`));
    }, 60_000, 500);
  });

  it("enables the reserved host, records the choice, and evacuates to it one at a time", async () => {
    cloud.killHost("compute-1");
    const done = await eventually(async () => {
      const inc = await incident();
      assert.equal(inc?.status?.phase, "Recovered");
      return inc;
    }, 90_000, 500);
    assert.deepEqual(done?.status?.reservedHosts?.map((r) => [r.name, r.serviceHost, typeof r.enabledAt]), [["sim-cloud.compute-4", "compute-4", "string"]]);
    assert.deepEqual((done?.status?.instances ?? []).map((i) => [i.name, i.state, i.method, i.targetHost]).sort(), [
      ["db-1", "Recovered", "ReservedHost", "compute-4"],
      ["web-1", "Recovered", "ReservedHost", "compute-4"],
    ]);
    const spare = await service("compute-4");
    assert.equal(spare?.status, "enabled", "the spare is enabled in Nova");
    const servers = await cloud.nova.listServers({});
    const evacuations: { start: number; end: number }[] = [];
    for (const name of ["db-1", "web-1"]) {
      const s = servers.find((x) => x.name === name);
      assert.equal(s?.status, "ACTIVE", name);
      assert.equal(s?.host, "compute-4", `${name} runs on the reserved host`);
      const migrations = await cloud.nova.listMigrations({ migrationType: "evacuation", instanceUuid: s?.id });
      assert.equal(migrations.length, 1, `${name}: exactly one evacuation`);
      assert.equal(migrations[0]?.destCompute, "compute-4");
      evacuations.push({ start: Date.parse(`${migrations[0]?.createdAt ?? ""}Z`), end: Date.parse(`${migrations[0]?.updatedAt ?? ""}Z`) });
    }
    const [a, b] = evacuations.sort((x, y) => x.start - y.start);
    assert.ok(a && b && b.start >= a.end, "maxConcurrentEvacuationsPerTargetHost: 1 — the second evacuation to compute-4 started after the first one finished");
    assert.equal(done?.status?.hostReturn?.mode, "Automatic");
    assert.equal(done?.status?.hostReturn?.state, "WaitingForHost");
    const failed = await service("compute-1");
    assert.equal(failed?.forcedDown, true, "the dead host stays forced down");
    assert.equal(failed?.status, "disabled");
    await eventually(async () => {
      const ch = await get<{ status?: { hostReturn?: { state: string; incidentRef: { name: string } } } }>(["computehost", "sim-cloud.compute-1"]);
      assert.equal(ch.status?.hostReturn?.state, "WaitingForHost");
      assert.equal(ch.status?.hostReturn?.incidentRef.name, "sim-cloud.compute-1-1");
    }, 20_000, 500);
  });

  it("returns the host to service once it is back: force-down lifted first, then enabled", async () => {
    cloud.restoreHost("compute-1");
    const done = await eventually(async () => {
      const inc = await incident();
      assert.equal(inc?.status?.hostReturn?.state, "Reenabled", inc?.status?.hostReturn?.message);
      return inc;
    }, 90_000, 500);
    const hr = done?.status?.hostReturn;
    assert.ok(hr?.forceDownLiftedAt && hr.reenabledAt && Date.parse(hr.forceDownLiftedAt) <= Date.parse(hr.reenabledAt));
    assert.equal(done?.status?.phase, "Recovered", "the phase stays Recovered");
    assert.equal(done?.status?.conditions?.find((c) => c.type === "HostReenabled")?.status, "True");
    const svc = await service("compute-1");
    assert.deepEqual([svc?.forcedDown, svc?.status, svc?.state], [false, "enabled", "up"]);
    await eventually(async () => {
      const ch = await get<{ status?: { hostReturn?: { state: string } } }>(["computehost", "sim-cloud.compute-1"]);
      assert.equal(ch.status?.hostReturn?.state, "Reenabled");
    }, 20_000, 500);
    assert.equal((await get<{ items: unknown[] }>(["incidents"])).items.length, 1, "the returning host opened no new incident");
  });
});
