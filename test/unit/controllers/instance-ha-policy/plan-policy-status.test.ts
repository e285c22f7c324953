import assert from "node:assert/strict";
import type { InstanceHAPolicy } from "../../../../src/api/v1alpha1/index.js";
import type { Instance } from "../../../../src/controllers/instance-ha-policy/instance-inventory.js";
import { EVALUATION_REFRESH_MS, MAX_UNPROTECTED, planPolicyStatus } from "../../../../src/controllers/instance-ha-policy/plan-policy-status.js";
import type { PolicyResolution } from "../../../../src/controllers/instance-ha-policy/resolve-protection.js";

const policy: InstanceHAPolicy = {
  apiVersion: "ha.vmkeeper.dev/v1alpha1",
  kind: "InstanceHAPolicy",
  metadata: { name: "p", namespace: "ha", generation: 3 },
  spec: { cloudRef: { name: "lab" }, mode: "NotifyOnly", selector: { allInstances: true } },
};

const inst = (n: number): Instance => ({
  id: `i-${String(n).padStart(4, "0")}`,
  name: `vm-${String(n).padStart(4, "0")}`,
  projectId: "p",
  status: "ACTIVE",
  vmState: "active",
  flavor: {},
  imageId: "",
  volumeBacked: true,
  localRootDisk: false,
  tags: [],
  metadata: {},
  serverGroups: [],
});

function resolution(unprotected: number, protectedCount = 1): PolicyResolution {
  return {
    key: "ha/p",
    mode: "NotifyOnly",
    priority: 0,
    specificity: 0,
    matched: unprotected + protectedCount,
    protected: Array.from({ length: protectedCount }, (_, i) => ({ instance: inst(10_000 + i) })),
    unprotected: Array.from({ length: unprotected }, (_, i) => ({ instance: inst(i), reason: i % 2 === 0 ? ("Excluded" as const) : ("ClaimedByOtherPolicy" as const), message: "x".repeat(2000) })),
    overlaps: [],
  };
}

const t0 = new Date("2026-01-01T00:00:00Z");
const at = (ms: number): Date => new Date(t0.getTime() + ms);

describe("planPolicyStatus", () => {
  it("bounds the unprotected list to the CRD's 100 items, actionable reasons first, and keeps the total", () => {
    const s = planPolicyStatus(policy, { ready: true }, { resolution: resolution(150), projectNamesKnown: true }, t0);
    assert.equal(s.unprotectedCount, 150);
    assert.equal(s.unprotected?.length, MAX_UNPROTECTED);
    assert.equal(s.unprotected?.[0]?.reason, "ClaimedByOtherPolicy");
    assert.equal(s.unprotected?.[74]?.reason, "ClaimedByOtherPolicy");
    assert.equal(s.unprotected?.[75]?.reason, "Excluded");
    assert.ok((s.unprotected ?? []).every((u) => (u.message ?? "").length <= 1024));
    assert.equal(s.observedGeneration, 3);
  });

  it("moves lastEvaluationTime when the result changes or it is older than the refresh period, never otherwise", () => {
    const first = planPolicyStatus(policy, { ready: true }, { resolution: resolution(1), projectNamesKnown: true }, t0);
    assert.equal(first.lastEvaluationTime, "2026-01-01T00:00:00Z");
    const same = planPolicyStatus({ ...policy, status: first }, { ready: true }, { resolution: resolution(1), projectNamesKnown: true }, at(EVALUATION_REFRESH_MS - 1000));
    assert.deepEqual(same, first);
    const refreshed = planPolicyStatus({ ...policy, status: first }, { ready: true }, { resolution: resolution(1), projectNamesKnown: true }, at(EVALUATION_REFRESH_MS));
    assert.equal(refreshed.lastEvaluationTime, "2026-01-01T00:10:00Z");
    assert.deepEqual(refreshed.conditions, first.conditions, "conditions keep their lastTransitionTime");
    const changed = planPolicyStatus({ ...policy, status: first }, { ready: true }, { resolution: resolution(2), projectNamesKnown: true }, at(5000));
    assert.equal(changed.lastEvaluationTime, "2026-01-01T00:00:05Z");
    assert.equal(changed.unprotectedCount, 2);
  });

  it("drops capacity figures and the capacity condition when a policy stops recovering", () => {
    const keep: InstanceHAPolicy = { ...policy, spec: { ...policy.spec, mode: "KeepRunning" } };
    const r = { ...resolution(0), mode: "KeepRunning" as const };
    const capacity = { scopes: [{ scope: "Cloud" as const, name: "lab", hosts: 2, protectedInstances: 1, hostFailuresTolerated: 1, limitingResource: "None" as const }], hostFailuresTolerated: 1, unplacedInstances: 0 };
    const s1 = planPolicyStatus(keep, { ready: true }, { resolution: r, capacity, projectNamesKnown: true }, t0);
    assert.equal(s1.hostFailuresTolerated, 1);
    assert.ok(s1.conditions?.some((c) => c.type === "FailoverCapacitySufficient"));
    const s2 = planPolicyStatus({ ...policy, status: s1 }, { ready: true }, { resolution: resolution(0), projectNamesKnown: true }, at(1000));
    assert.equal(s2.hostFailuresTolerated, undefined);
    assert.equal(s2.failoverCapacity, undefined);
    assert.ok(!s2.conditions?.some((c) => c.type === "FailoverCapacitySufficient"));
  });

  it("needs an evaluation when the cloud is ready", () => {
    assert.throws(() => planPolicyStatus(policy, { ready: true }, undefined, t0), /needs an evaluation/);
  });
});
