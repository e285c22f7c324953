import assert from "node:assert/strict";
import { evaluateGates } from "../../../../src/recovery/detection/evaluate-gates.js";
import { aggregateStormThresholdGates } from "../../../../src/recovery/detection/gates/aggregate-storm-threshold.js";
import { heartbeatCliffGate } from "../../../../src/recovery/detection/gates/heartbeat-cliff.js";
import { kubeApiUnreachableGate } from "../../../../src/recovery/detection/gates/kube-api-unreachable.js";
import { maintenanceGate } from "../../../../src/recovery/detection/gates/maintenance.js";
import { observerIsolatedGate } from "../../../../src/recovery/detection/gates/observer-isolated.js";
import { pausedGate } from "../../../../src/recovery/detection/gates/paused.js";
import { startupGraceGate } from "../../../../src/recovery/detection/gates/startup-grace.js";
import { stormThresholdGate } from "../../../../src/recovery/detection/gates/storm-threshold.js";
import { context, deadHost, host, NOW } from "./fixtures.js";

const healthy = (n: number, prefix = "h"): ReturnType<typeof host>[] => Array.from({ length: n }, (_, i) => host(`${prefix}${i}`));

describe("gates", () => {
  it("KubeApiUnreachable closes when the last API write failed", () => {
    assert.equal(kubeApiUnreachableGate(context(healthy(2))).blocked, false);
    assert.equal(kubeApiUnreachableGate(context(healthy(2), { observer: { kubeApiOk: false, leadingSinceMs: 0 } })).blocked, true);
  });

  it("ObserverIsolated closes below half of the hosts ever heard, ignoring explained silences", () => {
    const hosts = [...healthy(2), deadHost("d1"), deadHost("d2"), deadHost("d3")];
    assert.equal(observerIsolatedGate(context(hosts)).blocked, true); // 2 of 5
    assert.equal(observerIsolatedGate(context([...healthy(2), deadHost("d1"), deadHost("d2")])).blocked, false); // 2 of 4 = half
    const explained = [...healthy(2), deadHost("d1"), deadHost("m", 10_000, { maintenance: true }), deadHost("f", 10_000, { nova: { state: "down", forcedDown: true, disabled: true } }), deadHost("i", 10_000, { openIncident: { name: "i-1", epoch: 1, phase: "Fencing" } })];
    assert.equal(observerIsolatedGate(context(explained)).blocked, false); // 2 of 3
    const never = [host("n1", { heartbeatLastSeenMs: undefined }), host("n2", { heartbeatLastSeenMs: undefined })];
    assert.equal(observerIsolatedGate(context(never)).blocked, false); // nothing heard, nothing can be Failed
  });

  it("HeartbeatCliff needs ≥ 2 hosts and ≥ the percentage silent within one window, and holds for the cooldown", () => {
    const settings = { cooldownMs: 60_000 };
    assert.equal(heartbeatCliffGate(context([...healthy(1), deadHost("d1")], { settings })).blocked, false, "one host is never a cliff");
    const two = [...healthy(2), deadHost("d1", 10_000), deadHost("d2", 6_000)];
    assert.equal(heartbeatCliffGate(context(two, { settings })).blocked, true);
    const apart = [...healthy(2), deadHost("d1", 20_000), deadHost("d2", 6_000)];
    assert.equal(heartbeatCliffGate(context(apart, { settings })).blocked, false, "14 s apart is not one 5 s window");
    assert.equal(heartbeatCliffGate(context(two, { settings: { heartbeatCliffPercent: 60 } })).blocked, false, "2 of 4 < 60 %");
    const old = [...healthy(2), deadHost("d1", 66_000), deadHost("d2", 62_999)];
    assert.equal(heartbeatCliffGate(context(old, { settings })).blocked, true, "silent 62999 ms < 3000 + 60000 hold");
    const older = [...healthy(2), deadHost("d1", 67_000), deadHost("d2", 63_000)];
    assert.equal(heartbeatCliffGate(context(older, { settings })).blocked, false, "hold over");
    assert.equal(heartbeatCliffGate(context(older, { settings: { cooldownMs: 0 } })).blocked, false);
  });

  it("StormThreshold counts the window, open incidents and this pass, all or nothing", () => {
    const hosts = [...healthy(7), deadHost("d1"), deadHost("d2"), deadHost("o", 60_000, { openIncident: { name: "o-1", epoch: 1, phase: "Evacuating" } })];
    const recent = [{ host: "gone", aggregates: [], atMs: NOW - 599_999 }, { host: "older", aggregates: [], atMs: NOW - 600_000 }];
    // o (open) + gone (window) + d1 + d2 = 4 within "50%" of 10 = 5
    assert.equal(stormThresholdGate(context(hosts, { recentFailures: recent })).blocked, false);
    assert.equal(stormThresholdGate(context(hosts, { recentFailures: recent, settings: { maxUnhealthy: 3 } })).blocked, true);
    assert.match(stormThresholdGate(context(hosts, { recentFailures: recent, settings: { maxUnhealthy: 3 } })).message, /4 failed hosts \(2 open or within 600000 ms, 2 new\) exceed maxUnhealthy 3/);
    const future = [{ host: "clock", aggregates: [], atMs: NOW + 5000 }];
    assert.equal(stormThresholdGate(context(hosts, { recentFailures: [...recent, ...future], settings: { maxUnhealthy: 4 } })).blocked, true, "a future failure time counts");
  });

  it("AggregateStormThreshold judges each listed aggregate over its own hosts", () => {
    const hosts = [host("a1", { aggregates: ["a"] }), deadHost("a2", 10_000, { aggregates: ["a"] }), deadHost("a3", 10_000, { aggregates: ["a", "b"] }), host("b1", { aggregates: ["b"] })];
    const results = aggregateStormThresholdGates(context(hosts, { settings: { perAggregate: [{ aggregate: "a", maxUnhealthy: "50%" }, { aggregate: "b", maxUnhealthy: 1 }] } }));
    assert.deepEqual(results.map((r) => [r.aggregate, r.blocked]), [["a", true], ["b", false]]);
  });

  it("StartupGrace lasts max(grace, confirmation window), closed for a future leadingSince", () => {
    const at = (leadingSinceMs: number, startupGraceMs = 30_000): boolean => startupGraceGate(context(healthy(1), { observer: { kubeApiOk: true, leadingSinceMs }, settings: { startupGraceMs } })).blocked;
    assert.equal(at(NOW - 29_999), true);
    assert.equal(at(NOW - 30_000), false);
    assert.equal(at(NOW - 4_999, 0), true);
    assert.equal(at(NOW - 5_000, 0), false);
    assert.equal(at(NOW + 1000), true);
  });

  it("Paused and Maintenance", () => {
    assert.equal(pausedGate(context(healthy(1), { settings: { paused: true } })).blocked, true);
    assert.equal(pausedGate(context(healthy(1))).blocked, false);
    assert.equal(maintenanceGate(host("m", { maintenance: true })).blocked, true);
    assert.equal(maintenanceGate(host("m")).blocked, false);
  });

  it("the chain names the first blocking gate per candidate and reports every gate", () => {
    const hosts = [...healthy(4), deadHost("a", 10_000, { aggregates: ["r"] }), deadHost("b", 20_000)];
    const ctx = context(hosts, { observer: { kubeApiOk: true, leadingSinceMs: NOW }, settings: { paused: true, perAggregate: [{ aggregate: "r", maxUnhealthy: 0 }] } });
    const chain = evaluateGates(ctx);
    assert.deepEqual(chain.gates.map((g) => g.gate), ["KubeApiUnreachable", "ObserverIsolated", "HeartbeatCliff", "StormThreshold", "AggregateStormThreshold", "StartupGrace", "Paused", "Maintenance"]);
    assert.equal(chain.blocking.get("a")?.gate, "AggregateStormThreshold");
    assert.equal(chain.blocking.get("b")?.gate, "StartupGrace");
    const open = evaluateGates(context(hosts));
    assert.equal(open.blocking.size, 0);
  });
});
