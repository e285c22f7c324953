import assert from "node:assert/strict";
import { mergeNotificationStatus } from "../../../src/notify/notification-status.js";
import type { DeliveryReport } from "../../../src/notify/webhook-notifier.js";

const base: DeliveryReport = { eventId: "i/detected", type: "dev.vmkeeper.incident.detected", subject: "i", outcome: "retrying", enqueuedAt: new Date("2026-01-01T00:00:00Z"), firstAttemptAt: new Date("2026-01-01T00:00:00.010Z"), attempts: 1, lastError: "HTTP 503" };

describe("Incident status.notification from delivery reports", () => {
  it("records the first send, the retries, then the delivery", () => {
    const s1 = mergeNotificationStatus(undefined, base);
    assert.deepEqual(s1, { sentAt: "2026-01-01T00:00:00.010Z", attempts: 1, lastError: "retrying: HTTP 503" });
    const s2 = mergeNotificationStatus(s1, { ...base, outcome: "delivered", attempts: 2, lastError: undefined, deliveredAt: new Date("2026-01-01T00:00:01Z") });
    assert.deepEqual(s2, { sentAt: "2026-01-01T00:00:00.010Z", deliveredAt: "2026-01-01T00:00:01.000Z", attempts: 2 });
  });

  it("keeps sentAt and the last delivery when a later event fails", () => {
    const delivered = { sentAt: "2026-01-01T00:00:00.010Z", deliveredAt: "2026-01-01T00:00:00.020Z", attempts: 1 };
    const s = mergeNotificationStatus(delivered, { ...base, eventId: "i/fenced", outcome: "dropped", attempts: 0, lastError: "queue full", firstAttemptAt: undefined, enqueuedAt: new Date("2026-01-01T00:05:00Z") });
    assert.deepEqual(s, { ...delivered, attempts: 0, lastError: "dropped: queue full" });
  });

  it("uses the enqueue time when nothing was sent (refused) and clips long errors", () => {
    const s = mergeNotificationStatus(undefined, { ...base, outcome: "failed", attempts: 0, firstAttemptAt: undefined, lastError: "x".repeat(5000) });
    assert.equal(s.sentAt, "2026-01-01T00:00:00.000Z");
    assert.equal(s.lastError?.length, 1024);
  });
});
