import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { BoundedQueue } from "./bounded-queue.js";
import { classifyError, classifyResponse, DEFAULT_WEBHOOK_BACKOFF, endpointOrigin, retryDelayMs, type AttemptOutcome, type BackoffSettings } from "./delivery-policy.js";
import type { HttpPoster } from "./http-poster.js";
import { INCIDENT_EVENT_TYPE_PREFIX, INSTANCE_EVENT_NAMES, serializeEvent, type CloudEvent } from "./incident-event.js";
import { noopNotificationMetrics, type NotificationMetrics } from "./notification-metrics.js";
import { endpointProblem, type WebhookEndpoint } from "./webhook-endpoint.js";
import { SIGNATURE_HEADER, signatureHeader } from "./webhook-signature.js";

export const CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8";
export const ATTEMPT_HEADER = "X-Vmkeeper-Delivery-Attempt";
const DEFAULT_USER_AGENT = "vmkeeper-notifier/1";
const REMEMBER_DELIVERED = 1024;
const DEFAULT_CLOSE_GRACE_MS = 5000;

/** Progress or outcome of one event, for the caller to record (Incident status.notification). */
export interface DeliveryReport {
  eventId: string;
  type: string;
  subject: string;
  /** `retrying` after each failed attempt that will be retried; the others are final. */
  outcome: "delivered" | "retrying" | "failed" | "dropped";
  enqueuedAt: Date;
  firstAttemptAt?: Date;
  deliveredAt?: Date;
  attempts: number;
  /** HTTP status of the last attempt, when there was a response. */
  status?: number;
  /** Never contains the URL, headers or body. */
  lastError?: string;
}

/** An event waiting for delivery; moved whole between notifiers when settings change. */
export interface PendingEvent {
  event: CloudEvent<unknown>;
  body: string;
  enqueuedAt: Date;
  enqueuedMs: number;
}

export type EnqueueResult = "queued" | "duplicate" | "refused" | "closed";

export interface WebhookNotifierOptions {
  endpoint: WebhookEndpoint;
  poster: HttpPoster;
  clock: Clock;
  logger: Logger;
  metrics?: NotificationMetrics;
  onReport?: (report: DeliveryReport) => void;
  /** In [0, 1), for backoff jitter. */
  random?: () => number;
  backoff?: BackoffSettings;
  userAgent?: string;
}

/**
 * Delivers CloudEvents to one webhook endpoint, one at a time and in order. `enqueue`
 * never blocks: events wait in a bounded FIFO (the oldest is dropped when it is full,
 * per-instance events before incident-level ones) and a single worker posts them with a
 * per-attempt timeout, retrying network errors, timeouts, 408/425/429 and 5xx with capped
 * exponential backoff and jitter (Retry-After honoured), up to `maxRetries` retries.
 */
