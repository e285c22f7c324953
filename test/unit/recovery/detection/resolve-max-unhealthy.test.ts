import assert from "node:assert/strict";
import { normalizeDetectionSettings } from "../../../../src/recovery/detection/normalize-detection-settings.js";
import { DETECTION_DEFAULTS } from "../../../../src/recovery/detection/detection-defaults.js";
import { resolveMaxUnhealthy } from "../../../../src/recovery/detection/resolve-max-unhealthy.js";

describe("resolveMaxUnhealthy", () => {
  const limit = (v: number | string, size: number): number => resolveMaxUnhealthy(v, size).limit;

  it("rounds percentages down, at least 1 above 0 %", () => {
    assert.equal(limit("50%", 10), 5);
    assert.equal(limit("33%", 10), 3);
    assert.equal(limit("33%", 4), 1);
    assert.equal(limit("10%", 5), 1);
    assert.equal(limit("1%", 1), 1);
    assert.equal(limit("0%", 100), 0);
    assert.equal(limit("12.5%", 16), 2);
  });

  it("takes counts as they are (digit strings too), fractions rounded down", () => {
    assert.equal(limit(3, 10), 3);
    assert.equal(limit(30, 10), 30);
    assert.equal(limit("3", 10), 3);
    assert.equal(limit(0, 10), 0);
    assert.equal(limit(2.7, 10), 2);
    assert.match(resolveMaxUnhealthy(2.7, 10).problem ?? "", /rounded down/);
  });

  it("clamps above 100 % and fails closed (0) on unusable values", () => {
    assert.equal(limit("150%", 10), 10);
    assert.match(resolveMaxUnhealthy("150%", 10).problem ?? "", /clamped/);
    for (const bad of ["lots", "-1%", "%", "", -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const r = resolveMaxUnhealthy(bad, 10);
      assert.equal(r.limit, 0, String(bad));
      assert.ok(r.problem, String(bad));
    }
  });
});

describe("normalizeDetectionSettings", () => {
  it("leaves the defaults alone", () => {
    assert.deepEqual(normalizeDetectionSettings(DETECTION_DEFAULTS), { settings: DETECTION_DEFAULTS, problems: [] });
  });

  it("clamps into the CRD ranges, replaces non-numbers by defaults, stretches a short window", () => {
    const { settings, problems } = normalizeDetectionSettings({
      ...DETECTION_DEFAULTS,
      heartbeatIntervalMs: 5000,
      missedHeartbeats: 2.5,
      confirmationWindowMs: 6000,
      heartbeatCliffPercent: Number.NaN,
      cooldownMs: -1,
      corroboration: "Carrier pigeon" as "Peers",
    });
    assert.equal(settings.missedHeartbeats, 3);
    assert.equal(settings.confirmationWindowMs, 10_000);
    assert.equal(settings.heartbeatCliffPercent, 50);
    assert.equal(settings.cooldownMs, 0);
    assert.equal(settings.corroboration, "PeersAndNova");
    assert.equal(problems.length, 4);
  });
});
