import { randomBytes } from "node:crypto";
import type { Clock } from "../util/clock.js";
import { microTime } from "../util/time-format.js";
import type { Logger } from "../util/logger.js";
import { errorMessage } from "./api-error.js";
import type { KubeObject } from "./resource-type.js";

export type EventType = "Normal" | "Warning";

export interface EventObject extends KubeObject {
  eventTime?: string;
  series?: { count: number; lastObservedTime: string };
  reportingController?: string;
  reportingInstance?: string;
  action?: string;
  reason?: string;
  note?: string;
  type?: EventType;
  regarding?: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** Where events are written; ResourceClient<EventObject> provides it. */
export interface EventSink {
  create(event: EventObject): Promise<EventObject>;
  mergePatch(namespace: string, name: string, patch: unknown): Promise<EventObject>;
}

/** What users see in `kubectl describe` and `kubectl events`. */
export interface EventRecorder {
  /** Best effort: never throws; a failure is logged. */
  record(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): Promise<void>;
}

const REPORTING_CONTROLLER = "ha.vmkeeper.dev/operator";
const SERIES_WINDOW_MS = 10 * 60_000;
const MAX_NOTE = 1024;

/**
 * events.k8s.io/v1 recorder. A repeat of the same event within ten minutes bumps the
 * first event's `series` instead of creating another object, as client-go does, so a
 * retry loop cannot flood etcd with events.
 */
export class KubeEventRecorder implements EventRecorder {
  private readonly recent = new Map<string, { name: string; namespace: string; count: number; firstMs: number }>();

  constructor(
    private readonly events: EventSink,
    private readonly instance: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async record(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): Promise<void> {
    const meta = regarding.metadata ?? {};
    const namespace = meta.namespace ?? "default";
    const key = [meta.uid, type, reason, action, note].join("\u0000");
    const now = microTime(this.clock.now());
    const prior = this.recent.get(key);
    try {
      if (prior && this.clock.monotonicMs() - prior.firstMs < SERIES_WINDOW_MS) {
        prior.count++;
        await this.events.mergePatch(prior.namespace, prior.name, { series: { count: prior.count, lastObservedTime: now } });
        return;
      }
      const name = `${meta.name ?? "object"}.${randomBytes(8).toString("hex")}`;
      await this.events.create({
        metadata: { name, namespace },
        eventTime: now,
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: this.instance.slice(0, 128),
        action: action.slice(0, 128),
        reason: reason.slice(0, 128),
        note: note.length > MAX_NOTE ? note.slice(0, MAX_NOTE - 1) + "…" : note,
        type,
        regarding: { apiVersion: regarding.apiVersion, kind: regarding.kind, name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion },
      });
      this.recent.set(key, { name, namespace, count: 1, firstMs: this.clock.monotonicMs() });
      this.prune();
    } catch (err: unknown) {
      this.log.warn({ reason, regarding: `${regarding.kind ?? ""}/${meta.namespace ?? ""}/${meta.name ?? ""}`, err: errorMessage(err) }, "could not record event");
    }
  }

  private prune(): void {
    if (this.recent.size < 4096) return;
    const cutoff = this.clock.monotonicMs() - SERIES_WINDOW_MS;
    for (const [k, v] of this.recent) if (v.firstMs < cutoff) this.recent.delete(k);
  }
}
