import { createSocket, type Socket } from "node:dgram";
import { Counter, type Registry } from "prom-client";
import type { KdumpWatch } from "../fencing/fence-host.js";
import type { Clock } from "../util/clock.js";
import { registeredMetric } from "../util/registered-metric.js";
import { kdumpNoticeAuthentic, parseKdumpNotice, type KdumpNotice } from "./kdump-notice.js";

const PER_HOST = 16;
const MAX_HOSTS = 10_000;
/** A dumping host repeats its "started" notice; one older than this no longer says it is dumping. */
const ACTIVE_MS = 30_000;
/** Notices whose own timestamp is further than this from our clock are replays or badly skewed. */
const SKEW_MS = 120_000;

interface Received {
  notice: KdumpNotice;
  atMs: number;
  /** Counted as rejected already (a fencing pass polls the same notices every second). */
  rejectedCounted?: boolean;
}

/**
 * Collects kdump notices per host. Authentication happens when fencing asks (`state`), with the
 * key of the HostFencing in force for that host: notices are kept unverified (bounded per host and
 * in hosts), and a spoofed one simply never verifies (F21). It can only delay a power-off, never
 * replace it.
 */
export class KdumpReceiver implements KdumpWatch {
  private readonly byHost = new Map<string, Received[]>();
  private socket: Socket | undefined;
  private readonly counted: Counter<"result">;

  constructor(private readonly clock: Clock, registry: Registry) {
    this.counted = registeredMetric(registry, "vmkeeper_kdump_notices_total", () => new Counter({ name: "vmkeeper_kdump_notices_total", help: "kdump notices received, by result (malformed ones are dropped)", labelNames: ["result"], registers: [registry] }));
  }

  /** Records one datagram; malformed ones are dropped and counted, never thrown. */
  ingest(buf: Buffer): void {
    const notice = parseKdumpNotice(buf);
    if (!notice) {
      this.counted.inc({ result: "malformed" });
      return;
    }
    if (!this.byHost.has(notice.host) && this.byHost.size >= MAX_HOSTS) {
      this.counted.inc({ result: "host_limit" });
      return;
    }
    const list = this.byHost.get(notice.host) ?? [];
    list.push({ notice, atMs: this.clock.monotonicMs() });
    this.byHost.set(notice.host, list.slice(-PER_HOST));
    this.counted.inc({ result: "received" });
  }

  state(serviceHost: string, key: Buffer): { dumping: boolean; finished: boolean } {
    const now = this.clock.monotonicMs();
    const wall = this.clock.now().getTime();
    const valid = (this.byHost.get(serviceHost) ?? []).filter((r) => {
      const ok = Math.abs(r.notice.sentAtMs - wall) <= SKEW_MS + (now - r.atMs) && kdumpNoticeAuthentic(r.notice, key);
      if (!ok && !r.rejectedCounted) {
        r.rejectedCounted = true;
        this.counted.inc({ result: "rejected" });
      }
      return ok;
    });
    const recent = valid.filter((r) => now - r.atMs <= ACTIVE_MS);
    return { dumping: recent.length > 0, finished: recent.some((r) => r.notice.phase === "done") };
  }

  async listen(host: string, port: number): Promise<number> {
    const s = createSocket({ type: host.includes(":") ? "udp6" : "udp4" });
    s.on("message", (msg) => this.ingest(msg));
    s.on("error", () => this.counted.inc({ result: "socket_error" }));
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(port, host, () => {
        s.off("error", reject);
        resolve();
      });
    });
    this.socket = s;
    return s.address().port;
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
