import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { Registry } from "prom-client";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { decodeHeartbeat, MAX_DATAGRAM_BYTES } from "./heartbeat-codec.js";
import type { Keyring } from "./heartbeat-keys.js";
import { HeartbeatReceiverMetrics, type IngestResult } from "./heartbeat-metrics.js";
import { HeartbeatTable, type HeartbeatState, type HostHeartbeat, type HostKey, type PeerView, type PeerViewIndex } from "./heartbeat-table.js";
import { ipFamily, parseHostPort } from "./udp-address.js";

export interface HeartbeatReceiverOptions {
  /** UDP `HOST:PORT` or `[IPV6]:PORT` to bind; `[::]:PORT` is dual-stack. Port 0 picks a free port. */
  bindAddress: string;
  /** Verification keys (current + previous); may be replaced at runtime for rotation. */
  keyring: Keyring;
  /** The clock whose monotonic ms the host monitor compares lastSeenMs with. */
  clock: Clock;
  log: Logger;
  registry: Registry;
  /** Sender timestamps further than this from the receiver's wall clock are refused (default 30 000). */
  maxSkewMs?: number;
  /** Hosts kept at most; authenticated packets of further hosts are refused as host_limit (default 10 000). */
  maxHosts?: number;
  /** SO_RCVBUF request (the kernel caps it at net.core.rmem_max); default 4 MiB. */
  receiveBufferBytes?: number;
}

export const DEFAULT_MAX_SKEW_MS = 30_000;

/**
 * The operator side of the heartbeat channel: binds one UDP socket, verifies each datagram
 * (HMAC in constant time, known key id and version, size, replay, timestamp skew) and keeps
 * per-host state. Every operator replica runs one, so a standby is warm. Bad input is
 * dropped and counted; nothing thrown in the handler leaves it.
 */
export class HeartbeatReceiver {
  private readonly table: HeartbeatTable;
  private readonly metrics: HeartbeatReceiverMetrics;
  private readonly maxSkewMs: number;
  private socket: Socket | undefined;
  private readonly lastLogMs = new Map<IngestResult, number>();

  constructor(private readonly opts: HeartbeatReceiverOptions) {
    this.table = new HeartbeatTable(opts.maxHosts ?? 10_000);
    this.maxSkewMs = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    this.metrics = new HeartbeatReceiverMetrics(opts.registry, () => this.table.size());
  }

  /** Binds the socket; resolves with the bound address (useful with port 0). */
  start(): Promise<{ address: string; port: number }> {
    const bind = parseHostPort(this.opts.bindAddress);
    const family = bind ? ipFamily(bind.host) : undefined;
    if (!bind || !family) return Promise.reject(new Error(`heartbeat receiver: bind address "${this.opts.bindAddress}" is not IP:PORT or [IPV6]:PORT`));
    const socket = createSocket({ type: family === 6 ? "udp6" : "udp4", recvBufferSize: this.opts.receiveBufferBytes ?? 4 * 1024 * 1024 });
    this.socket = socket;
    socket.on("message", (msg: Buffer, rinfo: RemoteInfo) => {
      this.handle(msg, rinfo);
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.socket = undefined;
        socket.close();
        reject(new Error(`heartbeat receiver: cannot bind ${this.opts.bindAddress}: ${err.message}`));
      };
      socket.once("error", onError);
      socket.bind(bind.port, bind.host, () => {
        socket.removeListener("error", onError);
        socket.on("error", (err) => this.opts.log.error({ err: err.message }, "heartbeat socket error"));
        const a = socket.address();
        this.opts.log.info({ address: a.address, port: a.port, keyIds: this.opts.keyring.ids() }, "heartbeat receiver listening");
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  /** Verifies and records one datagram. Public so benchmarks and tests can drive it without a socket. */
  handle(buf: Buffer, from?: RemoteInfo): IngestResult {
    let result: IngestResult;
    try {
      result = this.ingest(buf);
    } catch (err: unknown) {
      result = "malformed";
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, "heartbeat handler failed; datagram dropped");
    }
    this.metrics.count(result);
    if (result !== "accepted") this.noteDrop(result, buf.length, from);
    return result;
  }

  private ingest(buf: Buffer): IngestResult {
    if (buf.length > MAX_DATAGRAM_BYTES) return "oversize";
    const d = decodeHeartbeat(buf, this.opts.keyring);
    if (!d.ok) return d.reason;
    const now = this.opts.clock.monotonicMs();
    const offset = d.msg.sentAtMs - this.opts.clock.now().getTime();
    if (offset > this.maxSkewMs || offset < -this.maxSkewMs) {
      this.table.noteStale(d.msg, now, offset);
      return "stale";
    }
    const r = this.table.accept(d.msg, now, offset);
    if (r === "accepted" && d.msg.seq === 1) this.opts.log.info({ cloud: d.msg.cloud, host: d.msg.host, bootId: d.msg.bootId }, "heartbeat agent started");
    return r;
  }

  /** At most one debug line per drop reason every 10 s; a person reads the counters. */
  private noteDrop(result: IngestResult, size: number, from: RemoteInfo | undefined): void {
    const now = this.opts.clock.monotonicMs();
    const last = this.lastLogMs.get(result);
    if (last !== undefined && now - last < 10_000) return;
    this.lastLogMs.set(result, now);
    this.opts.log.debug({ result, size, from: from ? `${from.address}:${from.port}` : undefined }, "heartbeat dropped");
  }

  /** Per-host state for the host monitor. lastSeenMs is on this receiver's clock.monotonicMs(). */
  snapshot(): HeartbeatState {
    return this.table.snapshot();
  }

  host(key: HostKey): HostHeartbeat | undefined {
    return this.table.get(key);
  }

  lastSeenMs(key: HostKey): number | undefined {
    return this.table.lastSeenMs(key);
  }

  /** Among hosts of the same cloud whose peer report arrived within `windowMs` of `nowMs`, how many cannot hear `host`. */
  peerViewOf(host: HostKey, nowMs: number, windowMs: number): PeerView {
    return this.table.peerViewOf(host, nowMs, windowMs);
  }

  /** peerViewOf for every host of a cloud, computed in one pass. */
  peerViews(cloud: string, nowMs: number, windowMs: number): PeerViewIndex {
    return this.table.peerViews(cloud, nowMs, windowMs);
  }

  /** Drops a decommissioned host's state. */
  forget(host: HostKey): boolean {
    return this.table.forget(host);
  }
}
