import assert from "node:assert/strict";
import { assessHost } from "../../../../src/recovery/detection/assess-host.js";
import { DETECTION_DEFAULTS } from "../../../../src/recovery/detection/detection-defaults.js";
import type { DetectionSettings, HostObservation } from "../../../../src/recovery/model.js";
import { deadHost, host, NOW } from "./fixtures.js";

const state = (h: HostObservation, over: Partial<DetectionSettings> = {}): string => assessHost(h, { ...DETECTION_DEFAULTS, ...over }, NOW).state;
const novaDown = { state: "down" as const, forcedDown: false, disabled: false, readAtMs: NOW };
const noPeers = { reporting: 0, unreachable: 0 };

describe("assessHost", () => {
  it("Healthy, Suspect at interval × missed, Failed at the window when corroborated", () => {
    assert.equal(state(host("h")), "Healthy");
    assert.equal(state(deadHost("h", 2999)), "Healthy");
    assert.equal(state(deadHost("h", 3000)), "Suspect");
    assert.equal(state(deadHost("h", 4999)), "Suspect");
    assert.equal(state(deadHost("h", 5000)), "Failed");
  });

  it("Failed never comes before Suspect, even with a window shorter than interval × missed", () => {
    assert.equal(state(deadHost("h", 2500), { confirmationWindowMs: 2000 }), "Healthy");
    assert.equal(state(deadHost("h", 3000), { confirmationWindowMs: 2000 }), "Failed");
  });

  it("Degraded when heartbeats are fresh but Nova says down or forced down (F3)", () => {
    assert.equal(state(host("h", { nova: novaDown, peers: { reporting: 3, unreachable: 3 } })), "Degraded");
    assert.equal(state(host("h", { nova: { ...novaDown, state: "up", forcedDown: true } })), "Degraded");
  });

  it("Unknown when never heard, in every corroboration mode", () => {
    for (const corroboration of ["PeersOrNova", "Peers", "Nova", "PeersAndNova"] as const) {
      assert.equal(state(host("h", { heartbeatLastSeenMs: undefined, nova: novaDown, peers: { reporting: 3, unreachable: 3 } }), { corroboration }), "Unknown");
    }
  });

  it("peers need a strict majority of at least one reporting peer", () => {
    assert.equal(state(deadHost("h", 9000, { peers: { reporting: 2, unreachable: 1 } })), "Suspect");
    assert.equal(state(deadHost("h", 9000, { peers: { reporting: 1, unreachable: 1 } })), "Failed");
    assert.equal(state(deadHost("h", 9000, { peers: noPeers })), "Suspect");
    assert.equal(state(deadHost("h", 9000, { peers: { reporting: 5, unreachable: 3 } })), "Failed");
  });

  it("follows the corroboration mode; Nova unknown never corroborates", () => {
    const peersOnly = deadHost("h", 9000);
    const novaOnly = deadHost("h", 9000, { peers: noPeers, nova: novaDown });
    const both = deadHost("h", 9000, { nova: novaDown });
    const unknown = deadHost("h", 9000, { nova: { state: "unknown", forcedDown: false, disabled: false } });
    const table: [HostObservation, DetectionSettings["corroboration"], string][] = [
      [peersOnly, "Peers", "Failed"], [peersOnly, "Nova", "Suspect"], [peersOnly, "PeersAndNova", "Suspect"],
      [novaOnly, "Peers", "Suspect"], [novaOnly, "Nova", "Failed"], [novaOnly, "PeersOrNova", "Failed"],
      [both, "PeersAndNova", "Failed"], [unknown, "PeersOrNova", "Failed"], [unknown, "Nova", "Suspect"],
    ];
    for (const [h, corroboration, expected] of table) assert.equal(state(h, { corroboration }), expected, `${corroboration}`);
  });

  it("Nova's down counts only if read after the silence began and not already down before it", () => {
    const silentSince = NOW - 9000;
    const base = { peers: noPeers };
    assert.equal(state(deadHost("h", 9000, { ...base, nova: { ...novaDown, readAtMs: silentSince - 1 } })), "Suspect");
    assert.equal(state(deadHost("h", 9000, { ...base, nova: { ...novaDown, downSinceMs: silentSince - 1 } })), "Suspect");
    assert.equal(state(deadHost("h", 9000, { ...base, nova: { ...novaDown, downSinceMs: silentSince + 1 } })), "Failed");
    assert.equal(state(deadHost("h", 9000, { ...base, nova: { state: "up", forcedDown: true, disabled: true, readAtMs: NOW } })), "Failed");
  });

  it("a heartbeat time in the future is fresh (F17)", () => {
    assert.equal(state(host("h", { heartbeatLastSeenMs: NOW + 60_000 })), "Healthy");
  });

  it("records the evidence of every channel and the operator", () => {
    const a = assessHost(deadHost("h", 9000, { maintenance: true }), DETECTION_DEFAULTS, NOW);
    assert.deepEqual(a.evidence.map((e) => e.source), ["Heartbeat", "Peers", "Nova", "Operator"]);
  });
});
