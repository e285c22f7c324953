import assert from "node:assert/strict";
import { lastHeartbeatMs, serviceIsUp } from "../../../src/sim/service-state.js";

const hb = { reportIntervalMs: 10_000, serviceDownTimeMs: 60_000 };

describe("sim service state", () => {
  it("beats at start and every report interval while running", () => {
    assert.equal(lastHeartbeatMs({ startedAtMs: 0, stoppedAtMs: null }, 0, 10_000), 0);
    assert.equal(lastHeartbeatMs({ startedAtMs: 0, stoppedAtMs: null }, 9_999, 10_000), 0);
    assert.equal(lastHeartbeatMs({ startedAtMs: 0, stoppedAtMs: null }, 25_000, 10_000), 20_000);
    assert.equal(lastHeartbeatMs({ startedAtMs: -3_000, stoppedAtMs: null }, 25_000, 10_000), 17_000);
  });

  it("keeps the last beat before the process stopped", () => {
    assert.equal(lastHeartbeatMs({ startedAtMs: 0, stoppedAtMs: 35_000 }, 500_000, 10_000), 30_000);
  });

  it("is up until service_down_time has passed since the last beat", () => {
    const svc = { startedAtMs: 0, stoppedAtMs: 35_000, forcedDown: false };
    assert.equal(serviceIsUp(svc, 90_000, hb), true);
    assert.equal(serviceIsUp(svc, 90_001, hb), false);
  });

  it("is down at once when forced down, even while heartbeating", () => {
    assert.equal(serviceIsUp({ startedAtMs: 0, stoppedAtMs: null, forcedDown: true }, 5_000, hb), false);
  });
});
