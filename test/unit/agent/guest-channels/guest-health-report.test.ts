import assert from "node:assert/strict";
import { guestHealthReport, sameGuestHealth } from "../../../../src/agent/guest-channels/guest-health-report.js";

const ctx = { host: "compute-1", instanceUuid: "u-1", intervalMs: 2000, threshold: 4, at: new Date("2026-03-04T05:06:07.089Z") };
const base = { kind: "GuestHealth", host: "compute-1", instanceUuid: "u-1", intervalMs: 2000, threshold: 4, at: "2026-03-04T05:06:07.089Z" };

describe("guestHealthReport", () => {
  it("maps every host-side health value", () => {
    assert.equal(guestHealthReport({ state: "Unknown" }, ctx), undefined);
    assert.deepEqual(guestHealthReport({ state: "Healthy" }, ctx), { ...base, state: "Healthy" });
    assert.deepEqual(guestHealthReport({ state: "Unhealthy", reason: "app db: down" }, ctx), { ...base, state: "Unhealthy", reason: "app db: down" });
    assert.deepEqual(guestHealthReport({ state: "Unresponsive", missed: 4 }, ctx), { ...base, state: "Unresponsive", reason: "4 consecutive challenges missed" });
    assert.deepEqual(guestHealthReport({ state: "Exited", reason: "shutdown" }, ctx), { ...base, state: "Exited", reason: "shutdown" });
  });

  it("compares state and reason only", () => {
    const a = guestHealthReport({ state: "Unhealthy", reason: "x" }, ctx);
    const b = guestHealthReport({ state: "Unhealthy", reason: "x" }, { ...ctx, at: new Date(0) });
    const c = guestHealthReport({ state: "Unhealthy", reason: "y" }, ctx);
    assert.ok(a && b && c);
    assert.equal(sameGuestHealth(a, b), true);
    assert.equal(sameGuestHealth(a, c), false);
    assert.equal(sameGuestHealth(undefined, a), false);
  });
});