export class WebhookNotifier {
  private readonly queue: BoundedQueue<PendingEvent>;
  private readonly metrics: NotificationMetrics;
  private readonly random: () => number;
  private readonly backoff: BackoffSettings;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private readonly delivered = new Set<string>();
  private current: PendingEvent | undefined;
  private worker: Promise<void> | undefined;
  private running = false;
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: WebhookNotifierOptions) {
    const isInstanceEvent = (p: PendingEvent): boolean => [...INSTANCE_EVENT_NAMES].some((n) => p.event.type === `${INCIDENT_EVENT_TYPE_PREFIX}${n}`);
    this.queue = new BoundedQueue<PendingEvent>(Math.max(1, options.endpoint.queueSize), isInstanceEvent);
    this.metrics = options.metrics ?? noopNotificationMetrics();
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? DEFAULT_WEBHOOK_BACKOFF;
    this.log = options.logger.child({ component: "notifier", endpoint: endpointOrigin(options.endpoint.url) });
    const problem = this.problem();
    if (problem) this.log.warn({ problem }, "webhook endpoint refused; its notifications will fail until the policy is fixed");
  }

  /** Why this endpoint cannot deliver anything, if it cannot. */
  problem(): string | undefined {
    return endpointProblem(this.options.endpoint);
  }

  /** Events held: waiting plus the one in delivery. */
  get depth(): number {
    return this.queue.size + (this.current ? 1 : 0);
  }

  /**
   * Queues the event and returns at once. An event whose id is waiting, in delivery or was
   * delivered recently by this notifier is a duplicate and not queued again.
   */
  enqueue(event: CloudEvent<unknown>): EnqueueResult {
    if (this.closing) return "closed";
    if (this.isKnown(event.id)) return "duplicate";
    const pending: PendingEvent = { event, body: serializeEvent(event), enqueuedAt: this.options.clock.now(), enqueuedMs: this.options.clock.monotonicMs() };
    const problem = this.problem();
    if (problem) {
      this.finish(pending, { outcome: "failed", attempts: 0, lastError: problem });
      return "refused";
    }
    this.push(pending);
    return "queued";
  }

  /** Takes over events from a notifier being replaced, keeping their enqueue times. */
  adopt(events: PendingEvent[]): void {
    for (const p of events) {
      if (this.closing || this.isKnown(p.event.id)) continue;
      const problem = this.problem();
      if (problem) this.finish(p, { outcome: "failed", attempts: 0, lastError: problem });
      else this.push(p);
    }
  }

  /** Removes and returns the events not yet in delivery (the one in delivery finishes here). */
  takePending(): PendingEvent[] {
    const taken = this.queue.drain();
    this.metrics.queueDepth(-taken.length);
    return taken;
  }

  /** Resolves when nothing is waiting or in delivery. */
  async flush(): Promise<void> {
    while (this.running && this.worker) await this.worker;
  }

  /**
   * Stops accepting events, lets the queue drain for up to `graceMs` (on the clock), then
   * aborts what is left; every event not delivered by then is reported as dropped.
   */
  close(graceMs = DEFAULT_CLOSE_GRACE_MS): Promise<void> {
    this.closed ??= this.doClose(graceMs);
    return this.closed;
  }

  private async doClose(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.running) {
      const timer = new AbortController();
      const grace = this.options.clock.sleep(graceMs, timer.signal).catch(() => undefined);
      await Promise.race([this.flush(), grace]);
      timer.abort();
    }
    this.abort.abort(new Error("notifier closed"));
    await this.flush();
    for (const p of this.takePending()) this.finish(p, { outcome: "dropped", attempts: 0, lastError: "notifier closed before delivery" });
  }

  private isKnown(id: string): boolean {
    return this.delivered.has(id) || this.current?.event.id === id || this.queue.some((p) => p.event.id === id);
  }

  private push(pending: PendingEvent): void {
    const dropped = this.queue.push(pending);
    if (dropped) {
      this.finish(dropped, { outcome: "dropped", attempts: 0, lastError: `queue full (${this.queue.capacity} waiting): dropped for a newer event` });
    } else {
      this.metrics.queueDepth(1);
    }
    if (!this.running) {
      this.running = true;
      this.worker = this.run();
    }
  }

  /** The single delivery worker; `running` is cleared in the same turn the queue is seen empty. */
  private async run(): Promise<void> {
    await Promise.resolve();
    for (;;) {
      const next = this.queue.shift();
      if (!next) {
        this.running = false;
        return;
      }
      this.current = next;
      try {
        await this.deliver(next);
      } catch (e) {
        this.log.error({ eventId: next.event.id, err: e instanceof Error ? e.message : String(e) }, "notification worker failed on an event");
      } finally {
        this.current = undefined;
        this.metrics.queueDepth(-1);
      }
    }
  }

  private async deliver(p: PendingEvent): Promise<void> {
    const { clock } = this.options;
    let firstAttemptAt: Date | undefined;
    for (let attempt = 1; ; attempt++) {
      if (this.abort.signal.aborted) return this.finish(p, { outcome: "dropped", attempts: attempt - 1, lastError: "notifier closed before delivery" }, firstAttemptAt);
      firstAttemptAt ??= clock.now();
      const outcome = await this.attempt(p, attempt);
      if (this.abort.signal.aborted && outcome.kind !== "delivered") {
        return this.finish(p, { outcome: "dropped", attempts: attempt, lastError: "notifier closed during delivery" }, firstAttemptAt);
      }
      this.metrics.attempt(outcome.kind === "delivered" ? "delivered" : outcome.result);
      if (outcome.kind === "delivered") return this.succeed(p, attempt, outcome.status, firstAttemptAt);
      const base = { attempts: attempt, lastError: outcome.error, ...(outcome.status !== undefined ? { status: outcome.status } : {}) };
      if (outcome.kind === "permanent" || attempt > this.options.endpoint.maxRetries) return this.finish(p, { outcome: "failed", ...base }, firstAttemptAt);
      const delay = retryDelayMs(attempt, this.random, outcome.retryAfterMs, this.backoff);
      this.log.debug({ eventId: p.event.id, attempt, error: outcome.error, retryInMs: delay }, "notification attempt failed; retrying");
      this.report(p, { outcome: "retrying", ...base }, firstAttemptAt);
      try {
        await clock.sleep(delay, this.abort.signal);
      } catch {
        return this.finish(p, { outcome: "dropped", ...base, lastError: `notifier closed before retry (last: ${outcome.error})` }, firstAttemptAt);
      }
    }
  }

  private async attempt(p: PendingEvent, attempt: number): Promise<AttemptOutcome> {
    const { endpoint, clock, poster } = this.options;
    const problem = this.problem();
    if (problem) return { kind: "permanent", result: "refused", error: problem };
    const headers: Record<string, string> = {
      "content-type": CLOUDEVENTS_CONTENT_TYPE,
      "user-agent": this.options.userAgent ?? DEFAULT_USER_AGENT,
      [ATTEMPT_HEADER.toLowerCase()]: String(attempt),
    };
    if (endpoint.hmacKey) headers[SIGNATURE_HEADER.toLowerCase()] = signatureHeader(endpoint.hmacKey, Math.floor(clock.now().getTime() / 1000), p.body);
    try {
      const res = await poster.post({
        url: endpoint.url,
        headers,
        body: p.body,
        timeoutMs: endpoint.timeoutMs,
        ...(endpoint.caPem !== undefined ? { caPem: endpoint.caPem } : {}),
        signal: this.abort.signal,
      });
      return classifyResponse(res, clock.now());
    } catch (e) {
      return classifyError(e);
    }
  }

  private succeed(p: PendingEvent, attempts: number, status: number, firstAttemptAt: Date | undefined): void {
    const { clock } = this.options;
    const seconds = Math.max(0, clock.monotonicMs() - p.enqueuedMs) / 1000;
    this.delivered.add(p.event.id);
    if (this.delivered.size > REMEMBER_DELIVERED) {
      const oldest = this.delivered.values().next();
      if (!oldest.done) this.delivered.delete(oldest.value);
    }
    this.metrics.finished("delivered", seconds);
    this.log.info({ eventId: p.event.id, type: p.event.type, attempts, status, ms: Math.round(seconds * 1000) }, "notification delivered");
    this.report(p, { outcome: "delivered", attempts, status, deliveredAt: clock.now() }, firstAttemptAt);
  }

  private finish(p: PendingEvent, r: Omit<DeliveryReport, "eventId" | "type" | "subject" | "enqueuedAt">, firstAttemptAt?: Date): void {
    const result = r.outcome === "dropped" ? "dropped" : "failed";
    this.metrics.finished(result);
    this.log.warn({ eventId: p.event.id, type: p.event.type, result, attempts: r.attempts, error: r.lastError }, `notification ${result}`);
    this.report(p, r, firstAttemptAt);
  }

  private report(p: PendingEvent, r: Omit<DeliveryReport, "eventId" | "type" | "subject" | "enqueuedAt">, firstAttemptAt?: Date): void {
    const report: DeliveryReport = { eventId: p.event.id, type: p.event.type, subject: p.event.subject, enqueuedAt: p.enqueuedAt, ...(firstAttemptAt ? { firstAttemptAt } : {}), ...r };
    const onReport = this.options.onReport;
    if (!onReport) return;
    // Never from inside enqueue (a caller's callback must not re-enter it); order is kept.
    queueMicrotask(() => {
      try {
        onReport(report);
      } catch (e) {
        this.log.warn({ eventId: p.event.id, err: e instanceof Error ? e.message : String(e) }, "notification report callback failed");
      }
    });
  }
}
