import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { BackoffSettings } from "./delivery-policy.js";
import type { HttpPoster } from "./http-poster.js";
import type { CloudEvent } from "./incident-event.js";
import type { NotificationMetrics } from "./notification-metrics.js";
import { endpointFingerprint, type WebhookEndpoint } from "./webhook-endpoint.js";
import { WebhookNotifier, type DeliveryReport, type EnqueueResult } from "./webhook-notifier.js";

export interface NotifierRegistryOptions {
  poster: HttpPoster;
  clock: Clock;
  logger: Logger;
  metrics?: NotificationMetrics;
  /** Every notifier's reports, with the policy key (`namespace/name`) they belong to. */
  onReport?: (policyKey: string, report: DeliveryReport) => void;
  random?: () => number;
  backoff?: BackoffSettings;
  /** How long a replaced or removed notifier may keep delivering its in-flight event. */
  closeGraceMs?: number;
}

interface Entry {
  notifier: WebhookNotifier;
  fingerprint: string;
}

/**
 * One WebhookNotifier per InstanceHAPolicy (key `namespace/name`). `sync` (re)creates a
 * notifier when the policy's webhook settings or secrets change, handing the waiting
 * events to the new one (the event in delivery finishes on the old one), and closes it
 * when the policy no longer has a webhook. No module state: the composition root owns it.
 */
export class NotifierRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly options: NotifierRegistryOptions) {}

  /** Makes the notifier of `policyKey` match `endpoint` (undefined: the policy has no webhook). */
  sync(policyKey: string, endpoint: WebhookEndpoint | undefined): void {
    const existing = this.entries.get(policyKey);
    if (!endpoint) {
      if (existing) this.retire(policyKey, existing);
      return;
    }
    const fingerprint = endpointFingerprint(endpoint);
    if (existing?.fingerprint === fingerprint) return;
    const notifier = this.create(policyKey, endpoint);
    this.entries.set(policyKey, { notifier, fingerprint });
    if (existing) {
      notifier.adopt(existing.notifier.takePending());
      this.retire(policyKey, existing, true);
    }
    this.options.logger.info({ component: "notifier-registry", policy: policyKey, replaced: existing !== undefined }, "webhook notifier configured");
  }

  /** Closes the notifiers of policies not in `keep` (e.g. after a full list of policies). */
  retainOnly(keep: Iterable<string>): void {
    const wanted = new Set(keep);
    for (const [key, entry] of [...this.entries]) if (!wanted.has(key)) this.retire(key, entry);
  }

  /** Queues the event for the policy's webhook; `no-webhook` when the policy has none. */
  enqueue(policyKey: string, event: CloudEvent<unknown>): EnqueueResult | "no-webhook" {
    const entry = this.entries.get(policyKey);
    return entry ? entry.notifier.enqueue(event) : "no-webhook";
  }

  get(policyKey: string): WebhookNotifier | undefined {
    return this.entries.get(policyKey)?.notifier;
  }

  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Waits until every notifier has nothing waiting or in delivery. */
  async flush(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.notifier.flush()));
  }

  /** Shutdown: closes every notifier (each drains for up to `graceMs`). */
  async close(graceMs?: number): Promise<void> {
    const all = [...this.entries.values()].map((e) => e.notifier.close(graceMs));
    this.entries.clear();
    await Promise.all([...all, ...this.closing]);
  }

  private create(policyKey: string, endpoint: WebhookEndpoint): WebhookNotifier {
    const { poster, clock, logger, metrics, random, backoff, onReport } = this.options;
    return new WebhookNotifier({
      endpoint,
      poster,
      clock,
      logger: logger.child({ policy: policyKey }),
      ...(metrics ? { metrics } : {}),
      ...(random ? { random } : {}),
      ...(backoff ? { backoff } : {}),
      ...(onReport ? { onReport: (r: DeliveryReport) => onReport(policyKey, r) } : {}),
    });
  }

  private retire(policyKey: string, entry: Entry, replaced = false): void {
    if (!replaced) this.entries.delete(policyKey);
    const done = entry.notifier.close(this.options.closeGraceMs).finally(() => this.closing.delete(done));
    this.closing.add(done);
  }
}
