import assert from "node:assert/strict";
import type { ComputeHost, InstanceHAPolicy, OpenStackCloud } from "../../../../src/api/v1alpha1/index.js";
import type { InstanceRecoveryMetricLabels } from "../../../../src/controllers/instance-recovery/instance-recovery-metrics.js";
import { InstanceRecoveryReconciler } from "../../../../src/controllers/instance-recovery/instance-recovery-reconciler.js";
import type { InstanceRecoveryNova } from "../../../../src/controllers/instance-recovery/read-recovery-world.js";
import type { ReconcileContext } from "../../../../src/kube/controller.js";
import type { EventRecorder, EventType } from "../../../../src/kube/event-recorder.js";
import type { KubeObject } from "../../../../src/kube/resource-type.js";
import { parseCloudsYaml } from "../../../../src/openstack/clouds-config.js";
import { KeystoneSession } from "../../../../src/openstack/keystone-session.js";
import { NodeHttpTransport } from "../../../../src/openstack/node-http-transport.js";
import { NovaClient } from "../../../../src/openstack/nova-client.js";
import { cloudsYaml } from "../../../../src/sim/clouds-yaml.js";
import type { Server } from "../../../../src/sim/nova-types.js";
import { createSimCloud, type SimCloud } from "../../../../src/sim/sim-cloud.js";
import { SimServer } from "../../../../src/sim/sim-server.js";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { silentLogger } from "../../../../src/util/logger.js";

const NS = "ha";
const POWER_SYNC_MS = 5_000;

interface RecordedEvent {
  on: string;
  type: EventType;
  reason: string;
  note: string;
}

function policy(name: string, spec: Partial<InstanceHAPolicy["spec"]> = {}): InstanceHAPolicy {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "InstanceHAPolicy",
    metadata: { name, namespace: NS, uid: `uid-${name}` },
    spec: { cloudRef: { name: "lab" }, mode: "KeepRunning", selector: { tags: ["ha"] }, ...spec },
  };
}

const cloudObject: OpenStackCloud = { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "OpenStackCloud", metadata: { name: "lab", namespace: NS }, spec: { secretRef: { name: "creds" }, cloudName: "lab" } };

function computeHost(name: string, health = "Healthy"): ComputeHost {
  return { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "ComputeHost", metadata: { name: `lab.${name}`, namespace: NS }, spec: { cloudRef: { name: "lab" }, serviceHost: name }, status: { health: { state: health as "Healthy" } } };
}

