import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TransportHttpPoster } from "../../../src/notify/http-poster.js";
import type { IncidentCloudEvent } from "../../../src/notify/incident-event.js";
import { WEBHOOK_DEFAULTS, type WebhookEndpoint } from "../../../src/notify/webhook-endpoint.js";
import { WebhookNotifier, type WebhookNotifierOptions } from "../../../src/notify/webhook-notifier.js";
import { verifySignature } from "../../../src/notify/webhook-signature.js";
import { SystemClock } from "../../../src/util/clock.js";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { silentLogger } from "../../../src/util/logger.js";
import { eventually, sleep } from "../../support/eventually.js";
import { freePort } from "../../support/free-port.js";
import { capturedLogger, event, histogramCount, metricsOn, metricValue, ReportLog } from "./notify-harness.js";
import { WebhookReceiver } from "./webhook-receiver.js";

const KEY = Buffer.from("k3y-never-in-logs-0123456789");

describe("WebhookNotifier on loopback", () => {
  let rx: WebhookReceiver;
  const poster = new TransportHttpPoster();
  const notifiers: WebhookNotifier[] = [];

  beforeEach(async () => {
    rx = await new WebhookReceiver().start();
  });
  afterEach(async () => {
    await Promise.all(notifiers.splice(0).map((n) => n.close(0)));
    await rx.stop();
  });
  after(() => poster.close());

  function endpoint(over: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
    return { url: rx.url(), allowHTTP: true, hmacKey: KEY, timeoutMs: 2000, maxRetries: 3, queueSize: WEBHOOK_DEFAULTS.queueSize, ...over };
  }

  function notifier(over: Omit<Partial<WebhookNotifierOptions>, "endpoint"> & { endpoint?: Partial<WebhookEndpoint> } = {}): WebhookNotifier {
    const { endpoint: ep, ...rest } = over;
    const n = new WebhookNotifier({ poster, clock: new SystemClock(), logger: silentLogger(), random: () => 0, ...rest, endpoint: endpoint(ep) });
    notifiers.push(n);
    return n;
  }

  it("delivers a signed structured-mode CloudEvent within a few ms, without blocking the caller", async () => {
    const { registry, metrics } = metricsOn();
    const reports = new ReportLog();
    const n = notifier({ metrics, onReport: reports.on });
    const e = event(1);
    const t0 = performance.now();
    assert.equal(n.enqueue(e), "queued");
    const enqueueMs = performance.now() - t0;
    await n.flush();
    const [got] = rx.received;
    assert.ok(got);
    const latencyMs = got.atMs - t0;
    assert.ok(enqueueMs < 20, `enqueue took ${enqueueMs} ms`);
    assert.ok(latencyMs < 250, `received ${latencyMs} ms after enqueue`);
    assert.equal(got.method, "POST");
    assert.equal(got.path, "/hook");
    assert.equal(got.headers["content-type"], "application/cloudevents+json; charset=utf-8");
    assert.equal(got.headers["x-vmkeeper-delivery-attempt"], "1");
    assert.deepEqual(JSON.parse(got.body), e);
    const sig = got.headers["x-vmkeeper-signature"];
    assert.equal(typeof sig, "string");
    assert.deepEqual(verifySignature(KEY, got.body, sig as string, Math.floor(Date.now() / 1000)), { ok: true });
    await eventually(() => assert.equal(reports.of(e.id)?.outcome, "delivered"), 1000, 5);
    const r = reports.of(e.id);
    assert.equal(r?.attempts, 1);
    assert.equal(r?.status, 204);
    assert.ok(r?.deliveredAt && r.firstAttemptAt);
    assert.equal(await metricValue(registry, "vmkeeper_notifications_total", { result: "delivered" }), 1);
    assert.equal(await histogramCount(registry, "vmkeeper_notification_delivery_seconds"), 1);
    assert.equal(await metricValue(registry, "vmkeeper_notification_queue_depth"), 0);
  });

  it("sends no signature header when no key is configured", async () => {
    const n = notifier({ endpoint: { hmacKey: undefined } });
    n.enqueue(event(1));
    await n.flush();
    assert.equal(rx.received[0]?.headers["x-vmkeeper-signature"], undefined);
  });

  it("retries a 500 after the backoff with the same id and body, then succeeds (FakeClock)", async () => {
    const clock = new FakeClock();
    const reports = new ReportLog();
    const { registry, metrics } = metricsOn();
    rx.script = [{ status: 500 }, { status: 200 }];
    const n = notifier({ clock, metrics, onReport: reports.on });
    const e = event(2);
    n.enqueue(e);
    await eventually(() => assert.equal(clock.pendingSleepers(), 1), 2000, 2);
    assert.equal(rx.received.length, 1);
    await clock.advance(499);
    await sleep(20);
    assert.equal(rx.received.length, 1, "no retry before the backoff (500 ms with zero jitter)");
    await clock.advance(1);
    await n.flush();
    assert.equal(rx.received.length, 2);
    const [a, b] = rx.received;
    assert.equal(a?.body, b?.body);
    assert.equal((JSON.parse(b?.body ?? "{}") as IncidentCloudEvent).id, e.id);
    assert.equal(b?.headers["x-vmkeeper-delivery-attempt"], "2");
    assert.ok(verifySignature(KEY, b?.body ?? "", b?.headers["x-vmkeeper-signature"] as string, Math.floor(clock.now().getTime() / 1000)).ok);
    await eventually(() => assert.equal(reports.of(e.id)?.outcome, "delivered"), 1000, 5);
    assert.deepEqual(reports.all.map((r) => [r.outcome, r.attempts, r.lastError]), [["retrying", 1, "HTTP 500"], ["delivered", 2, undefined]]);
    assert.equal(await metricValue(registry, "vmkeeper_notification_attempts_total", { result: "http_error" }), 1);
    assert.equal(await metricValue(registry, "vmkeeper_notification_attempts_total", { result: "delivered" }), 1);
  });

  it("does not retry a 400", async () => {
    const { registry, metrics } = metricsOn();
    const reports = new ReportLog();
    rx.fallback = { status: 400 };
    const n = notifier({ metrics, onReport: reports.on });
    const e = event(3);
    n.enqueue(e);
    await n.flush();
    await eventually(() => assert.equal(reports.of(e.id)?.outcome, "failed"), 1000, 5);
    assert.equal(rx.received.length, 1);
    assert.equal(reports.of(e.id)?.lastError, "HTTP 400");
    assert.equal(reports.of(e.id)?.status, 400);
    assert.equal(await metricValue(registry, "vmkeeper_notifications_total", { result: "failed" }), 1);
  });

  it("honours Retry-After on a 429 (FakeClock)", async () => {
    const clock = new FakeClock();
    rx.script = [{ status: 429, headers: { "retry-after": "7" } }, { status: 202 }];
    const n = notifier({ clock });
    n.enqueue(event(4));
    await eventually(() => assert.equal(clock.pendingSleepers(), 1), 2000, 2);
    await clock.advance(6999);
    await sleep(20);
    assert.equal(rx.received.length, 1, "still waiting for Retry-After");
    await clock.advance(1);
    await n.flush();
    assert.equal(rx.received.length, 2);
  });

  it("gives up after maxRetries retries and reports the last error", async () => {
    const reports = new ReportLog();
    rx.fallback = { status: 503 };
    const n = notifier({ endpoint: { maxRetries: 2 }, backoff: { baseDelayMs: 2, maxDelayMs: 5 }, onReport: reports.on });
    const e = event(5);
    n.enqueue(e);
    await n.flush();
    await eventually(() => assert.equal(reports.of(e.id)?.outcome, "failed"), 1000, 5);
    assert.equal(rx.received.length, 3);
    assert.equal(reports.of(e.id)?.attempts, 3);
    assert.equal(reports.of(e.id)?.lastError, "HTTP 503");
  });

  it("times out an attempt that gets no answer, counts it and retries it", async () => {
    const { registry, metrics } = metricsOn();
    const reports = new ReportLog();
    rx.script = ["hang"];
    const n = notifier({ endpoint: { timeoutMs: 100, maxRetries: 1 }, backoff: { baseDelayMs: 2, maxDelayMs: 5 }, metrics, onReport: reports.on });
    const e = event(6);
    n.enqueue(e);
    await n.flush();
    await eventually(() => assert.equal(reports.of(e.id)?.outcome, "delivered"), 1000, 5);
    assert.deepEqual(reports.all.map((r) => [r.outcome, r.lastError]), [["retrying", "no response within 100 ms"], ["delivered", undefined]]);
    assert.equal(await metricValue(registry, "vmkeeper_notification_attempts_total", { result: "timeout" }), 1);
  });

  it("when the queue is full drops the oldest waiting event, counts it, and delivers the rest in order", async () => {
    const { registry, metrics } = metricsOn();
    const reports = new ReportLog();
    rx.script = ["hang"];
    const n = notifier({ endpoint: { queueSize: 2 }, metrics, onReport: reports.on });
    const events = [1, 2, 3, 4].map((i) => event(i));
    assert.equal(n.enqueue(events[0] as IncidentCloudEvent), "queued");
    await eventually(() => assert.equal(rx.received.length, 1), 2000, 2);
    for (const e of events.slice(1)) assert.equal(n.enqueue(e), "queued");
    assert.equal(n.depth, 3);
    assert.equal(await metricValue(registry, "vmkeeper_notification_queue_depth"), 3);
    await eventually(() => assert.equal(reports.of(events[1]?.id ?? "")?.outcome, "dropped"), 1000, 5);
    assert.match(reports.of(events[1]?.id ?? "")?.lastError ?? "", /queue full/);
    assert.equal(await metricValue(registry, "vmkeeper_notifications_total", { result: "dropped" }), 1);
    rx.release(200);
    await n.flush();
    assert.deepEqual(rx.bodies<IncidentCloudEvent>().map((b) => b.id), [events[0], events[2], events[3]].map((e) => e?.id));
    assert.equal(await metricValue(registry, "vmkeeper_notifications_total", { result: "delivered" }), 3);
    assert.equal(await metricValue(registry, "vmkeeper_notification_queue_depth"), 0);
  });

  it("drops per-instance events before incident-level ones when the queue is full", async () => {
    const reports = new ReportLog();
    rx.script = ["hang"];
    const n = notifier({ endpoint: { queueSize: 2 }, onReport: reports.on });
    n.enqueue(event(1, "detected"));
    await eventually(() => assert.equal(rx.received.length, 1), 2000, 2);
    const detected = event(2, "detected");
    const inst = event(2, "instance_recovered");
    const failed = event(2, "failed");
    n.enqueue(detected);
    n.enqueue(inst);
    n.enqueue(failed);
    rx.release(200);
    await n.flush();
    await eventually(() => assert.equal(reports.of(inst.id)?.outcome, "dropped"), 1000, 5);
    assert.deepEqual(rx.bodies<IncidentCloudEvent>().map((b) => b.type), ["dev.vmkeeper.incident.detected", "dev.vmkeeper.incident.detected", "dev.vmkeeper.incident.failed"]);
  });

  it("refuses a plain http URL unless allowHTTP, and reports it", async () => {
    const { registry, metrics } = metricsOn();
    const reports = new ReportLog();
    const refused = notifier({ endpoint: { allowHTTP: false }, metrics, onReport: reports.on });
    const e = event(7);
    assert.match(refused.problem() ?? "", /must use https/);
    assert.equal(refused.enqueue(e), "refused");
    await eventually(() => assert.equal(reports.of(e.id)?.outcome, "failed"), 1000, 5);
    assert.match(reports.of(e.id)?.lastError ?? "", /must use https/);
    assert.equal(reports.of(e.id)?.attempts, 0);
    assert.equal(await metricValue(registry, "vmkeeper_notifications_total", { result: "failed" }), 1);
    const allowed = notifier({ endpoint: { allowHTTP: true } });
    assert.equal(allowed.enqueue(e), "queued");
    await allowed.flush();
    assert.equal(rx.received.length, 1);
  });

  it("never follows a redirect", async () => {
    const reports = new ReportLog();
    rx.script = [{ status: 307, headers: { location: rx.url("/elsewhere?token=abc") } }];
    const n = notifier({ onReport: reports.on });
    const e = event(8);
    n.enqueue(e);
    await n.flush();
    await sleep(30);
    assert.deepEqual(rx.received.map((r) => r.path), ["/hook"]);
    await eventually(() => assert.equal(reports.of(e.id)?.outcome, "failed"), 1000, 5);
    assert.match(reports.of(e.id)?.lastError ?? "", /HTTP 307: redirect not followed/);
  });

  it("keeps order across many events, a retry in the middle included", async () => {
    rx.script = [{ status: 204 }, { status: 204 }, { status: 502 }];
    const n = notifier({ backoff: { baseDelayMs: 3, maxDelayMs: 10 } });
    const events = Array.from({ length: 20 }, (_, i) => event(i));
    for (const e of events) n.enqueue(e);
    await n.flush();
    const ids = rx.bodies<IncidentCloudEvent>().map((b) => b.id);
    assert.deepEqual(ids, [...events.slice(0, 3), ...events.slice(2)].map((e) => e.id));
  });

  it("ignores an event whose id is waiting, in delivery or already delivered", async () => {
    rx.script = ["hang"];
    const n = notifier();
    const e = event(9);
    assert.equal(n.enqueue(e), "queued");
    await eventually(() => assert.equal(rx.received.length, 1), 2000, 2);
    assert.equal(n.enqueue(e), "duplicate");
    const other = event(10);
    n.enqueue(other);
    assert.equal(n.enqueue(other), "duplicate");
    rx.release(200);
    await n.flush();
    assert.equal(n.enqueue(e), "duplicate");
    assert.equal(rx.received.length, 2);
  });

  it("never writes the key, the URL path or the payload's owner data to logs or reports", async () => {
    const { logger, text } = capturedLogger();
    const reports = new ReportLog();
    const token = "T0KEN-IN-PATH-77";
    rx.script = [{ status: 500 }, { status: 301, headers: { location: `/x/${token}` } }];
    const n = notifier({ logger, onReport: reports.on, endpoint: { url: rx.url(`/services/${token}?sig=${token}`), maxRetries: 2 }, backoff: { baseDelayMs: 2, maxDelayMs: 5 } });
    n.enqueue(event(11));
    n.enqueue(event(12));
    await n.flush();
    const closedPort = await freePort();
    const down = notifier({ logger, onReport: reports.on, endpoint: { url: `http://127.0.0.1:${closedPort}/hooks/${token}`, maxRetries: 1 }, backoff: { baseDelayMs: 2, maxDelayMs: 5 } });
    down.enqueue(event(13));
    await down.flush();
    const refused = notifier({ logger, onReport: reports.on, endpoint: { url: `http://127.0.0.1:1/${token}`, allowHTTP: false } });
    refused.enqueue(event(14));
    await sleep(20);
    const logs = text();
    const everything = logs + JSON.stringify(reports.all);
    assert.ok(logs.includes("notification delivered") && logs.includes("notification failed"), logs);
    assert.ok(reports.all.some((r) => /connection failed \(ECONNREFUSED\)/.test(r.lastError ?? "")), JSON.stringify(reports.all));
    for (const secret of [KEY.toString(), KEY.toString("hex"), KEY.toString("base64"), token, "owner-private-vm", "v1="]) {
      assert.ok(!everything.includes(secret), `leaked ${secret}`);
    }
  });

  it("close() lets the queue drain within the grace period, then drops the rest and reports them", async () => {
    const { registry, metrics } = metricsOn();
    const reports = new ReportLog();
    rx.script = ["hang"];
    const n = notifier({ metrics, onReport: reports.on });
    const events = [1, 2, 3].map((i) => event(i));
    for (const e of events) n.enqueue(e);
    await eventually(() => assert.equal(rx.received.length, 1), 2000, 2);
    await n.close(50);
    assert.equal(n.enqueue(event(4)), "closed");
    await eventually(() => assert.equal(reports.final().length, 3), 1000, 5);
    assert.deepEqual(reports.final().map((r) => r.outcome), ["dropped", "dropped", "dropped"]);
    assert.equal(await metricValue(registry, "vmkeeper_notifications_total", { result: "dropped" }), 3);
    assert.equal(await metricValue(registry, "vmkeeper_notification_queue_depth"), 0);
  });

  it("close() waits for a healthy endpoint to take everything", async () => {
    const reports = new ReportLog();
    const n = notifier({ onReport: reports.on });
    for (let i = 0; i < 5; i++) n.enqueue(event(i));
    await n.close(5000);
    assert.equal(rx.received.length, 5);
  });
});

