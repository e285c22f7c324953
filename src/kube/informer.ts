import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { errorMessage, isGone, KubeApiError } from "./api-error.js";
import { ResourceClient } from "./resource-client.js";
import { objectKey, resourcePath, type KubeObject, type ResourceType } from "./resource-type.js";
import type { KubeRestClient, WatchEvent } from "./rest-client.js";

/** Called for every change the informer sees; `deleted` marks removals. */
export type InformerHandler<T> = (obj: T, deleted: boolean) => void;

export interface InformerOptions {
  client: KubeRestClient;
  type: ResourceType;
  clock: Clock;
  log: Logger;
  /** Watch one namespace; undefined watches all. */
  namespace?: string;
  labelSelector?: string;
  /** Cache only metadata (PartialObjectMetadata): for Secrets, whose data must not sit in memory. */
  metadataOnly?: boolean;
  /** Restart backoff after errors: initial and maximum delay. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

const METADATA_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const METADATA_WATCH_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

class WatchRestart extends Error {}

/**
 * List-then-watch cache of one resource type (a reflector plus store). It never gives up:
 * any error restarts it with exponential backoff and jitter, a 410 Gone relists at once,
 * and a stalled watch (no bytes for longer than its own timeout) is torn down.
 * `hasSynced` follows client-go (true after the first list); `isHealthy` is false while it
 * is failing, so /readyz can tell that the operator has lost its view of the cluster.
 */
export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private synced = false;
  private healthy = false;
  private failures = 0;
  private resourceVersion = "";
  private readonly list: ResourceClient<T>;

  constructor(private readonly o: InformerOptions) {
    this.list = new ResourceClient<T>(o.client, o.type);
  }

  get name(): string {
    return `${this.o.type.plural}${this.o.type.group ? "." + this.o.type.group : ""}`;
  }

  addHandler(h: InformerHandler<T>): void {
    this.handlers.push(h);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  isHealthy(): boolean {
    return this.synced && this.healthy;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  items(): T[] {
    return [...this.cache.values()];
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.relist();
        await this.watchLoop(signal);
      } catch (err: unknown) {
        if (signal.aborted) break;
        if (isGone(err) || err instanceof WatchRestart) {
          this.o.log.debug({ informer: this.name, err: errorMessage(err) }, "watch expired; relisting");
          continue;
        }
        this.healthy = false;
        this.failures++;
        const delay = this.backoff();
        this.o.log.warn({ informer: this.name, failures: this.failures, retryInMs: Math.round(delay), err: errorMessage(err) }, "informer failed; restarting");
        await this.o.clock.sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  private backoff(): number {
    const initial = this.o.backoffInitialMs ?? 500;
    const max = this.o.backoffMaxMs ?? 10_000;
    const base = Math.min(max, initial * 2 ** Math.min(this.failures - 1, 20));
    return base * (0.8 + Math.random() * 0.4);
  }

  private async relist(): Promise<void> {
    const query = this.o.labelSelector ? { labelSelector: this.o.labelSelector } : {};
    const res = await this.list.list(this.o.namespace, query, this.o.metadataOnly ? METADATA_ACCEPT : undefined);
    const seen = new Set<string>();
    for (const item of res.items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, item);
      if (!old || old.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.emit(item, false);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit(old, true);
      }
    }
    this.resourceVersion = res.metadata?.resourceVersion ?? "";
    this.synced = true;
    this.healthy = true;
    this.failures = 0;
  }

  private async watchLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // The server ends each watch after timeoutSeconds; spreading them avoids herds.
      const timeoutSeconds = 240 + Math.floor(Math.random() * 120);
      const stall = new AbortController();
      const onAbort = (): void => stall.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      let watchdog = setTimeout(() => stall.abort(), (timeoutSeconds + 30) * 1000);
      try {
        await this.o.client.watch(
          resourcePath(this.o.type, this.o.namespace),
          { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds, labelSelector: this.o.labelSelector },
          (ev) => {
            clearTimeout(watchdog);
            watchdog = setTimeout(() => stall.abort(), (timeoutSeconds + 30) * 1000);
            this.onWatchEvent(ev);
          },
          { signal: stall.signal, accept: this.o.metadataOnly ? METADATA_WATCH_ACCEPT : undefined },
        );
      } finally {
        clearTimeout(watchdog);
        signal.removeEventListener("abort", onAbort);
      }
      this.healthy = true;
    }
  }

  private onWatchEvent(ev: WatchEvent): void {
    if (ev.type === "ERROR") {
      const status = ev.object as { code?: number; reason?: string; message?: string };
      if (status.code === 410) throw new KubeApiError(410, status.reason ?? "Expired", status.message ?? "", "WATCH", this.name);
      throw new WatchRestart(`watch error ${status.code ?? "?"}: ${status.message ?? ""}`);
    }
    const obj = ev.object as T;
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (ev.type === "BOOKMARK") return;
    const key = objectKey(obj);
    if (ev.type === "DELETED") {
      this.cache.delete(key);
      this.emit(obj, true);
      return;
    }
    this.cache.set(key, obj);
    this.emit(obj, false);
  }

  private emit(obj: T, deleted: boolean): void {
    for (const h of this.handlers) {
      try {
        h(obj, deleted);
      } catch (err: unknown) {
        this.o.log.error({ informer: this.name, err: errorMessage(err) }, "informer handler threw");
      }
    }
  }
}
