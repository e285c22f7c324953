import { randomUUID } from "node:crypto";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { errorMessage } from "./api-error.js";
import type { ControllerMetrics } from "./controller-metrics.js";
import type { Informer } from "./informer.js";
import type { WorkQueue } from "./queue/work-queue.js";
import { objectKey, splitKey, type KubeObject } from "./resource-type.js";

export interface ReconcileRequest {
  key: string;
  namespace: string | undefined;
  name: string;
}

export interface ReconcileContext {
  log: Logger;
  reconcileID: string;
  /** Aborts when the controller stops or leadership is lost: stop side effects. */
  signal: AbortSignal;
}

export interface ReconcileResult {
  /** Re-check after this delay even if nothing changes (the smallest pending deadline). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void>;
}

/**
 * An error that retrying cannot fix (an invalid spec). The reconciler records it in a
 * condition; the runner counts it and does not requeue.
 */
export class TerminalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TerminalError";
  }
}

export interface ControllerOptions {
  name: string;
  reconciler: Reconciler;
  queue: WorkQueue;
  workers: number;
  clock: Clock;
  log: Logger;
  metrics: ControllerMetrics;
}

/** Maps a changed object to the keys of the objects that must be reconciled because of it. */
export type KeyMapper<T> = (obj: T, deleted: boolean) => string[];

/**
 * Runs a reconciler on N workers fed by one keyed work queue. The queue guarantees that a
 * key is never reconciled twice at once; errors requeue with per-key backoff; success
 * forgets the backoff; `requeueAfterMs` schedules the next look.
 */
export class Controller {
  private active = 0;

  constructor(private readonly o: ControllerOptions) {}

  get name(): string {
    return this.o.name;
  }

  enqueue(key: string): void {
    this.o.queue.add(key);
  }

  /** Feeds the queue from an informer; by default an object maps to its own key. */
  watch<T extends KubeObject>(informer: Informer<T>, mapper: KeyMapper<T> = (obj) => [objectKey(obj)]): void {
    informer.addHandler((obj, deleted) => {
      for (const key of mapper(obj, deleted)) this.o.queue.add(key);
    });
  }

  /** Runs workers until `signal` aborts, then drains in-flight reconciles. */
  async run(signal: AbortSignal): Promise<void> {
    this.o.metrics.workers(this.o.name, this.o.workers, 0);
    const onAbort = (): void => this.o.queue.shutDown();
    signal.addEventListener("abort", onAbort, { once: true });
    const workers = Array.from({ length: this.o.workers }, () => this.worker(signal));
    await Promise.all(workers);
    signal.removeEventListener("abort", onAbort);
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.o.queue.get();
      if (key === undefined) return;
      this.active++;
      this.o.metrics.workers(this.o.name, this.o.workers, this.active);
      try {
        await this.reconcileOne(key, signal);
      } finally {
        this.active--;
        this.o.metrics.workers(this.o.name, this.o.workers, this.active);
        this.o.queue.done(key);
      }
    }
  }

  private async reconcileOne(key: string, signal: AbortSignal): Promise<void> {
    const reconcileID = randomUUID();
    const log = this.o.log.child({ controller: this.o.name, key, reconcileID });
    const started = this.o.clock.monotonicMs();
    const seconds = (): number => (this.o.clock.monotonicMs() - started) / 1000;
    const { namespace, name } = splitKey(key);
    try {
      const result = await this.o.reconciler.reconcile({ key, namespace, name }, { log, reconcileID, signal });
      this.o.queue.forget(key);
      if (result?.requeueAfterMs !== undefined && result.requeueAfterMs >= 0) {
        this.o.queue.addAfter(key, result.requeueAfterMs);
        this.o.metrics.reconciled(this.o.name, "requeue_after", seconds());
      } else {
        this.o.metrics.reconciled(this.o.name, "success", seconds());
      }
    } catch (err: unknown) {
      const terminal = err instanceof TerminalError;
      this.o.metrics.reconciled(this.o.name, "error", seconds());
      this.o.metrics.error(this.o.name, terminal);
      if (terminal) {
        this.o.queue.forget(key);
        log.warn({ err: errorMessage(err) }, "reconcile failed terminally; not retrying until the object changes");
      } else if (!signal.aborted) {
        this.o.queue.addRateLimited(key);
        log.info({ err: errorMessage(err), retries: this.o.queue.numRequeues(key) }, "reconcile failed; retrying with backoff");
      }
    }
  }
}
