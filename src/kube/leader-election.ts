import type { Clock } from "../util/clock.js";
import { microTime } from "../util/time-format.js";
import type { Logger } from "../util/logger.js";
import { errorMessage, isConflict, isAlreadyExists } from "./api-error.js";
import type { KubeObject } from "./resource-type.js";

/** coordination.k8s.io/v1 Lease as it travels (times are MicroTime strings). */
export interface LeaseObject extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** The three Lease operations election needs; ResourceClient<LeaseObject> provides them. */
export interface LeaseStore {
  get(namespace: string, name: string): Promise<LeaseObject | undefined>;
  create(lease: LeaseObject, opts: { unguarded: boolean }): Promise<LeaseObject>;
  /** Must fail with a 409 conflict when the lease's resourceVersion is stale. */
  update(lease: LeaseObject, opts: { unguarded: boolean }): Promise<LeaseObject>;
}

export interface LeaderElectionConfig {
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Give the lease up on clean shutdown so a standby takes over at once. */
  releaseOnCancel: boolean;
}

export const LEADER_ELECTION_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

export class NotLeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotLeaderError";
  }
}

export interface LeaderElectionObserver {
  leading(isLeader: boolean): void;
  newLeader?(identity: string): void;
}

/**
 * Lease-based leader election with client-go's rules. Other holders' leases are judged by
 * the local monotonic time at which their record last changed (never by comparing wall
 * clocks), and our own leadership ends locally at the renew deadline — before any other
 * candidate may consider the lease expired — so that two leaders never act at once.
 */
export class LeaderElector {
  private observedRecord: string | undefined;
  private observedAtMs = 0;
  private leaderUntilMs = -Infinity;
  private leading = false;
  private transitions = 0;
  private lastHolder = "";

  constructor(
    private readonly cfg: LeaderElectionConfig,
    private readonly leases: LeaseStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly observer: LeaderElectionObserver = { leading: () => undefined },
  ) {
    if (!(cfg.leaseDurationMs > cfg.renewDeadlineMs && cfg.renewDeadlineMs > cfg.retryPeriodMs * 1.2)) {
      throw new Error("leader election needs leaseDuration > renewDeadline > 1.2 × retryPeriod");
    }
  }

  /** True only while the last successful renew is younger than the renew deadline. */
  isLeader(): boolean {
    return this.leading && this.clock.monotonicMs() < this.leaderUntilMs;
  }

  /** The Lease's transition count when this process acquired it: a fencing token for writes. */
  leaseEpoch(): number {
    return this.transitions;
  }

  /** The write fence: throws unless this process is the current leader. */
  assertLeader(): void {
    if (!this.isLeader()) throw new NotLeaderError(`${this.cfg.identity} is not the leader; refusing to write`);
  }

  /**
   * Campaigns until elected, then calls `lead` with a signal that aborts when leadership is
   * lost, and keeps renewing. Resolves "lost" when leadership was lost, "stopped" when
   * `signal` aborted (after releasing the lease if configured).
   */
  async run(signal: AbortSignal, lead: (leading: AbortSignal) => void): Promise<"lost" | "stopped"> {
    if (!(await this.acquire(signal))) return "stopped";
    const leadingCtl = new AbortController();
    this.setLeading(true);
    lead(leadingCtl.signal);
    const outcome = await this.renewLoop(signal);
    this.setLeading(false);
    leadingCtl.abort(new NotLeaderError("leadership ended"));
    if (outcome === "stopped" && this.cfg.releaseOnCancel) await this.release();
    return outcome;
  }