describe("InstanceRecoveryReconciler (against the simulator over HTTP)", () => {
  let clock: FakeClock;
  let sim: SimCloud;
  let server: SimServer;
  let session: KeystoneSession;
  let nova: NovaClient;
  let calls: string[];
  let events: RecordedEvent[];
  let metrics: InstanceRecoveryMetricLabels[];
  let policies: InstanceHAPolicy[];
  let hosts: ComputeHost[];
  let leader: boolean;
  let reconciler: InstanceRecoveryReconciler;
  const ctx = (): ReconcileContext => ({ log: silentLogger(), reconcileID: "r", signal: new AbortController().signal });
  const owner = () => ({ userId: sim.nova.defaultUserId, projectId: sim.nova.defaultProjectId, isAdmin: false, requestId: `req-owner-${calls.length}` });

  beforeEach(async () => {
    clock = new FakeClock(new Date("2026-11-22T10:00:00Z"));
    sim = createSimCloud(clock, { seed: "instance-recovery", nova: { powerActionDurationMs: 500, powerSyncIntervalMs: POWER_SYNC_MS } });
    sim.nova.addHosts([{ name: "compute-1" }, { name: "compute-2" }]);
    server = new SimServer(sim, { host: "127.0.0.1", port: 0 });
    await server.start();
    // vmkeeper logs in as its own user; the servers belong to another one (admin).
    const yaml = cloudsYaml({ cloudName: "lab", authUrl: server.authUrl, region: sim.keystone.region, auth: { kind: "password", username: "vmkeeper", password: "vmkeeper-secret", projectName: "admin" } });
    session = new KeystoneSession({ cloud: parseCloudsYaml(yaml, { cloudName: "lab", env: {} }), transport: new NodeHttpTransport({}), clock, logger: silentLogger() });
    nova = new NovaClient({ session, clock, logger: silentLogger() });
    calls = [];
    events = [];
    metrics = [];
    policies = [policy("keep")];
    hosts = [computeHost("compute-1"), computeHost("compute-2")];
    leader = true;
    const recorder: EventRecorder = {
      record: (on: KubeObject, type: EventType, reason: string, _action: string, note: string) => {
        events.push({ on: on.metadata?.name ?? "", type, reason, note });
        return Promise.resolve();
      },
    };
    reconciler = new InstanceRecoveryReconciler({
      getCloud: (key) => (key === `${NS}/lab` ? cloudObject : undefined),
      listPolicies: () => policies,
      listHosts: () => hosts,
      listIncidents: () => [],
      novaFor: () => counting(nova, calls),
      selfUserId: () => session.tokenInfo()?.userId,
      events: recorder,
      clock,
      isLeader: () => leader,
      metrics: (m) => metrics.push(m),
    });
  });

  afterEach(async () => {
    await server.stop();
  });

  const pass = () => reconciler.reconcile({ key: `${NS}/lab`, namespace: NS, name: "lab" }, ctx());
  const crash = async (s: Server): Promise<void> => {
    sim.nova.setPowerState(s.id, "crashed");
    await clock.advance(POWER_SYNC_MS + 1);
    sim.nova.sync();
    assert.equal(s.vmState, "stopped", "Nova's power sync stopped it");
  };
  const settle = async (): Promise<void> => {
    await clock.advance(1_000);
    sim.nova.sync();
  };

  it("starts a protected VM that stopped by itself, leaves an unprotected one and a user-stopped one alone", async () => {
    const [crashed, unprotected, userStopped] = sim.nova.addServers([
      { name: "web-1", host: "compute-1", tags: ["ha"] },
      { name: "scratch", host: "compute-1" },
      { name: "web-2", host: "compute-2", tags: ["ha"] },
    ]);
    assert.ok(crashed && unprotected && userStopped);
    await crash(crashed);
    await crash(unprotected);
    sim.nova.stop(owner(), userStopped.id);
    await settle();

    await pass();
    await settle();
    assert.equal(crashed.vmState, "active", "restarted in place");
    assert.equal(crashed.host, "compute-1");
    assert.equal(unprotected.vmState, "stopped", "not protected: untouched");
    assert.equal(userStopped.vmState, "stopped", "stopped by its owner: untouched");
    const own = sim.nova.listInstanceActions(owner(), crashed.id).filter((a) => a.action === "start");
    assert.equal(own.length, 1);
    assert.equal(own[0]?.userId, session.tokenInfo()?.userId, "the start is recorded for vmkeeper's user");
    assert.deepEqual(events.map((e) => `${e.on} ${e.type} ${e.reason}`).sort(), ["keep Normal InstanceRestarted", "keep Normal StoppedByUser"]);
    assert.deepEqual(metrics, [{ policy: "keep", namespace: NS, action: "Start", result: "Accepted" }]);

    // Next pass: nothing new to do or say; the owner's VM's history comes from the cache.
    calls.length = 0;
    events.length = 0;
    await pass();
    assert.deepEqual(events, []);
    assert.deepEqual(calls.filter((c) => c.startsWith("listInstanceActions")), [], "no history read for an unchanged server");
  });

  it("hard-reboots when its start did not hold, then reports the exhausted budget once and stops", async () => {
    policies = [policy("keep", { restartBudget: { maxRecoveries: 2, windowSeconds: 3600 }, vmMonitoring: { minRestartIntervalSeconds: 0, minUptimeSeconds: 300 } })];
    const [vm] = sim.nova.addServers([{ name: "db-1", host: "compute-1", tags: ["ha"] }]);
    assert.ok(vm);
    await crash(vm);
    await pass();
    await settle();
    assert.equal(vm.vmState, "active");
    await crash(vm);
    await pass();
    await settle();
    assert.deepEqual(sim.nova.listInstanceActions(owner(), vm.id).filter((a) => a.action === "start" || a.action === "reboot").map((a) => a.action), ["reboot", "start"], "stopped again within minUptime: hard reboot");
    await crash(vm);
    await pass();
    await pass();
    assert.equal(vm.vmState, "stopped", "budget exhausted: left stopped");
    const warnings = events.filter((e) => e.type === "Warning");
    assert.deepEqual(warnings.map((e) => e.reason), ["RestartBudgetExhausted"]);
    assert.match(warnings[0]?.note ?? "", /2 of 2 recoveries in 3600 s/);
    assert.ok(metrics.some((m) => m.result === "BudgetExhausted" && m.action === "HardReboot"));
  });

  it("sends nothing when not leading, and skips instances of a host the host workflow owns", async () => {
    const [a, b] = sim.nova.addServers([
      { name: "a", host: "compute-1", tags: ["ha"] },
      { name: "b", host: "compute-2", tags: ["ha"] },
    ]);
    assert.ok(a && b);
    await crash(a);
    await crash(b);
    hosts = [computeHost("compute-1", "Failed"), computeHost("compute-2")];
    leader = false;
    await pass();
    await settle();
    assert.equal(a.vmState, "stopped");
    assert.equal(b.vmState, "stopped");
    assert.deepEqual(calls.filter((c) => c.startsWith("start") || c.startsWith("hardReboot")), []);
    leader = true;
    await pass();
    await settle();
    assert.equal(a.vmState, "stopped", "its host is Failed: the incident workflow decides");
    assert.equal(b.vmState, "active");
    assert.ok(!calls.includes(`listInstanceActions ${a.id}`), "no history read for a gated instance");
  });

  it("makes no Nova call at all for a cloud whose policies are all disabled or paused", async () => {
    policies = [policy("off", { mode: "Disabled" }), policy("paused", { paused: true }), policy("quiet", { vmMonitoring: { enabled: false } })];
    await pass();
    assert.deepEqual(calls, []);
  });
});

/** The NovaClient, with every call written down. */
function counting(nova: NovaClient, calls: string[]): InstanceRecoveryNova {
  return {
    listServers: (f, o) => (calls.push(`listServers ${f?.status ?? ""}`), nova.listServers(f, o)),
    listServerGroups: (f, o) => (calls.push("listServerGroups"), nova.listServerGroups(f, o)),
    listFlavors: (f, o) => (calls.push("listFlavors"), nova.listFlavors(f, o)),
    listInstanceActions: (id, f, o) => (calls.push(`listInstanceActions ${id}`), nova.listInstanceActions(id, f, o)),
    startServer: (id, o) => (calls.push(`startServer ${id}`), nova.startServer(id, o)),
    hardRebootServer: (id, o) => (calls.push(`hardRebootServer ${id}`), nova.hardRebootServer(id, o)),
  };
}
