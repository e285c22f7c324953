import assert from "node:assert/strict";
import { findCondition, isConditionTrue, removeCondition, setCondition } from "../../../src/kube/conditions.js";

describe("conditions", () => {
  const t1 = new Date("2026-01-01T00:00:00.123Z");
  const t2 = new Date("2026-01-01T00:05:00Z");

  it("sets a new condition with the transition time and observedGeneration", () => {
    const list = setCondition(undefined, { type: "Ready", status: "False", reason: "SecretInvalid", message: "m" }, t1, 3);
    assert.deepEqual(list, [{ type: "Ready", status: "False", reason: "SecretInvalid", message: "m", lastTransitionTime: "2026-01-01T00:00:00Z", observedGeneration: 3 }]);
  });

  it("keeps lastTransitionTime when the status does not change, but refreshes reason and message", () => {
    const a = setCondition(undefined, { type: "Ready", status: "False", reason: "A", message: "one" }, t1, 1);
    const b = setCondition(a, { type: "Ready", status: "False", reason: "B", message: "two" }, t2, 2);
    assert.equal(b[0]?.lastTransitionTime, "2026-01-01T00:00:00Z");
    assert.equal(b[0]?.reason, "B");
    assert.equal(b[0]?.observedGeneration, 2);
  });

  it("moves lastTransitionTime when the status changes", () => {
    const a = setCondition(undefined, { type: "Ready", status: "False", reason: "A", message: "" }, t1);
    const b = setCondition(a, { type: "Ready", status: "True", reason: "Ok", message: "" }, t2);
    assert.equal(b[0]?.lastTransitionTime, "2026-01-01T00:05:00Z");
    assert.ok(isConditionTrue(b, "Ready"));
  });

  it("keeps the list sorted by type so equal states serialise equally", () => {
    let l = setCondition(undefined, { type: "SecretValid", status: "True", reason: "R", message: "" }, t1);
    l = setCondition(l, { type: "Ready", status: "True", reason: "R", message: "" }, t1);
    assert.deepEqual(l.map((c) => c.type), ["Ready", "SecretValid"]);
    assert.deepEqual(removeCondition(l, "Ready").map((c) => c.type), ["SecretValid"]);
    assert.equal(findCondition(l, "Nope"), undefined);
  });

  it("does not mutate its input", () => {
    const a = setCondition(undefined, { type: "Ready", status: "False", reason: "A", message: "" }, t1);
    const frozen = JSON.stringify(a);
    setCondition(a, { type: "Ready", status: "True", reason: "B", message: "" }, t2);
    assert.equal(JSON.stringify(a), frozen);
  });
});
