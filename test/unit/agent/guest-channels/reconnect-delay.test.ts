import assert from "node:assert/strict";
import { DEFAULT_RECONNECT_POLICY, reconnectDelayMs } from "../../../../src/agent/guest-channels/reconnect-delay.js";

describe("reconnectDelayMs", () => {
  it("doubles from the initial delay up to the cap", () => {
    const policy = { initialDelayMs: 250, maxDelayMs: 3000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 100].map((a) => reconnectDelayMs(a, policy)),
      [250, 500, 1000, 2000, 3000, 3000, 3000],
    );
  });

  it("treats odd attempt numbers as the nearest sane one", () => {
    assert.equal(reconnectDelayMs(-3, DEFAULT_RECONNECT_POLICY), 500);
    assert.equal(reconnectDelayMs(1.7, DEFAULT_RECONNECT_POLICY), 1000);
    assert.equal(reconnectDelayMs(Number.MAX_SAFE_INTEGER, DEFAULT_RECONNECT_POLICY), 30_000);
  });
});
