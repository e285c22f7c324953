import assert from "node:assert/strict";
import type { ComputeHost, InstanceHAPolicy } from "../../../../src/api/v1alpha1/index.js";
import type { GuestHealthReport } from "../../../../src/agent/reports/agent-report.js";
import { AgentReportTable } from "../../../../src/agent-reports/report-table.js";
import { GuestActionsReconciler, type GuestVotes } from "../../../../src/controllers/guest-actions/guest-actions-reconciler.js";
import { reportedStopCause } from "../../../../src/controllers/guest-actions/pending-triggers.js";
import type { ReconcileContext } from "../../../../src/kube/controller.js";
import type { EventRecorder, EventType } from "../../../../src/kube/event-recorder.js";
import type { KubeObject } from "../../../../src/kube/resource-type.js";
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

function policy(spec: Partial<InstanceHAPolicy["spec"]> = {}): InstanceHAPolicy {
  return { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "InstanceHAPolicy", metadata: { name: "guests", namespace: NS, uid: "uid-guests" }, spec: { cloudRef: { name: "lab" }, mode: "KeepRunning", selector: { tags: ["ha"] }, guestMonitoring: { enabled: true, action: "Reboot", minUptimeSeconds: 0 }, ...spec } };
}
const computeHost = (name: string): ComputeHost => ({ apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "ComputeHost", metadata: { name: `lab.${name}`, namespace: NS }, spec: { cloudRef: { name: "lab" }, serviceHost: name }, status: { health: { state: "Healthy" } } });

