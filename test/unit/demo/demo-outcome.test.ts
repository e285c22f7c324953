import assert from "node:assert/strict";
import type { Incident, IncidentInstance } from "../../../src/api/v1alpha1/index.js";
import { checkOutcome, type OutcomeInput, type ServerView } from "../../../src/demo/demo-outcome.js";
import { formatSummary, phaseTimings } from "../../../src/demo/demo-summary.js";
import { TimelineTracker, formatEntry, type Snapshot } from "../../../src/demo/timeline.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const iso = (s: number): string => new Date(T0 + s * 1000).toISOString();

function incident(phase: string, instances: IncidentInstance[]): Incident {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "Incident",
    metadata: { name: "production.compute-0001-1" },
    spec: { cloudRef: { name: "production" }, hostRef: { name: "production.compute-0001" }, serviceHost: "compute-0001", epoch: 1, trigger: "HostFailure", detectedAt: iso(3), detectedBy: "vmkeeper-0" },
    status: { phase: phase as "Recovered", instances, timestamps: { confirmedAt: iso(3), fencingStartedAt: iso(3.2), fencedAt: iso(3.6), firstEvacuationAt: iso(3.8), recoveredAt: iso(6) } },
  };
}

const before: ServerView[] = [
  { id: "a", name: "vm-a", host: "compute-0001", status: "ACTIVE" },
  { id: "b", name: "vm-b", host: "compute-0001", status: "SHUTOFF" },
  { id: "c", name: "vm-c", host: "compute-0001", status: "ACTIVE" },
];
const recovered = (id: string, to: string): IncidentInstance => ({ id, name: `vm-${id}`, policy: "ha", state: "Recovered", targetHost: to, startedAt: iso(3.8), finishedAt: iso(6) });

function input(over: Partial<OutcomeInput>): OutcomeInput {
  return {
    incidents: [incident("Recovered", [recovered("a", "compute-0002"), recovered("b", "compute-0003"), { id: "c", name: "vm-c", policy: "rest", state: "Notified" }])],
    victim: "production.compute-0001",
    victimServiceHost: "compute-0001",
    before,
    after: [
      { id: "a", name: "vm-a", host: "compute-0002", status: "ACTIVE" },
      { id: "b", name: "vm-b", host: "compute-0003", status: "SHUTOFF" },
      { id: "c", name: "vm-c", host: "compute-0001", status: "ACTIVE" },
      { id: "d", name: "vm-d", host: "compute-0002", status: "ACTIVE" },
    ],
    groups: [{ name: "pair-1", policy: "anti-affinity", members: ["a", "d"] }],
    policyModes: { ha: "KeepRunning", rest: "NotifyOnly" },
    ...over,
  };
}

describe("demo outcome check", () => {
  it("accepts protected VMs running elsewhere (a stopped one stays stopped) and unprotected ones left alone", () => {
    const o = checkOutcome(input({ groups: [] }));
    assert.deepEqual(o, { failures: [], protectedCount: 2, recoveredCount: 2, reportedCount: 1 });
  });

  it("fails on a VM still on the dead host, a wrong state, two Incidents, a missing VM and an anti-affinity clash", () => {
    const base = input({});
    const o = checkOutcome({
      ...base,
      incidents: [...base.incidents, { ...incident("Recovered", []), metadata: { name: "production.compute-0002-1" }, spec: { ...incident("Recovered", []).spec, hostRef: { name: "production.compute-0002" } } }],
      before: [...before, { id: "e", name: "vm-e", host: "compute-0001", status: "ACTIVE" }],
      after: base.after.map((s) => (s.id === "a" ? { ...s, status: "ERROR" } : s.id === "b" ? { ...s, host: "compute-0001" } : s)),
    });
    assert.equal(o.recoveredCount, 0);
    assert.match(o.failures.join("\n"), /exactly one Incident, found 2/);
    assert.match(o.failures.join("\n"), /vm-e was on compute-0001 but is not in the Incident/);
    assert.match(o.failures.join("\n"), /vm-a: ERROR on compute-0002, expected ACTIVE/);
    assert.match(o.failures.join("\n"), /vm-b: still on compute-0001/);
    assert.match(o.failures.join("\n"), /anti-affinity group pair-1 has two members on one host/);
  });

  it("refuses a run in which nothing protected was on the host", () => {
    const o = checkOutcome(input({ policyModes: { ha: "NotifyOnly", rest: "NotifyOnly" }, groups: [] }));
    assert.match(o.failures.join("\n"), /no protected instance/);
  });

  it("measures each phase from the Incident's time stamps and the kill", () => {
    const p = phaseTimings(incident("Recovered", []), T0);
    assert.deepEqual(p.map((x) => [x.name.split(" ")[0], x.startS, x.durationS]), [
      ["detection", 0, 3],
      ["confirmation", 3, 0],
      ["fencing", 3.2, 0.4],
      ["evacuations", 3.8, 2.2],
      ["total", 0, 6],
    ]);
    assert.match(formatSummary(incident("Recovered", [recovered("a", "compute-0002")]), T0), /vm-a\s+ha\s+Recovered\s+compute-0002\s+2\.2 s/);
  });
});

describe("demo timeline", () => {
  const host = (health: string) => ({ apiVersion: "ha.vmkeeper.dev/v1alpha1" as const, kind: "ComputeHost" as const, metadata: { name: "production.compute-0001" }, spec: { cloudRef: { name: "production" }, serviceHost: "compute-0001" }, status: { health: { state: health as "Healthy", since: iso(1) } } });
  const snap = (s: Partial<Snapshot>): Snapshot => ({ atMs: T0 + 5000, incidents: [], hosts: [], events: [], ...s });

  it("reports each Event once, host transitions, and each instance reaching a final state", () => {
    const t = new TimelineTracker(["production.compute-0001"]);
    t.baseline(snap({ hosts: [host("Healthy")], events: [{ metadata: { uid: "old" }, reason: "HostDiscovered", note: "x" }] }));
    const first = t.observe(snap({ hosts: [host("Suspect")], events: [{ metadata: { uid: "e1" }, reason: "PowerOff", type: "Normal", note: "fenced", eventTime: iso(4) }] }));
    assert.deepEqual(first.map((e) => [e.kind, e.text.split(" (")[0]]), [["host", "compute-0001 health Healthy -> Suspect"], ["fence", "PowerOff: fenced"]]);
    const inc = incident("Evacuating", [{ id: "a", name: "vm-a", policy: "ha", state: "Evacuating" }]);
    const second = t.observe(snap({ hosts: [host("Suspect")], incidents: [inc], events: [{ metadata: { uid: "e1" }, reason: "PowerOff" }] }));
    assert.deepEqual(second.map((e) => e.text), ["Incident production.compute-0001-1 created by vmkeeper-0: ", "Incident production.compute-0001-1 phase Evacuating"]);
    const third = t.observe(snap({ incidents: [incident("Evacuating", [recovered("a", "compute-0002")])] }));
    assert.deepEqual(third.map((e) => e.text), ["vm-a (ha) ACTIVE again on compute-0002 in 2.2 s"]);
    assert.equal(formatEntry(third[0] ?? { atMs: 0, kind: "event", text: "" }, T0, false), "   +6.0s  recovered vm-a (ha) ACTIVE again on compute-0002 in 2.2 s");
  });
});
