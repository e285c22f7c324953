import assert from "node:assert/strict";
import type { Incident, IncidentInstanceState, IncidentPhase } from "../../../src/api/v1alpha1/index.js";
import type { MemberState } from "../../../src/server-group-messaging/link-messages.js";
import { deriveMemberState, type NovaMember } from "../../../src/server-group-messaging/member-state.js";

const ID = "11111111-2222-4333-8444-555555555555";

function member(vmState: string, host: string): NovaMember {
  return { instanceId: ID, server: { name: "db-1", vmState, status: vmState.toUpperCase(), host } };
}

function incident(phase: IncidentPhase, entry?: IncidentInstanceState): Incident {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "Incident",
    metadata: { name: "compute-1-3", namespace: "ns" },
    spec: { cloudRef: { name: "c" }, hostRef: { name: "c.compute-1" }, serviceHost: "compute-1", epoch: 3, trigger: "HostFailure", detectedAt: "2026-01-01T00:00:00Z" },
    status: { phase, ...(entry ? { instances: [{ id: ID, state: entry, targetHost: "compute-2" }] } : {}) },
  };
}

describe("server-group member state from Nova and the Incidents", () => {
  it("walks an evacuation as HostFailed, RecoveryStarted, RecoveryFinished, each once", () => {
    const steps: [NovaMember, Incident[]][] = [
      [member("active", "compute-1"), []],
      [member("active", "compute-1"), [incident("Confirmed")]],
      [member("active", "compute-1"), [incident("Fenced", "Pending")]],
      [member("active", "compute-1"), [incident("Evacuating", "Evacuating")]],
      [member("active", "compute-2"), [incident("Evacuating", "Verifying")]],
      [member("active", "compute-2"), [incident("Recovered", "Recovered")]],
      [member("active", "compute-2"), [incident("Recovered", "Recovered")]],
    ];
    let previous: MemberState | undefined;
    const changes: string[] = [];
    for (const [m, incidents] of steps) {
      const d = deriveMemberState(m, previous, incidents);
      if (previous !== undefined && d.state !== previous) changes.push(`${d.state}/${d.event}`);
      previous = d.state;
    }
    assert.deepEqual(changes, ["Error/HostFailed", "Recovering/RecoveryStarted", "Recovered/RecoveryFinished"]);
  });

  it("a member stopped after its recovery is Stopped, and Active (not Recovered) once started again", () => {
    const done = [incident("Recovered", "Recovered")];
    assert.equal(deriveMemberState(member("stopped", "compute-2"), "Recovered", done).state, "Stopped");
    assert.equal(deriveMemberState(member("active", "compute-2"), "Stopped", done).state, "Active");
  });

  it("maps Nova states, keeps the previous state for transitional ones, and says Deleted for a 404", () => {
    assert.equal(deriveMemberState(member("error", "h"), "Active", []).state, "Error");
    assert.equal(deriveMemberState(member("building", "h"), "Stopped", []).state, "Stopped");
    assert.equal(deriveMemberState(member("building", "h"), undefined, []).state, "Unknown");
    assert.deepEqual(deriveMemberState({ instanceId: ID, server: undefined }, "Active", []).event, "Deleted");
  });

  it("a failed recovery is an Error with the reason", () => {
    const d = deriveMemberState(member("active", "compute-1"), "Recovering", [incident("Failed", "Failed")]);
    assert.equal(d.state, "Error");
    assert.equal(d.event, "RecoveryFailed");
  });
});