describe("GuestActionsReconciler (against the simulator over HTTP)", () => {
  let clock: FakeClock;
  let sim: SimCloud;
  let server: SimServer;
  let nova: NovaClient;
  let session: KeystoneSession;
  let table: AgentReportTable;
  let events: { type: EventType; reason: string; note: string }[];
  let metrics: string[];
  let policies: InstanceHAPolicy[];
  let leader: boolean;
  const ctx = (): ReconcileContext => ({ log: silentLogger(), reconcileID: "r", signal: new AbortController().signal });

  beforeEach(async () => {
    clock = new FakeClock(new Date("2026-11-22T10:00:00Z"));
    sim = createSimCloud(clock, { seed: "guest-actions", nova: { powerActionDurationMs: 500 } });
    sim.nova.addHosts([{ name: "compute-1" }]);
    server = new SimServer(sim, { host: "127.0.0.1", port: 0 });
    await server.start();
    const yaml = cloudsYaml({ cloudName: "lab", authUrl: server.authUrl, region: sim.keystone.region, auth: { kind: "password", username: "vmkeeper", password: "vmkeeper-secret", projectName: "admin" } });
    session = new KeystoneSession({ cloud: parseCloudsYaml(yaml, { cloudName: "lab", env: {} }), transport: new NodeHttpTransport({}), clock, logger: silentLogger() });
    nova = new NovaClient({ session, clock, logger: silentLogger() });
    table = new AgentReportTable();
    events = [];
    metrics = [];
    policies = [policy()];
    leader = true;
  });
  afterEach(async () => server.stop());

  const reconciler = (votes?: GuestVotes): GuestActionsReconciler => {
    const recorder: EventRecorder = { record: (_on: KubeObject, type: EventType, reason: string, _a: string, note: string) => (events.push({ type, reason, note }), Promise.resolve()) };
    return new GuestActionsReconciler({
      table,
      allHosts: () => [computeHost("compute-1")],
      listHosts: () => [computeHost("compute-1")],
      listPolicies: () => policies,
      listIncidents: () => [],
      novaFor: () => nova,
      selfUserId: () => session.tokenInfo()?.userId,
      events: recorder,
      clock,
      isLeader: () => leader,
      metrics: (m) => metrics.push(`${m.action}/${m.result}`),
      ...(votes ? { votes } : {}),
    });
  };
  const report = (id: string, state: GuestHealthReport["state"] = "Unresponsive"): GuestHealthReport => ({ kind: "GuestHealth", host: "compute-1", instanceUuid: id, state, intervalMs: 1000, threshold: 3, at: clock.now().toISOString() });
  const reboots = (id: string): number => sim.nova.listInstanceActions({ userId: "test", projectId: "admin", isAdmin: true, requestId: "req-test" }, id).filter((a) => a.action === "reboot").length;

  it("hard-reboots an unresponsive protected guest once per report, also across a new leader", async () => {
    const [vm] = sim.nova.addServers([{ name: "web-1", host: "compute-1", tags: ["ha"] }]);
    assert.ok(vm);
    await clock.advance(1000);
    table.put(report(vm.id), 0);
    const r = reconciler();
    await r.reconcile({ key: vm.id, namespace: undefined, name: vm.id }, ctx());
    assert.equal(reboots(vm.id), 1);
    assert.deepEqual(events.map((e) => e.reason), ["GuestUnresponsive", "GuestRebooted"]);
    assert.deepEqual(metrics, ["Reboot/Accepted"]);
    await clock.advance(2000);
    sim.nova.sync();
    await r.reconcile({ key: vm.id, namespace: undefined, name: vm.id }, ctx());
    // A new leader with the same (warm) table: Nova's record says the report was dealt with.
    await reconciler().reconcile({ key: vm.id, namespace: undefined, name: vm.id }, ctx());
    assert.equal(reboots(vm.id), 1, "one reboot per report epoch");
    // A new report (a later epoch) is acted on again.
    await clock.advance(5000);
    table.put(report(vm.id), 0);
    await r.reconcile({ key: vm.id, namespace: undefined, name: vm.id }, ctx());
    assert.equal(reboots(vm.id), 2);
  });

  it("sends nothing while not leading, and nothing for a guest that is healthy again", async () => {
    const [vm] = sim.nova.addServers([{ name: "web-1", host: "compute-1", tags: ["ha"] }]);
    assert.ok(vm);
    await clock.advance(1000);
    table.put(report(vm.id), 0);
    leader = false;
    await reconciler().reconcile({ key: vm.id, namespace: undefined, name: vm.id }, ctx());
    assert.equal(reboots(vm.id), 0);
    leader = true;
    await clock.advance(1000);
    table.put(report(vm.id, "Healthy"), 0);
    await reconciler().reconcile({ key: vm.id, namespace: undefined, name: vm.id }, ctx());
    assert.equal(reboots(vm.id), 0);
    assert.deepEqual(events, []);
  });

  describe("asking the guest to vote first (Unhealthy reports)", () => {
    /** A guest that answers every ask with the next scripted outcome (none: it never answers). */
    const scriptedVotes = (outcomes: ("Accepted" | "Refused" | undefined)[], connected = true) => {
      const asked: { instanceId: string; actionId: string; action: string; deadlineMs: number }[] = [];
      const answered = new Map<string, { outcome: "Accepted" | "Refused"; reason?: string }>();
      const votes: GuestVotes = {
        ask: (instanceId, r) => {
          if (!connected) return false;
          asked.push({ instanceId, actionId: r.actionId, action: r.action, deadlineMs: r.deadlineMs });
          const outcome = outcomes.shift();
          if (outcome) answered.set(r.actionId, { outcome, ...(outcome === "Refused" ? { reason: "draining connections" } : {}) });
          return true;
        },
        vote: (actionId) => answered.get(actionId),
      };
      return { votes, asked };
    };
    const key = (id: string) => ({ key: id, namespace: undefined, name: id });

    it("reboots once the guest accepts, saying so in the Event", async () => {
      const [vm] = sim.nova.addServers([{ name: "web-1", host: "compute-1", tags: ["ha"] }]);
      assert.ok(vm);
      await clock.advance(1000);
      table.put({ ...report(vm.id, "Unhealthy"), reason: "check disk: exit 1" }, 0);
      const { votes, asked } = scriptedVotes(["Accepted"]);
      await reconciler(votes).reconcile(key(vm.id), ctx());
      assert.deepEqual(asked.map((a) => [a.instanceId, a.action, a.deadlineMs]), [[vm.id, "reboot", 10_000]]);
      assert.equal(reboots(vm.id), 1);
      assert.match(events.at(-1)?.note ?? "", /the guest accepted it/);
    });

    it("holds the action while the guest refuses, records the refusal once, and asks again a minute later", async () => {
      const [vm] = sim.nova.addServers([{ name: "web-1", host: "compute-1", tags: ["ha"] }]);
      assert.ok(vm);
      await clock.advance(1000);
      table.put({ ...report(vm.id, "Unhealthy"), reason: "check disk: exit 1" }, 0);
      const { votes, asked } = scriptedVotes(["Refused", "Accepted"]);
      const r = reconciler(votes);
      const first = await r.reconcile(key(vm.id), ctx());
      assert.equal(reboots(vm.id), 0);
      assert.deepEqual(events.map((e) => e.reason), ["GuestActionRefused"]);
      assert.match(events[0]?.note ?? "", /draining connections/);
      assert.deepEqual(metrics, ["Reboot/RefusedByGuest"]);
      assert.ok(first && first.requeueAfterMs !== undefined && first.requeueAfterMs >= 59_000);
      await r.reconcile(key(vm.id), ctx());
      assert.equal(events.length, 1, "one Event per refusal");
      await clock.advance(60_000);
      await r.reconcile(key(vm.id), ctx());
      assert.equal(asked.length, 2);
      assert.notEqual(asked[0]?.actionId, asked[1]?.actionId);
      assert.equal(reboots(vm.id), 1);
    });

    it("goes ahead when no vote comes within the timeout, or when no agent link has the guest", async () => {
      const [a, b] = sim.nova.addServers([{ name: "web-1", host: "compute-1", tags: ["ha"] }, { name: "web-2", host: "compute-1", tags: ["ha"] }]);
      assert.ok(a && b);
      await clock.advance(1000);
      table.put({ ...report(a.id, "Unhealthy"), reason: "x" }, 0);
      const silent = scriptedVotes([undefined]);
      const r = reconciler(silent.votes);
      const wait = await r.reconcile(key(a.id), ctx());
      assert.equal(reboots(a.id), 0);
      assert.equal(wait?.requeueAfterMs, 15_000, "vote timeout 10 s + 5 s transport grace");
      await clock.advance(15_000);
      await r.reconcile(key(a.id), ctx());
      assert.equal(reboots(a.id), 1);
      assert.match(events.at(-1)?.note ?? "", /no vote arrived within 10 s/);
      table.put({ ...report(b.id, "Unhealthy"), reason: "x" }, 0);
      await reconciler(scriptedVotes([], false).votes).reconcile(key(b.id), ctx());
      assert.equal(reboots(b.id), 1);
      assert.match(events.at(-1)?.note ?? "", /not asked to vote/);
    });

    it("does not ask an Unresponsive guest, nor when the policy turns voting off", async () => {
      const [a, b] = sim.nova.addServers([{ name: "web-1", host: "compute-1", tags: ["ha"] }, { name: "web-2", host: "compute-1", tags: ["ha"] }]);
      assert.ok(a && b);
      await clock.advance(1000);
      const { votes, asked } = scriptedVotes([]);
      table.put(report(a.id, "Unresponsive"), 0);
      await reconciler(votes).reconcile(key(a.id), ctx());
      policies = [policy({ guestMonitoring: { enabled: true, action: "Reboot", minUptimeSeconds: 0, voteTimeoutSeconds: 0 } })];
      table.put({ ...report(b.id, "Unhealthy"), reason: "x" }, 0);
      await reconciler(votes).reconcile(key(b.id), ctx());
      assert.deepEqual(asked, []);
      assert.equal(reboots(a.id) + reboots(b.id), 2);
    });
  });

  it("leaves an unprotected instance alone", async () => {
    const [vm] = sim.nova.addServers([{ name: "scratch", host: "compute-1" }]);
    assert.ok(vm);
    await clock.advance(1000);
    table.put(report(vm.id), 0);
    await reconciler().reconcile({ key: vm.id, namespace: undefined, name: vm.id }, ctx());
    assert.equal(reboots(vm.id), 0);
    assert.deepEqual(events, []);
  });

  it("tells instance recovery why a domain stopped, while that is its newest event", () => {
    const id = "a0000000-0000-4000-8000-000000000001";
    const ev = (event: "Crashed" | "GuestShutdown" | "Started", sec: number) => table.put({ kind: "DomainEvent", host: "compute-1", instanceUuid: id, domainName: "instance-1", event, detail: "", at: new Date(Date.UTC(2026, 0, 1, 0, 0, sec)).toISOString() }, 0);
    ev("GuestShutdown", 1);
    assert.equal(reportedStopCause(table.get(id)), "GuestShutdown");
    ev("Started", 2);
    assert.equal(reportedStopCause(table.get(id)), undefined);
    ev("Crashed", 3);
    assert.equal(reportedStopCause(table.get(id)), "Crash");
  });
});
