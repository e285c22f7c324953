import assert from "node:assert/strict";
import type { ComputeHost, Incident, IncidentStatus, InstanceHAPolicy } from "../../../../src/api/v1alpha1/index.js";
import type { FencingProvider } from "../../../../src/controllers/incident/fencing-provider.js";
import { IncidentReconciler } from "../../../../src/controllers/incident/incident-reconciler.js";
import type { IncidentNotifier } from "../../../../src/controllers/incident/incident-notifier.js";
import { NotificationDeliveries } from "../../../../src/controllers/incident/notification-deliveries.js";
import { PolicyProtectionSource } from "../../../../src/controllers/incident/policy-protection-source.js";
import type { ReconcileContext, ReconcileResult } from "../../../../src/kube/controller.js";
import type { EventRecorder } from "../../../../src/kube/event-recorder.js";
import { parseCloudsYaml } from "../../../../src/openstack/clouds-config.js";
import { KeystoneSession } from "../../../../src/openstack/keystone-session.js";
import { NodeHttpTransport } from "../../../../src/openstack/node-http-transport.js";
import { NovaClient } from "../../../../src/openstack/nova-client.js";
import { cloudsYaml } from "../../../../src/sim/clouds-yaml.js";
import { createSimCloud, type SimCloud } from "../../../../src/sim/sim-cloud.js";
import { SimServer } from "../../../../src/sim/sim-server.js";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { silentLogger } from "../../../../src/util/logger.js";

const NS = "ha";
const SPARE_REASON = "spare for HA";

function policy(recovery: NonNullable<InstanceHAPolicy["spec"]["recovery"]>): InstanceHAPolicy {
  return { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "InstanceHAPolicy", metadata: { name: "keep", namespace: NS, uid: "uid-keep" }, spec: { cloudRef: { name: "lab" }, mode: "KeepRunning", selector: { tags: ["ha"] }, recovery: { localDisk: "RebuildFromImage", ...recovery } } };
}

function computeHost(serviceHost: string, health = "Healthy"): ComputeHost {
  return { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "ComputeHost", metadata: { name: `lab.${serviceHost}`, namespace: NS }, spec: { cloudRef: { name: "lab" }, serviceHost }, status: { health: { state: health as "Healthy" } } };
}

/** The Incident in a store that refuses stale writes (compare-and-swap on resourceVersion) and keeps every status written. */
class IncidentStore {
  obj: Incident;
  readonly writes: IncidentStatus[] = [];
  onWrite: ((s: IncidentStatus) => void) | undefined;

  constructor(phase: IncidentStatus["phase"], extra: IncidentStatus = {}) {
    this.obj = {
      apiVersion: "ha.vmkeeper.dev/v1alpha1",
      kind: "Incident",
      metadata: { name: "lab.compute-1-1", namespace: NS, uid: "uid-inc", resourceVersion: "1" },
      spec: { cloudRef: { name: "lab" }, hostRef: { name: "lab.compute-1" }, serviceHost: "compute-1", epoch: 1, trigger: "HostFailure", detectedAt: "2026-11-22T10:00:00Z" },
      status: { phase, ...extra },
    };
  }

  get = async (): Promise<Incident | undefined> => structuredClone(this.obj);

  updateStatus = async (o: Incident): Promise<Incident> => {
    assert.equal(o.metadata?.resourceVersion, this.obj.metadata?.resourceVersion, "a stale write (409)");
    this.onWrite?.(structuredClone(o.status ?? {}));
    this.writes.push(structuredClone(o.status ?? {}));
    this.obj = { ...structuredClone(o), metadata: { ...o.metadata, resourceVersion: String(Number(o.metadata?.resourceVersion) + 1) } };
    return structuredClone(this.obj);
  };
}