  private setLeading(v: boolean): void {
    this.leading = v;
    this.observer.leading(v);
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.log.info({ lease: this.leaseRef() }, "attempting to acquire leader lease");
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) {
        this.log.info({ lease: this.leaseRef(), identity: this.cfg.identity }, "acquired leader lease");
        return true;
      }
      await this.clock.sleep(this.cfg.retryPeriodMs * (1 + Math.random() * 0.2), signal).catch(() => undefined);
    }
    return false;
  }

  private async renewLoop(signal: AbortSignal): Promise<"lost" | "stopped"> {
    while (!signal.aborted) {
      await this.clock.sleep(this.cfg.retryPeriodMs, signal).catch(() => undefined);
      if (signal.aborted) return "stopped";
      // Keep trying until the renew deadline; each attempt is bounded by what is left of it.
      let renewed = false;
      while (!renewed && this.isLeader() && !signal.aborted) {
        renewed = await this.tryAcquireOrRenew();
        if (!renewed && this.lostToOther()) break;
        if (!renewed) await this.clock.sleep(Math.min(this.cfg.retryPeriodMs, 500), signal).catch(() => undefined);
      }
      if (signal.aborted) return "stopped";
      if (!renewed) {
        this.log.error({ lease: this.leaseRef(), identity: this.cfg.identity }, "leader lease lost: could not renew before the renew deadline");
        return "lost";
      }
    }
    return "stopped";
  }

  /** The last read of the Lease showed another holder. */
  private lostToOther(): boolean {
    return this.lastHolder !== "" && this.lastHolder !== this.cfg.identity;
  }


  /** One attempt; true when this process holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const startMs = this.clock.monotonicMs();
    const now = this.clock.now();
    const durationSeconds = Math.ceil(this.cfg.leaseDurationMs / 1000);
    try {
      const lease = await this.leases.get(this.cfg.leaseNamespace, this.cfg.leaseName);
      if (!lease) {
        await this.leases.create({
          metadata: { name: this.cfg.leaseName, namespace: this.cfg.leaseNamespace },
          spec: { holderIdentity: this.cfg.identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        }, { unguarded: true });
        this.renewed(startMs);
        return true;
      }
      const spec = lease.spec ?? {};
      const record = JSON.stringify({ holder: spec.holderIdentity ?? "", renew: String(spec.renewTime ?? ""), dur: spec.leaseDurationSeconds ?? 0 });
      if (record !== this.observedRecord) {
        this.observedRecord = record;
        this.observedAtMs = startMs;
        if (spec.holderIdentity && spec.holderIdentity !== this.cfg.identity && spec.holderIdentity !== this.lastHolder) this.observer.newLeader?.(spec.holderIdentity);
        this.lastHolder = spec.holderIdentity ?? "";
      }
      const holder = spec.holderIdentity ?? "";
      const heldByOther = holder !== "" && holder !== this.cfg.identity;
      const otherValid = this.observedAtMs + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 > startMs;
      if (heldByOther && otherValid) return false;
      const isRenewal = holder === this.cfg.identity;
      lease.spec = {
        holderIdentity: this.cfg.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: isRenewal && spec.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (isRenewal ? 0 : 1),
      };
      await this.leases.update(lease, { unguarded: true });
      this.transitions = lease.spec.leaseTransitions ?? 0;
      this.renewed(startMs);
      return true;
    } catch (err: unknown) {
      if (!isConflict(err) && !isAlreadyExists(err)) this.log.warn({ lease: this.leaseRef(), err: errorMessage(err) }, "leader lease request failed");
      return false;
    }
  }

  private renewed(startMs: number): void {
    // Measured from when the request started: the most conservative point.
    this.leaderUntilMs = startMs + this.cfg.renewDeadlineMs;
    this.observedRecord = undefined;
    this.lastHolder = this.cfg.identity;
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.leases.get(this.cfg.leaseNamespace, this.cfg.leaseName);
      if (!lease || lease.spec?.holderIdentity !== this.cfg.identity) return;
      const now = microTime(this.clock.now());
      lease.spec = { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
      await this.leases.update(lease, { unguarded: true });
      this.log.info({ lease: this.leaseRef() }, "released leader lease");
    } catch (err: unknown) {
      this.log.warn({ lease: this.leaseRef(), err: errorMessage(err) }, "could not release leader lease");
    }
  }

  private leaseRef(): string {
    return `${this.cfg.leaseNamespace}/${this.cfg.leaseName}`;
  }
}
