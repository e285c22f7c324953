import type { Clock } from "../../util/clock.js";
import { defaultControllerRateLimiter } from "./default-controller-rate-limiter.js";
import { DelayedKeys } from "./delayed-keys.js";
import { KeyFifo } from "./key-fifo.js";
import type { RateLimiter } from "./rate-limiter.js";
import { noopWorkQueueMetrics, type WorkQueueMetrics } from "./work-queue-metrics.js";

export interface WorkQueueOptions {
  /** Queue name, used as the `name` label of the metrics. */
  name: string;
  clock: Clock;
  /** Backoff for `addRateLimited`; defaults to `defaultControllerRateLimiter(clock)`. */
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
}

/** How often the unfinished-work gauges are refreshed while keys are in flight (client-go's period). */
const UNFINISHED_WORK_UPDATE_PERIOD_MS = 500;

interface DelayTimer {
  readyAtMs: number;
  abort: AbortController;
}

/**
 * A keyed work queue with client-go's semantics:
 * - a key is queued at most once: adding a queued key is a no-op;
 * - a key is never handed out twice at once: adding a key that is being processed marks it
 *   dirty, and `done()` puts it back at the end of the queue;
 * - keys are handed out in FIFO order, and waiting `get()` calls are served in call order;
 * - delayed and rate-limited adds wait on the injected clock.
 *
 * Shutting down (either way) drops queued and delayed keys: a new leader or the next start
 * lists everything again, so starting more work on the way out only delays the exit.
 */
