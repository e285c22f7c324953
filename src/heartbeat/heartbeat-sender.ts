import { randomBytes } from "node:crypto";
import { Counter, type Registry } from "prom-client";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { encodeHeartbeat, MAX_INTERVAL_MS, MIN_INTERVAL_MS, type PeerReport } from "./heartbeat-codec.js";
import type { Keyring } from "./heartbeat-keys.js";
import type { TargetSource } from "./heartbeat-targets.js";
import type { DatagramTransport } from "./udp-transport.js";

export interface HeartbeatSenderOptions {
  cloud: string;
  /** The nova-compute service host name. */
  host: string;
  intervalMs: number;
  /** Signs with keyring.signing() at send time, so a replaced keyring rotates the next packet. */
  keyring: Keyring;
  targets: TargetSource;
  transport: DatagramTransport;
  clock: Clock;
  log: Logger;
  /** Share of the interval a send may come early, 0..0.1 (default 0.1). Never late: the receiver counts missed intervals. */
  jitterRatio?: number;
  random?: () => number;
  /** The peer report carried by each heartbeat; default: an empty report. */
  peerReport?: () => PeerReport;
  agentVersion?: string;
  /** 32 hex characters; default: random, i.e. a new boot per process start. */
  bootId?: string;
  registry?: Registry;
}

const EMPTY_REPORT: PeerReport = { heard: 0, unreachable: [], unreachableTotal: 0 };

/**
 * Sends one signed heartbeat per interval to every current target. The sequence starts at 1
 * with a fresh boot id per sender (per process), so nothing needs to survive a restart.
 */
export class HeartbeatSender {
  readonly bootId: string;
  private seq = 0;
  private lastSent: number | undefined;
  private readonly jitter: number;
  private readonly sent: Counter | undefined;

  constructor(private readonly opts: HeartbeatSenderOptions) {
    if (!(opts.intervalMs >= MIN_INTERVAL_MS && opts.intervalMs <= MAX_INTERVAL_MS)) throw new RangeError(`intervalMs must be ${MIN_INTERVAL_MS}..${MAX_INTERVAL_MS}`);
    this.bootId = opts.bootId ?? randomBytes(16).toString("hex");
    this.jitter = Math.min(0.1, Math.max(0, opts.jitterRatio ?? 0.1));
    this.sent = opts.registry
      ? new Counter({ name: "vmkeeper_agent_heartbeats_sent_total", help: "Heartbeat datagrams handed to the network, one per target per interval.", registers: [opts.registry] })
      : undefined;
  }

  /** Monotonic time of the latest send, for /healthz. */
  lastSentMs(): number | undefined {
    return this.lastSent;
  }

  /** Builds the next heartbeat and sends it to every target; returns how many datagrams went out. */
  sendOnce(): number {
    const signer = this.opts.keyring.signing();
    const packet = encodeHeartbeat(
      {
        cloud: this.opts.cloud,
        host: this.opts.host,
        bootId: this.bootId,
        seq: ++this.seq,
        sentAtMs: this.opts.clock.now().getTime(),
        intervalMs: this.opts.intervalMs,
        peers: this.opts.peerReport?.() ?? EMPTY_REPORT,
        ...(this.opts.agentVersion === undefined ? {} : { agentVersion: this.opts.agentVersion }),
      },
      signer,
    );
    const targets = this.opts.targets.current();
    for (const t of targets) this.opts.transport.send(packet, t);
    this.sent?.inc(targets.length);
    this.lastSent = this.opts.clock.monotonicMs();
    return targets.length;
  }

  /** The wait before the next send: the interval minus up to `jitterRatio` of it. */
  nextDelayMs(): number {
    const r = (this.opts.random ?? Math.random)();
    return Math.round(this.opts.intervalMs * (1 - this.jitter * r));
  }

  /** Sends immediately, then every interval (with jitter) until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        this.sendOnce();
      } catch (err: unknown) {
        this.opts.log.error({ err: err instanceof Error ? err.message : String(err) }, "cannot send heartbeat");
      }
      try {
        await this.opts.clock.sleep(this.nextDelayMs(), signal);
      } catch {
        return;
      }
    }
  }
}
