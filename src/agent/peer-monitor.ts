import type { PeerReport } from "../heartbeat/heartbeat-codec.js";
import type { HostKey } from "../heartbeat/heartbeat-table.js";
import type { Clock } from "../util/clock.js";

/** Where the monitor reads when each peer was last heard (the agent's own heartbeat receiver). */
export interface PeerLastSeen {
  lastSeenMs(key: HostKey): number | undefined;
}

export interface PeerMonitorOptions {
  cloud: string;
  /** This host; never its own peer. */
  self: string;
  clock: Clock;
  /** A peer not heard for longer than this is unreachable. */
  windowMs: number;
  seen: PeerLastSeen;
}

/**
 * Turns "when did I last hear each peer" into the peer report an agent sends the operator.
 * A peer added less than one window ago and not heard yet is neither heard nor unreachable:
 * an agent that just started must not accuse its peers.
 */
export class PeerMonitor {
  private readonly addedAt = new Map<string, number>();

  constructor(private readonly opts: PeerMonitorOptions) {}

  setPeers(hosts: readonly string[]): void {
    const now = this.opts.clock.monotonicMs();
    const next = new Set(hosts.filter((h) => h !== this.opts.self));
    for (const h of [...this.addedAt.keys()]) if (!next.has(h)) this.addedAt.delete(h);
    for (const h of next) if (!this.addedAt.has(h)) this.addedAt.set(h, now);
  }

  peers(): string[] {
    return [...this.addedAt.keys()];
  }

  report(): PeerReport {
    const now = this.opts.clock.monotonicMs();
    let heard = 0;
    const unreachable: string[] = [];
    for (const [host, added] of this.addedAt) {
      const seen = this.opts.seen.lastSeenMs({ cloud: this.opts.cloud, host });
      if (seen !== undefined && now - seen <= this.opts.windowMs) heard++;
      else if (now - Math.max(added, seen ?? added) > this.opts.windowMs) unreachable.push(host);
    }
    unreachable.sort();
    return { heard, unreachable, unreachableTotal: unreachable.length };
  }
}