export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics;
  private readonly reportsUnfinishedWork: boolean;

  private readonly queue = new KeyFifo();
  /** Keys that need processing: the queued ones plus in-flight ones that were added again. */
  private readonly dirty = new Set<string>();
  /** Keys handed out by `get()` and not yet `done()`, with the monotonic time they started. */
  private readonly processing = new Map<string, number>();
  /** When each dirty key was added, for the queue-duration metric. */
  private readonly addedAtMs = new Map<string, number>();
  private readonly delayed = new DelayedKeys();
  private delayTimer: DelayTimer | undefined;
  private unfinishedTicker: AbortController | undefined;
  private getters: ((key: string | undefined) => void)[] = [];
  private drainers: (() => void)[] = [];
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.clock = opts.clock;
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter(opts.clock);
    this.metrics = opts.metrics ?? noopWorkQueueMetrics();
    this.reportsUnfinishedWork = opts.metrics !== undefined;
  }

  /** Queues `key` unless it is already waiting; ignored after shutdown. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAtMs.set(key, this.clock.monotonicMs());
    this.metrics.add();
    this.metrics.depth(this.dirty.size);
    // An in-flight key is only marked: done() queues it again, so it is never processed twice at once.
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.dispatch();
  }

  /**
   * Adds `key` once `delayMs` has passed on the clock. While a key waits, another delayed
   * add of it keeps whichever moment is earlier. A delay of zero or less adds at once.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    this.delayed.upsert(key, this.clock.monotonicMs() + delayMs);
    this.armDelayTimer();
  }

  /** Adds `key` after the rate limiter's delay for it: the retry path after a failure. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.retry();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Resets the backoff of `key`; call it when the key was processed successfully. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting for one if the queue is empty. Resolves `undefined`
   * once the queue is shut down; the caller's worker should then stop.
   */
  get(): Promise<string | undefined> {
    const key = this.take();
    if (key !== undefined || this.shuttingDown) return Promise.resolve(key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, it goes back into the queue. */
  done(key: string): void {
    const startedAtMs = this.processing.get(key);
    // Unknown or already done: ignoring it keeps a double done() from queueing a duplicate.
    if (startedAtMs === undefined) return;
    this.processing.delete(key);
    this.metrics.done(this.clock.monotonicMs() - startedAtMs);
    this.reportUnfinishedWork();
    if (this.dirty.has(key)) {
      this.queue.push(key);
      this.dispatch();
    }
    if (this.processing.size === 0) {
      this.stopUnfinishedTicker();
      const drainers = this.drainers;
      this.drainers = [];
      for (const drained of drainers) drained();
    }
  }

  /** Number of keys ready to be handed out. */
  len(): number {
    return this.queue.length;
  }

  /**
   * Stops accepting adds, drops queued and delayed keys, and resolves every waiting and
   * future `get()` with `undefined`. Keys in flight may still be marked `done()`.
   */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.delayed.clear();
    this.armDelayTimer();
    this.queue.clear();
    // Dirty marks of in-flight keys go too, so that done() does not queue them again.
    this.dirty.clear();
    this.addedAtMs.clear();
    this.metrics.depth(0);
    // Gauges are no longer refreshed on a timer: a timer must not keep the process alive.
    this.stopUnfinishedTicker();
    const getters = this.getters;
    this.getters = [];
    for (const getter of getters) getter(undefined);
  }

  /** Like `shutDown`, and resolves once every key handed out by `get()` has been `done()`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Hands queued keys to waiting getters, oldest getter first. */
  private dispatch(): void {
    while (this.getters.length > 0 && this.queue.length > 0) {
      const getter = this.getters.shift();
      getter?.(this.take());
    }
  }

  /** Moves the head of the queue to the in-flight set. */
  private take(): string | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    const now = this.clock.monotonicMs();
    this.dirty.delete(key);
    this.processing.set(key, now);
    this.metrics.get(now - (this.addedAtMs.get(key) ?? now));
    this.addedAtMs.delete(key);
    this.metrics.depth(this.dirty.size);
    this.reportUnfinishedWork();
    this.startUnfinishedTicker();
    return key;
  }

  /**
   * Keeps exactly one clock sleep running, for the earliest delayed key. A sleep for a later
   * moment is aborted and replaced when an earlier key arrives, and aborted when nothing
   * waits any more (so an idle or shut-down queue holds no timer).
   */
  private armDelayTimer(): void {
    const readyAtMs = this.delayed.nextReadyAtMs();
    if (this.delayTimer && readyAtMs !== undefined && this.delayTimer.readyAtMs <= readyAtMs) return;
    this.delayTimer?.abort.abort();
    this.delayTimer = undefined;
    if (readyAtMs === undefined) return;
    const timer: DelayTimer = { readyAtMs, abort: new AbortController() };
    this.delayTimer = timer;
    void this.clock.sleep(readyAtMs - this.clock.monotonicMs(), timer.abort.signal).then(
      () => {
        if (this.delayTimer !== timer) return;
        this.delayTimer = undefined;
        for (const key of this.delayed.popReady(this.clock.monotonicMs())) this.add(key);
        this.armDelayTimer();
      },
      () => {
        // Aborted: replaced by an earlier deadline, or the queue shut down.
      },
    );
  }

  private reportUnfinishedWork(): void {
    if (!this.reportsUnfinishedWork) return;
    const now = this.clock.monotonicMs();
    let totalMs = 0;
    let longestMs = 0;
    for (const startedAtMs of this.processing.values()) {
      const runningMs = now - startedAtMs;
      totalMs += runningMs;
      longestMs = Math.max(longestMs, runningMs);
    }
    this.metrics.unfinished(totalMs, longestMs);
  }

  /** Refreshes the unfinished-work gauges while keys are in flight, so stuck workers show. */
  private startUnfinishedTicker(): void {
    if (!this.reportsUnfinishedWork || this.unfinishedTicker || this.shuttingDown) return;
    const ticker = new AbortController();
    this.unfinishedTicker = ticker;
    const tick = (): void => {
      void this.clock.sleep(UNFINISHED_WORK_UPDATE_PERIOD_MS, ticker.signal).then(
        () => {
          this.reportUnfinishedWork();
          tick();
        },
        () => {
          // Aborted: nothing in flight any more, or shut down.
        },
      );
    };
    tick();
  }

  private stopUnfinishedTicker(): void {
    this.unfinishedTicker?.abort();
    this.unfinishedTicker = undefined;
  }
}
