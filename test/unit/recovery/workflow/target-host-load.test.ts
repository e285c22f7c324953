import assert from "node:assert/strict";
import type { IncidentInstance } from "../../../../src/api/v1alpha1/index.js";
import { observedTarget, targetHostBusy, targetHostLoad } from "../../../../src/recovery/workflow/target-host-load.js";
import type { InstanceNovaState } from "../../../../src/recovery/workflow/workflow-model.js";

const nova = (id: string, host: string, evacuationTarget?: string): InstanceNovaState => ({ id, host, status: "REBUILD", taskState: "rebuilding", locked: false, lockedReason: null, ...(evacuationTarget ? { evacuationTarget } : {}) });
const inst = (id: string, state: IncidentInstance["state"], targetHost?: string): IncidentInstance => ({ id, state, ...(targetHost ? { targetHost } : {}) });

describe("targetHostLoad and targetHostBusy (maxConcurrentEvacuationsPerTargetHost)", () => {
  it("knows a target from the instance's new host, else the migration's destination, else not yet", () => {
    assert.equal(observedTarget(nova("a", "c2"), "c1"), "c2");
    assert.equal(observedTarget(nova("a", "c1", "c3"), "c1"), "c3");
    assert.equal(observedTarget(nova("a", "c1"), "c1"), undefined);
    assert.equal(observedTarget(undefined, "c1"), undefined);
  });

  it("counts in-flight evacuations per target, a reserved host's by where it was sent", () => {
    const instances = [inst("a", "Evacuating", "spare"), inst("b", "Verifying"), inst("c", "Evacuating"), inst("d", "Recovered", "c2"), inst("e", "Pending")];
    const states = new Map([["b", nova("b", "c1", "c2")], ["c", nova("c", "c1")]]);
    const load = targetHostLoad(instances, states, "c1");
    assert.deepEqual([...load.byHost], [["spare", 1], ["c2", 1]]);
    assert.equal(load.unknown, 1);
  });

  it("holds while the busiest known target plus the unplaced ones would exceed the cap", () => {
    const load = { byHost: new Map([["c2", 1], ["c3", 2]]), unknown: 1 };
    assert.match(targetHostBusy(load, undefined, 3) ?? "", /2 on c3, 1 not placed yet\); at most 3 per target host/);
    assert.equal(targetHostBusy(load, undefined, 4), undefined);
    assert.equal(targetHostBusy(load, "c2", 3), undefined, "a known target: its own count plus the unplaced ones");
    assert.equal(targetHostBusy({ byHost: new Map(), unknown: 0 }, undefined, 1), undefined);
    assert.match(targetHostBusy({ byHost: new Map(), unknown: 1 }, "spare", 1) ?? "", /0 on spare, 1 not placed yet/);
  });
});
