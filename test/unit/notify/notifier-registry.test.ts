import assert from "node:assert/strict";
import { TransportHttpPoster } from "../../../src/notify/http-poster.js";
import type { IncidentCloudEvent } from "../../../src/notify/incident-event.js";
import { NotifierRegistry } from "../../../src/notify/notifier-registry.js";
import { webhookEndpointFromSpec } from "../../../src/notify/webhook-endpoint.js";
import type { DeliveryReport } from "../../../src/notify/webhook-notifier.js";
import { verifySignature } from "../../../src/notify/webhook-signature.js";
import { SystemClock } from "../../../src/util/clock.js";
import { silentLogger } from "../../../src/util/logger.js";
import { eventually } from "../../support/eventually.js";
import { event, metricsOn, metricValue } from "./notify-harness.js";
import { WebhookReceiver } from "./webhook-receiver.js";

describe("NotifierRegistry", () => {
  let rx: WebhookReceiver;
  let registry: NotifierRegistry;
  let reports: [string, DeliveryReport][];
  const poster = new TransportHttpPoster();

  beforeEach(async () => {
    rx = await new WebhookReceiver().start();
    reports = [];
    registry = new NotifierRegistry({ poster, clock: new SystemClock(), logger: silentLogger(), onReport: (key, r) => reports.push([key, r]), closeGraceMs: 50 });
  });
  afterEach(async () => {
    await registry.close(0);
    await rx.stop();
  });
  after(() => poster.close());

  const spec = (path = "/hook") => ({ url: rx.url(path), allowHTTP: true, hmacSecretRef: { name: "hook" } });

  it("creates one notifier per policy and keeps it while nothing changes", () => {
    registry.sync("ns/a", webhookEndpointFromSpec(spec(), { hmacKey: Buffer.from("k1") }));
    const first = registry.get("ns/a");
    registry.sync("ns/a", webhookEndpointFromSpec(spec(), { hmacKey: Buffer.from("k1") }));
    assert.equal(registry.get("ns/a"), first);
    assert.deepEqual(registry.keys(), ["ns/a"]);
    assert.equal(registry.enqueue("ns/other", event(1)), "no-webhook");
  });

  it("delivers through the policy's notifier and tags reports with the policy", async () => {
    registry.sync("ns/a", webhookEndpointFromSpec(spec(), { hmacKey: Buffer.from("k1") }));
    const e = event(1);
    assert.equal(registry.enqueue("ns/a", e), "queued");
    await registry.flush();
    await eventually(() => assert.deepEqual(reports.map(([k, r]) => [k, r.eventId, r.outcome]), [["ns/a", e.id, "delivered"]]), 1000, 5);
  });

  it("recreates the notifier when the secret changes and hands it the waiting events", async () => {
    rx.script = ["hang"];
    registry.sync("ns/a", webhookEndpointFromSpec(spec(), { hmacKey: Buffer.from("old-key") }));
    const old = registry.get("ns/a");
    registry.enqueue("ns/a", event(1));
    await eventually(() => assert.equal(rx.received.length, 1), 2000, 2);
    registry.enqueue("ns/a", event(2));
    registry.enqueue("ns/a", event(3));
    registry.sync("ns/a", webhookEndpointFromSpec(spec("/new"), { hmacKey: Buffer.from("new-key") }));
    assert.notEqual(registry.get("ns/a"), old);
    await registry.flush();
    rx.release(200);
    await eventually(() => assert.equal(rx.received.length, 3), 2000, 5);
    const [, second, third] = rx.received;
    assert.deepEqual([second?.path, third?.path], ["/new", "/new"]);
    assert.deepEqual(rx.bodies<IncidentCloudEvent>().map((b) => b.id), [1, 2, 3].map((i) => event(i).id));
    assert.ok(verifySignature(Buffer.from("new-key"), second?.body ?? "", second?.headers["x-vmkeeper-signature"] as string, Math.floor(Date.now() / 1000)).ok);
  });

  it("closes the notifier of a policy that lost its webhook or went away", async () => {
    const { registry: prom, metrics } = metricsOn();
    await registry.close();
    registry = new NotifierRegistry({ poster, clock: new SystemClock(), logger: silentLogger(), metrics, closeGraceMs: 20 });
    const unsigned = { url: rx.url(), allowHTTP: true };
    registry.sync("ns/a", webhookEndpointFromSpec(unsigned, {}));
    registry.sync("ns/b", webhookEndpointFromSpec(unsigned, {}));
    registry.sync("ns/c", webhookEndpointFromSpec(unsigned, {}));
    rx.script = ["hang"];
    const a = registry.get("ns/a");
    a?.enqueue(event(1));
    await eventually(() => assert.equal(rx.received.length, 1), 2000, 2);
    registry.sync("ns/a", undefined);
    registry.retainOnly(["ns/b"]);
    assert.deepEqual(registry.keys(), ["ns/b"]);
    assert.equal(registry.enqueue("ns/a", event(2)), "no-webhook");
    assert.equal(a?.enqueue(event(3)), "closed");
    await registry.close();
    assert.equal(await metricValue(prom, "vmkeeper_notifications_total", { result: "dropped" }), 1);
    assert.equal(await metricValue(prom, "vmkeeper_notification_queue_depth"), 0);
  });

  it("a policy whose Secret is missing gets a notifier that refuses and says why", async () => {
    registry.sync("ns/a", webhookEndpointFromSpec(spec(), {}));
    assert.match(registry.get("ns/a")?.problem() ?? "", /HMAC key not found/);
    assert.equal(registry.enqueue("ns/a", event(1)), "refused");
    await eventually(() => assert.match(reports[0]?.[1].lastError ?? "", /HMAC key not found/), 1000, 5);
    assert.equal(rx.received.length, 0);
  });
});
