import assert from "node:assert/strict";
import type { InstanceHAPolicy, InstanceHAPolicySpec } from "../../../../src/api/v1alpha1/index.js";
import { DETECTION_DEFAULTS } from "../../../../src/recovery/detection/detection-defaults.js";
import { mergeDetectionSettings, strictestCorroboration } from "../../../../src/recovery/detection/merge-detection-settings.js";

function policy(name: string, spec: Partial<InstanceHAPolicySpec> = {}): InstanceHAPolicy {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "InstanceHAPolicy",
    metadata: { name, namespace: "ops" },
    spec: { cloudRef: { name: "lab" }, selector: { allInstances: true }, ...spec },
  };
}

describe("mergeDetectionSettings", () => {
  it("applies the CRD defaults to a policy that sets nothing", () => {
    assert.deepEqual(mergeDetectionSettings([policy("a")], 10), DETECTION_DEFAULTS);
    assert.equal(DETECTION_DEFAULTS.confirmationWindowMs, 5000);
    assert.equal(DETECTION_DEFAULTS.startupGraceMs, 30_000);
  });

  it("ignores Disabled policies and pauses when none is active", () => {
    const merged = mergeDetectionSettings([policy("a", { mode: "Disabled", stormProtection: { maxUnhealthy: 0 } })], 10);
    assert.equal(merged.paused, true);
    assert.equal(merged.maxUnhealthy, "50%");
    assert.deepEqual(merged.notes, ["no active InstanceHAPolicy for this cloud"]);
    assert.equal(mergeDetectionSettings([], 3).paused, true);
  });

  it("is paused only when every active policy is", () => {
    assert.equal(mergeDetectionSettings([policy("a", { paused: true }), policy("b")], 10).paused, false);
    assert.equal(mergeDetectionSettings([policy("a", { paused: true }), policy("b", { paused: true }), policy("c", { mode: "Disabled" })], 10).paused, true);
    assert.equal(mergeDetectionSettings([policy("a", { paused: true, mode: "NotifyOnly" })], 10).paused, true);
  });

  it("takes the most cautious timing: longest window, interval × missed covering every policy", () => {
    const merged = mergeDetectionSettings(
      [
        policy("fast", { hostMonitoring: { heartbeatIntervalMilliseconds: 500, missedHeartbeats: 10, confirmationWindowSeconds: 8 } }),
        policy("slow", { hostMonitoring: { heartbeatIntervalMilliseconds: 2000, missedHeartbeats: 2, confirmationWindowSeconds: 6 } }),
      ],
      10,
    );
    assert.equal(merged.heartbeatIntervalMs, 2000);
    assert.equal(merged.missedHeartbeats, 3); // 2000 × 3 ≥ max(500 × 10, 2000 × 2)
    assert.equal(merged.confirmationWindowMs, 8000);
  });

  it("takes the lowest cliff, longest cooldown and grace", () => {
    const merged = mergeDetectionSettings(
      [policy("a", { stormProtection: { heartbeatCliffPercent: 30, cooldownSeconds: 60, startupGraceSeconds: 120 } }), policy("b", { stormProtection: { heartbeatCliffPercent: 70, cooldownSeconds: 900 } })],
      10,
    );
    assert.deepEqual([merged.heartbeatCliffPercent, merged.cooldownMs, merged.startupGraceMs], [30, 900_000, 120_000]);
  });

  it("takes the lowest maxUnhealthy in hosts for the cloud's size, keeping its form", () => {
    const ps = [policy("a", { stormProtection: { maxUnhealthy: 3 } }), policy("b", { stormProtection: { maxUnhealthy: "20%" } })];
    assert.equal(mergeDetectionSettings(ps, 10).maxUnhealthy, "20%"); // 2 < 3
    assert.equal(mergeDetectionSettings(ps, 20).maxUnhealthy, 3); // 4 > 3
    assert.equal(mergeDetectionSettings([ps[1] as InstanceHAPolicy, ps[0] as InstanceHAPolicy], 15).maxUnhealthy, 3); // tie 3 = 3: first by name
  });

  it("keeps every per-aggregate entry (the tightest trips first) without duplicates", () => {
    const merged = mergeDetectionSettings(
      [
        policy("a", { stormProtection: { perAggregate: [{ aggregate: "rack-b", maxUnhealthy: 2 }, { aggregate: "rack-a", maxUnhealthy: "25%" }] } }),
        policy("b", { stormProtection: { perAggregate: [{ aggregate: "rack-a", maxUnhealthy: 1 }, { aggregate: "rack-b", maxUnhealthy: 2 }] } }),
      ],
      10,
    );
    assert.deepEqual(merged.perAggregate, [
      { aggregate: "rack-a", maxUnhealthy: 1 },
      { aggregate: "rack-a", maxUnhealthy: "25%" },
      { aggregate: "rack-b", maxUnhealthy: 2 },
    ]);
  });

  it("orders corroboration by strictness: PeersOrNova < Peers, Nova < PeersAndNova", () => {
    assert.equal(strictestCorroboration(["PeersOrNova", "PeersOrNova"]), "PeersOrNova");
    assert.equal(strictestCorroboration(["PeersOrNova", "Peers"]), "Peers");
    assert.equal(strictestCorroboration(["Nova", "PeersOrNova"]), "Nova");
    assert.equal(strictestCorroboration(["Nova", "Peers"]), "PeersAndNova");
    const merged = mergeDetectionSettings([policy("a", { hostMonitoring: { corroboration: "Peers" } }), policy("b", { hostMonitoring: { corroboration: "Nova" } })], 4);
    assert.equal(merged.corroboration, "PeersAndNova");
  });

  it("repairs values that slipped past admission and says so in notes", () => {
    const merged = mergeDetectionSettings([policy("a", { hostMonitoring: { heartbeatIntervalMilliseconds: 10, confirmationWindowSeconds: 0 }, stormProtection: { heartbeatCliffPercent: 0 } })], 4);
    assert.equal(merged.heartbeatIntervalMs, 100);
    assert.equal(merged.confirmationWindowMs, 1000);
    assert.equal(merged.heartbeatCliffPercent, 1);
    assert.ok(merged.notes?.every((n) => n.startsWith("ops/a: ")));
    assert.equal(merged.notes?.length, 3);
  });
});