describe("WebhookNotifier over https with a custom CA bundle", () => {
  let dir = "";
  let caPem = "";
  let server: https.Server | undefined;
  let port = 0;
  const poster = new TransportHttpPoster();

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "vmk-notify-"));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    } catch {
      this.skip();
    }
    caPem = readFileSync(join(dir, "cert.pem"), "utf8");
    server = https.createServer({ key: readFileSync(join(dir, "key.pem")), cert: caPem }, (req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200).end());
    });
    await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    poster.close();
    server?.closeAllConnections();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers when the bundle is given and fails with a TLS error without it", async () => {
    const reports = new ReportLog();
    const base = { url: `https://127.0.0.1:${port}/hook`, allowHTTP: false, timeoutMs: 2000, maxRetries: 0, queueSize: 10 };
    const trusted = new WebhookNotifier({ poster, clock: new SystemClock(), logger: silentLogger(), endpoint: { ...base, caPem }, onReport: reports.on });
    const untrusted = new WebhookNotifier({ poster, clock: new SystemClock(), logger: silentLogger(), endpoint: base, onReport: reports.on });
    trusted.enqueue(event(1));
    untrusted.enqueue(event(2));
    await Promise.all([trusted.close(), untrusted.close()]);
    await eventually(() => assert.equal(reports.final().length, 2), 1000, 5);
    assert.equal(reports.of(event(1).id)?.outcome, "delivered");
    assert.equal(reports.of(event(2).id)?.outcome, "failed");
    assert.match(reports.of(event(2).id)?.lastError ?? "", /^TLS error/);
  });
});