describe("IncidentReconciler (against the simulator over HTTP)", () => {
  let clock: FakeClock;
  let sim: SimCloud;
  let server: SimServer;
  let nova: NovaClient;
  let hosts: ComputeHost[];
  let policies: InstanceHAPolicy[];
  let store: IncidentStore;
  let told: string[];
  let hostPatches: { name: string; patch: Record<string, unknown> }[];
  let deliveries: NotificationDeliveries;
  const ctx = (): ReconcileContext => ({ log: silentLogger(), reconcileID: "r", signal: new AbortController().signal });

  beforeEach(async () => {
    clock = new FakeClock(new Date("2026-11-22T10:00:00Z"));
    sim = createSimCloud(clock, { seed: "incident", nova: { evacuationDurationMs: 2000, schedulingDelayMs: 100 } });
    sim.nova.addHosts(["compute-1", "compute-2", "compute-3"].map((name) => ({ name })));
    server = new SimServer(sim, { host: "127.0.0.1", port: 0 });
    await server.start();
    const yaml = cloudsYaml({ cloudName: "lab", authUrl: server.authUrl, region: sim.keystone.region, auth: { kind: "password", username: "admin", password: "admin-secret", projectName: "admin" } });
    const session = new KeystoneSession({ cloud: parseCloudsYaml(yaml, { cloudName: "lab", env: {} }), transport: new NodeHttpTransport({}), clock, logger: silentLogger() });
    nova = new NovaClient({ session, clock, logger: silentLogger() });
    hosts = ["compute-1", "compute-2", "compute-3"].map((h) => computeHost(h));
    told = [];
    hostPatches = [];
    deliveries = new NotificationDeliveries();
  });

  afterEach(async () => {
    await server.stop();
  });

  function reconciler(): IncidentReconciler {
    const notifier: IncidentNotifier = {
      incidentDetected: async () => void told.push("detected"),
      incidentSuppressed: async () => void told.push("suppressed"),
      incidentFinished: async (i) => void told.push(i.status?.phase ?? "?"),
    };
    const events: EventRecorder = { record: () => Promise.resolve() };
    const fencing: FencingProvider = { fence: () => Promise.resolve({ kind: "NotConfigured", message: "no HostFencing selects the host" }) };
    return new IncidentReconciler({
      incidents: store,
      getHost: (_ns, name) => hosts.find((h) => h.metadata?.name === name),
      novaFor: () => nova,
      protection: new PolicyProtectionSource({ listPolicies: () => policies, listHosts: () => hosts, listIncidents: () => [], novaFor: () => nova, clock }),
      fencing,
      notifier,
      events,
      clock,
      leader: () => ({ identity: "test", leaseEpoch: 1 }),
      listIncidents: () => [store.obj],
      patchHostStatus: async (_ns, name, patch) => void hostPatches.push({ name, patch }),
      deliveries,
    });
  }

  /** Reconciles as the controller would: again after requeueAfter, with the simulator's clock moving. */
  async function runUntil(r: IncidentReconciler, done: () => boolean, maxPasses = 60): Promise<void> {
    for (let i = 0; i < maxPasses && !done(); i++) {
      const res: ReconcileResult | void = await r.reconcile({ key: `${NS}/lab.compute-1-1`, namespace: NS, name: "lab.compute-1-1" }, ctx());
      await clock.advance(Math.max(res?.requeueAfterMs ?? 1000, 200));
      sim.nova.sync();
    }
    assert.ok(done(), `not done after ${maxPasses} passes: ${JSON.stringify(store.obj.status)}`);
  }

  it("tells the owners of a Suppressed incident once, with its instances, and does nothing else", async () => {
    policies = [policy({})];
    sim.nova.addServers([{ name: "db-1", host: "compute-1", tags: ["ha"] }]);
    store = new IncidentStore("Suppressed", { gate: { name: "StormThreshold", reason: "StormThreshold", message: "too many" } });
    const r = reconciler();
    await r.reconcile({ key: `${NS}/lab.compute-1-1`, namespace: NS, name: "lab.compute-1-1" }, ctx());
    await r.reconcile({ key: `${NS}/lab.compute-1-1`, namespace: NS, name: "lab.compute-1-1" }, ctx());
    assert.deepEqual(told, ["suppressed"]);
    const status = store.obj.status ?? {};
    assert.equal(status.phase, "Suppressed");
    assert.equal(typeof status.notification?.suppressedSentAt, "string");
    assert.equal(status.notification?.sentAt, undefined, "the detected notification is still due when the gate opens");
    assert.deepEqual(status.instances?.map((i) => [i.name, i.state]), [["db-1", "Pending"]]);
    assert.equal(sim.nova.hosts.get("compute-1")?.service.forcedDown, false, "nothing done in Nova");
  });

  it("writes webhook deliveries to status.notification with its own CAS write, keeping the workflow's marks", async () => {
    policies = [policy({})];
    store = new IncidentStore("Recovered", { notification: { sentAt: "2026-11-22T10:00:01Z" } });
    deliveries.report(`${NS}/keep`, { eventId: "lab.compute-1-1/detected/keep", type: "dev.vmkeeper.incident.detected", subject: "lab.compute-1-1", outcome: "delivered", enqueuedAt: new Date("2026-11-22T10:00:01Z"), attempts: 2, deliveredAt: new Date("2026-11-22T10:00:03Z") });
    await reconciler().reconcile({ key: `${NS}/lab.compute-1-1`, namespace: NS, name: "lab.compute-1-1" }, ctx());
    assert.deepEqual(store.obj.status?.notification, { sentAt: "2026-11-22T10:00:01Z", deliveredAt: "2026-11-22T10:00:03.000Z", attempts: 2 });
    assert.equal(deliveries.take(`${NS}/lab.compute-1-1`), undefined, "acknowledged once written");
  });

  it("records the reserved host, enables it only after the intent is written, evacuates to it without force, and returns the failed host automatically", async () => {
    policies = [policy({ methods: ["ReservedHost", "Evacuate"], reservedHosts: ["lab.compute-3"], hostReenable: "Automatic", unsafeSkipPowerFencing: true, lockInstances: false })];
    const spare = sim.nova.hosts.get("compute-3")?.service;
    assert.ok(spare);
    sim.nova.updateService(spare.uuid, { status: "disabled", disabledReason: SPARE_REASON });
    const [db] = sim.nova.addServers([{ name: "db-1", host: "compute-1", tags: ["ha"] }]);
    assert.ok(db);
    sim.nova.killHost("compute-1");
    hosts[0] = computeHost("compute-1", "Failed");
    store = new IncidentStore("Confirmed");
    store.onWrite = (s) => {
      if (s.intent?.action === "EnableReservedHost") {
        assert.equal(s.intent.target, "lab.compute-3");
        assert.deepEqual(s.reservedHosts?.map((h) => h.name), ["lab.compute-3"], "the choice is recorded with the intent");
        assert.equal(spare.disabled, true, "intent first: the spare is still disabled when the intent is written");
      }
    };
    const r = reconciler();
    await runUntil(r, () => store.obj.status?.phase === "Recovered");
    assert.equal(db.host, "compute-3");
    assert.equal(spare.disabled, false);
    assert.deepEqual(store.obj.status?.instances?.map((i) => [i.method, i.targetHost]), [["ReservedHost", "compute-3"]]);
    assert.ok(store.writes.some((w) => w.intent?.action === "Evacuate"));
    assert.deepEqual(told, ["detected", "Recovered"]);
    assert.equal(store.obj.status?.hostReturn?.state, "WaitingForHost");
    assert.deepEqual(hostPatches.at(-1), { name: "lab.compute-1", patch: { hostReturn: { incidentRef: { name: "lab.compute-1-1" }, mode: "Automatic", state: "WaitingForHost", message: store.obj.status?.hostReturn?.message } } });

    // The host is still dead: nothing changes however often the incident is looked at.
    for (let i = 0; i < 3; i++) {
      const res = await r.reconcile({ key: `${NS}/lab.compute-1-1`, namespace: NS, name: "lab.compute-1-1" }, ctx());
      assert.equal(res?.requeueAfterMs, 5000, "followed while the host is away");
      await clock.advance(5_000);
    }
    const svc = sim.nova.hosts.get("compute-1")?.service;
    assert.deepEqual([svc?.forcedDown, svc?.disabled], [true, true]);
    assert.equal(store.obj.status?.hostReturn?.state, "WaitingForHost");

    // It comes back: agent heartbeats (Degraded while forced down) and nova-compute reports.
    await clock.advance(5_000);
    sim.nova.restoreHost("compute-1");
    hosts[0] = computeHost("compute-1", "Degraded");
    await runUntil(r, () => store.obj.status?.hostReturn?.state === "Reenabled");
    assert.deepEqual([svc?.forcedDown, svc?.disabled], [false, false]);
    const lift = store.writes.findIndex((w) => w.intent?.action === "LiftForceDown");
    const enable = store.writes.findIndex((w) => w.intent?.action === "EnableService");
    assert.ok(lift >= 0 && enable > lift, "force-down lifted first, then enabled, each after its intent");
    assert.equal(store.obj.status?.phase, "Recovered");
    assert.equal(store.obj.status?.conditions?.find((c) => c.type === "HostReenabled")?.status, "True");
    assert.equal((hostPatches.at(-1)?.patch.hostReturn as { state?: string } | undefined)?.state, "Reenabled");
  });
  it("Manual: leaves the host forced down and disabled, says so on the Incident and the ComputeHost, and notices when a person returned it", async () => {
    policies = [policy({ unsafeSkipPowerFencing: true, lockInstances: false })];
    sim.nova.addServers([{ name: "db-1", host: "compute-1", tags: ["ha"] }]);
    sim.nova.killHost("compute-1");
    store = new IncidentStore("Confirmed");
    const r = reconciler();
    await runUntil(r, () => store.obj.status?.phase === "Recovered");
    assert.equal(store.obj.status?.hostReturn?.state, "WaitingForPerson");
    assert.match(store.obj.status?.hostReturn?.message ?? "", /openstack compute service set --up --enable compute-1 nova-compute/);
    assert.equal((hostPatches.at(-1)?.patch.hostReturn as { state?: string } | undefined)?.state, "WaitingForPerson");
    const svc = sim.nova.hosts.get("compute-1")?.service;
    assert.deepEqual([svc?.forcedDown, svc?.disabled], [true, true]);
    const current = hosts[0];
    assert.ok(current && svc);
    // The inventory has not caught up yet: its copy still shows the host before it failed.
    const before = new Date(Date.parse(store.obj.status?.hostReturn?.serviceUpdatedAt ?? "") - 30_000).toISOString();
    hosts[0] = { ...current, status: { ...current.status, nova: { serviceId: svc.uuid, state: "Up", status: "Enabled", forcedDown: false, updatedAt: before } } };
    await r.reconcile({ key: `${NS}/lab.compute-1-1`, namespace: NS, name: "lab.compute-1-1" }, ctx());
    assert.equal(store.obj.status?.hostReturn?.state, "WaitingForPerson", "a stale inventory copy is not a person's change");
    // A person returns the host; the inventory mirrors Nova on the ComputeHost.
    await clock.advance(5_000);
    sim.nova.restoreHost("compute-1");
    sim.nova.updateService(svc.uuid, { forcedDown: false, status: "enabled" });
    hosts[0] = { ...current, status: { ...current.status, nova: { serviceId: svc.uuid, state: "Up", status: "Enabled", forcedDown: false, updatedAt: clock.now().toISOString() } } };
    const res = await r.reconcile({ key: `${NS}/lab.compute-1-1`, namespace: NS, name: "lab.compute-1-1" }, ctx());
    assert.equal(res, undefined, "nothing left to follow");
    assert.equal(store.obj.status?.hostReturn?.state, "Reenabled");
    assert.match(store.obj.status?.hostReturn?.message ?? "", /re-enabled by a person/);
  });

  it("evacuates a pass's instances together, each locked right before: one intent naming them all before Nova is asked", async () => {
    policies = [policy({ unsafeSkipPowerFencing: true, lockInstances: true, maxConcurrentEvacuations: 8, maxConcurrentEvacuationsPerTargetHost: 4 })];
    const servers = sim.nova.addServers(["a", "b", "c", "d", "e"].map((n) => ({ name: `vm-${n}`, host: "compute-1", tags: ["ha"] })));
    sim.nova.killHost("compute-1");
    hosts[0] = computeHost("compute-1", "Failed");
    store = new IncidentStore("Confirmed");
    store.onWrite = (st) => {
      if (st.intent?.action !== "Evacuate") return;
      for (const id of st.intent.targets ?? []) {
        const s = servers.find((x) => x.id === id);
        assert.equal(s?.host, "compute-1", "intent first: nothing has moved when the batch's intent is written");
        assert.equal(s?.locked, false, "intent first: not locked yet");
      }
    };
    await runUntil(reconciler(), () => store.obj.status?.phase === "Recovered");
    const batches = store.writes.filter((w) => w.intent?.action === "Evacuate" || w.intent?.action === "LockInstance").map((w) => `${w.intent?.action} ${w.intent?.targets?.length ?? 0}`);
    // The per-target cap (4) counts not-yet-placed evacuations against one host: four go at
    // once, the fifth once Nova has placed them.
    assert.deepEqual(batches.slice(0, 1), ["Evacuate 4"]);
    assert.equal(store.writes.filter((w) => w.intent?.action === "Evacuate").reduce((n, w) => n + (w.intent?.targets?.length ?? 0), 0), 5, "each instance evacuated once");
    for (const s of servers) {
      assert.notEqual(s.host, "compute-1");
      const actions = await nova.listInstanceActions(s.id);
      assert.equal(actions.filter((a) => a.action === "evacuate").length, 1, `${s.name}: one evacuate`);
      const lockedAt = actions.find((a) => a.action === "lock")?.startTime ?? "";
      const evacuatedAt = actions.find((a) => a.action === "evacuate")?.startTime ?? "";
      assert.ok(lockedAt !== "" && lockedAt <= evacuatedAt, `${s.name}: locked before its evacuation`);
      assert.equal(s.locked, false, `${s.name}: unlocked after the recovery`);
    }
  });

  it("resumes a batch a dead process left: what Nova accepted is not sent again, the rest is", async () => {
    policies = [policy({ unsafeSkipPowerFencing: true, lockInstances: false })];
    const [a, b] = sim.nova.addServers([{ name: "vm-a", host: "compute-1", tags: ["ha"] }, { name: "vm-b", host: "compute-1", tags: ["ha"] }]);
    assert.ok(a && b);
    sim.nova.killHost("compute-1");
    const svc = sim.nova.hosts.get("compute-1")?.service;
    assert.ok(svc);
    sim.nova.updateService(svc.uuid, { forcedDown: true, status: "disabled", disabledReason: "vmkeeper: host failure, incident lab.compute-1-1" });
    hosts[0] = computeHost("compute-1", "Failed");
    const recordedAt = clock.now().toISOString();
    store = new IncidentStore("Evacuating", {
      notification: { sentAt: recordedAt },
      fencing: { unsafeSkipped: true, forcedDown: true, serviceDisabled: true, attempts: 1 },
      timestamps: { confirmedAt: recordedAt, fencedAt: recordedAt },
      instances: [a, b].map((s) => ({ id: s.id, name: s.name, policy: "keep", tier: "default", state: "Pending" as const, attempts: 0 })),
      intent: { action: "Evacuate", targets: [a.id, b.id], recordedAt },
    });
    // The dead process got vm-a's evacuation accepted, then died before writing the result.
    await clock.advance(100);
    await nova.evacuateServer(a.id);
    await runUntil(reconciler(), () => store.obj.status?.phase === "Recovered");
    for (const s of [a, b]) {
      const actions = await nova.listInstanceActions(s.id);
      assert.equal(actions.filter((x) => x.action === "evacuate").length, 1, `${s.name}: exactly one evacuate`);
      assert.notEqual(s.host, "compute-1");
    }
  });

  it("keeps the intent for the part of a batch whose answer never came, and asks Nova before sending it again", async () => {
    policies = [policy({ unsafeSkipPowerFencing: true, lockInstances: false })];
    const servers = sim.nova.addServers([{ name: "vm-a", host: "compute-1", tags: ["ha"] }, { name: "vm-b", host: "compute-1", tags: ["ha"] }]);
    sim.nova.killHost("compute-1");
    hosts[0] = computeHost("compute-1", "Failed");
    store = new IncidentStore("Confirmed");
    // One evacuate call gets a 503 (Nova may or may not have acted: outcome unknown).
    sim.faults.setRules([{ match: "POST */servers/*/action", errorRate: 1, errorStatus: 503, count: 1 }]);
    const r = reconciler();
    let failedPasses = 0;
    for (let i = 0; i < 60 && store.obj.status?.phase !== "Recovered"; i++) {
      try {
        const res = await r.reconcile({ key: `${NS}/lab.compute-1-1`, namespace: NS, name: "lab.compute-1-1" }, ctx());
        await clock.advance(Math.max(res?.requeueAfterMs ?? 1000, 200));
      } catch {
        failedPasses++;
        const intent = store.obj.status?.intent;
        assert.equal(intent?.action, "Evacuate", "the unknown part's intent stays");
        assert.equal(intent?.targets?.length, 1, "narrowed to the part whose answer never came");
        await clock.advance(1000);
      }
      sim.nova.sync();
    }
    assert.equal(store.obj.status?.phase, "Recovered");
    assert.equal(failedPasses, 1);
    for (const s of servers) {
      const actions = await nova.listInstanceActions(s.id);
      assert.equal(actions.filter((x) => x.action === "evacuate").length, 1, `${s.name}: exactly one evacuate`);
    }
  });
});
