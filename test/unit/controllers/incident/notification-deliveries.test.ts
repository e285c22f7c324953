import assert from "node:assert/strict";
import { NotificationDeliveries } from "../../../../src/controllers/incident/notification-deliveries.js";
import { withDeliveries } from "../../../../src/notify/notification-status.js";
import type { DeliveryReport } from "../../../../src/notify/webhook-notifier.js";

const report = (over: Partial<DeliveryReport>): DeliveryReport => ({ eventId: "lab.c1-1/detected/web", type: "dev.vmkeeper.incident.detected", subject: "lab.c1-1", outcome: "delivered", enqueuedAt: new Date("2026-01-01T00:00:00Z"), attempts: 1, ...over });

describe("NotificationDeliveries (webhook delivery reports → Incident status.notification)", () => {
  it("folds the reports of one incident, queues its key, and forgets them once written unless newer ones came", () => {
    const d = new NotificationDeliveries();
    const keys: string[] = [];
    const off = d.onReport((k) => keys.push(k));
    d.report("team-a/web", report({ outcome: "retrying", attempts: 1, lastError: "HTTP 503" }));
    d.report("team-a/web", report({ attempts: 2, deliveredAt: new Date("2026-01-01T00:00:02Z") }));
    assert.deepEqual(keys, ["team-a/lab.c1-1", "team-a/lab.c1-1"]);
    const pending = d.take("team-a/lab.c1-1");
    assert.deepEqual(pending?.notification, { sentAt: "2026-01-01T00:00:00.000Z", deliveredAt: "2026-01-01T00:00:02.000Z", attempts: 2 });
    d.report("team-b/db", report({ subject: "lab.c2-4", outcome: "failed", attempts: 6, lastError: "HTTP 500" }));
    d.report("team-a/web", report({ eventId: "lab.c1-1/recovered/web", attempts: 1, deliveredAt: new Date("2026-01-01T00:01:00Z") }));
    d.ack("team-a/lab.c1-1", pending?.version ?? 0);
    assert.equal(d.take("team-a/lab.c1-1")?.notification.deliveredAt, "2026-01-01T00:01:00.000Z", "a report after the take survives the ack");
    d.ack("team-a/lab.c1-1", d.take("team-a/lab.c1-1")?.version ?? 0);
    assert.equal(d.take("team-a/lab.c1-1"), undefined);
    assert.equal(d.take("team-b/lab.c2-4")?.notification.lastError, "failed: HTTP 500");
    d.drop("team-b/lab.c2-4");
    assert.equal(d.take("team-b/lab.c2-4"), undefined);
    off();
    d.report("team-a/web", report({}));
    assert.equal(keys.length, 4, "no call after unsubscribing");
  });

  it("withDeliveries keeps the workflow's own marks and never invents sentAt", () => {
    const reported = { sentAt: "2026-01-01T00:00:09Z", deliveredAt: "2026-01-01T00:00:10Z", attempts: 1 };
    assert.deepEqual(withDeliveries({ suppressedSentAt: "2026-01-01T00:00:00Z", lastError: "retrying: HTTP 503", attempts: 1 }, reported), { suppressedSentAt: "2026-01-01T00:00:00Z", deliveredAt: "2026-01-01T00:00:10Z", attempts: 1 });
    assert.deepEqual(withDeliveries({ sentAt: "2026-01-01T00:00:01Z", deliveredAt: "2026-01-01T00:00:02Z" }, { attempts: 3, lastError: "failed: HTTP 500" }), { sentAt: "2026-01-01T00:00:01Z", deliveredAt: "2026-01-01T00:00:02Z", attempts: 3, lastError: "failed: HTTP 500" });
  });
});
