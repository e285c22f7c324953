import type { HeartbeatMessage } from "./heartbeat-codec.js";

/** A host is named by its cloud and its nova-compute service host name. */
export interface HostKey {
  cloud: string;
  host: string;
}

/** What one replica knows about one host's heartbeats. Times are the receiver's monotonic ms. */
export interface HostHeartbeat {
  cloud: string;
  host: string;
  /** Receive time (receiver monotonic clock) of the latest accepted heartbeat: the freshness signal. */
  lastSeenMs: number;
  /** The interval the agent says it sends at. */
  intervalMs: number;
  bootId: string;
  lastSeq: number;
  /** How many times this receiver saw the agent restart (boot id change). */
  bootChanges: number;
  agentVersion?: string;
  /** Sender wall clock minus receiver wall clock at receipt, of the latest authenticated packet (clock diagnostics). */
  clockOffsetMs: number;
  /** Receive time of the latest authenticated packet refused for its timestamp, if any. */
  lastStaleMs?: number;
  /** Peers this host heard within its window, from its latest report. */
  peersHeard: number;
  /** Peers this host did not hear within its window (possibly cut to fit a datagram). */
  unreachablePeers: string[];
  unreachableTotal: number;
  /** Receive time of the latest peer report (every heartbeat carries one). */
  peerReportMs: number;
}

export interface HeartbeatState {
  hosts: HostHeartbeat[];
}

/** How the other hosts of a cloud see one host, from their reports received within a window. */
export interface PeerView {
  /** Hosts (other than this one) whose non-empty peer report arrived within the window. */
  reporting: number;
  /** How many of them list this host as unreachable. */
  unreachable: number;
  /** Their names, sorted, for evidence. */
  unreachableBy: string[];
}

/** All peer views of one cloud at one instant. */
export interface PeerViewIndex {
  /** Hosts whose non-empty peer report arrived within the window. */
  reporters: number;
  of(host: string): PeerView;
}

export type TableResult = "accepted" | "replay" | "host_limit";

interface HostRecord extends HostHeartbeat {
  retiredBoots: string[];
}

/**
 * The per-host heartbeat state of one receiver, free of sockets and clocks (times are
 * passed in). Replay rule: per host and boot id the sequence must strictly increase; a boot
 * id seen before and replaced is never accepted again. A reordered (older) packet is counted
 * as a replay: a newer one already proved the host alive.
 */
export class HeartbeatTable {
  private readonly hosts = new Map<string, HostRecord>();

  constructor(
    private readonly maxHosts = 10_000,
    private readonly retiredBootsPerHost = 8,
  ) {}

  size(): number {
    return this.hosts.size;
  }

  accept(msg: HeartbeatMessage, nowMs: number, clockOffsetMs: number): TableResult {
    const key = keyOf(msg.cloud, msg.host);
    const rec = this.hosts.get(key);
    if (!rec) {
      if (this.hosts.size >= this.maxHosts) return "host_limit";
      this.hosts.set(key, newRecord(msg, nowMs, clockOffsetMs));
      return "accepted";
    }
    if (msg.bootId === rec.bootId) {
      if (msg.seq <= rec.lastSeq) return "replay";
    } else {
      if (rec.retiredBoots.includes(msg.bootId)) return "replay";
      rec.retiredBoots.push(rec.bootId);
      if (rec.retiredBoots.length > this.retiredBootsPerHost) rec.retiredBoots.shift();
      rec.bootId = msg.bootId;
      rec.bootChanges++;
    }
    rec.lastSeq = msg.seq;
    rec.lastSeenMs = nowMs;
    rec.intervalMs = msg.intervalMs;
    rec.clockOffsetMs = clockOffsetMs;
    rec.peersHeard = msg.peers.heard;
    rec.unreachablePeers = msg.peers.unreachable;
    rec.unreachableTotal = msg.peers.unreachableTotal;
    rec.peerReportMs = nowMs;
    if (msg.agentVersion !== undefined) rec.agentVersion = msg.agentVersion;
    return "accepted";
  }

  /** An authenticated packet of a known host was refused for its timestamp: keep the diagnostics. */
  noteStale(msg: HeartbeatMessage, nowMs: number, clockOffsetMs: number): void {
    const rec = this.hosts.get(keyOf(msg.cloud, msg.host));
    if (!rec) return;
    rec.lastStaleMs = nowMs;
    rec.clockOffsetMs = clockOffsetMs;
  }

  lastSeenMs(key: HostKey): number | undefined {
    return this.hosts.get(keyOf(key.cloud, key.host))?.lastSeenMs;
  }

  get(key: HostKey): HostHeartbeat | undefined {
    const rec = this.hosts.get(keyOf(key.cloud, key.host));
    return rec ? toPublic(rec) : undefined;
  }

  forget(key: HostKey): boolean {
    return this.hosts.delete(keyOf(key.cloud, key.host));
  }

  snapshot(): HeartbeatState {
    const hosts: HostHeartbeat[] = [];
    for (const rec of this.hosts.values()) hosts.push(toPublic(rec));
    return { hosts };
  }

  /** One host's peer view; see peerViews for all hosts of a cloud in one pass. */
  peerViewOf(key: HostKey, nowMs: number, windowMs: number): PeerView {
    let reporting = 0;
    const by: string[] = [];
    for (const rec of this.freshReporters(key.cloud, nowMs, windowMs)) {
      if (rec.host === key.host) continue;
      reporting++;
      if (rec.unreachablePeers.includes(key.host)) by.push(rec.host);
    }
    by.sort();
    return { reporting, unreachable: by.length, unreachableBy: by };
  }

  /**
   * Peer views of every host of `cloud` computed in one pass (for a monitor that looks at all
   * hosts at once): O(fresh reports × listed peers) instead of O(hosts²).
   */
  peerViews(cloud: string, nowMs: number, windowMs: number): PeerViewIndex {
    const reporters = new Set<string>();
    const listedBy = new Map<string, string[]>();
    for (const rec of this.freshReporters(cloud, nowMs, windowMs)) {
      reporters.add(rec.host);
      for (const peer of rec.unreachablePeers) {
        const by = listedBy.get(peer);
        if (by) by.push(rec.host);
        else listedBy.set(peer, [rec.host]);
      }
    }
    return {
      reporters: reporters.size,
      of(host: string): PeerView {
        const by = (listedBy.get(host) ?? []).filter((r) => r !== host).sort();
        return { reporting: reporters.size - (reporters.has(host) ? 1 : 0), unreachable: by.length, unreachableBy: by };
      },
    };
  }

  private *freshReporters(cloud: string, nowMs: number, windowMs: number): Generator<HostRecord> {
    for (const rec of this.hosts.values()) {
      if (rec.cloud !== cloud || nowMs - rec.peerReportMs > windowMs) continue;
      if (rec.peersHeard + rec.unreachableTotal === 0) continue;
      yield rec;
    }
  }
}

function keyOf(cloud: string, host: string): string {
  return `${cloud}\u0000${host}`;
}

function newRecord(msg: HeartbeatMessage, nowMs: number, clockOffsetMs: number): HostRecord {
  const rec: HostRecord = {
    cloud: msg.cloud,
    host: msg.host,
    lastSeenMs: nowMs,
    intervalMs: msg.intervalMs,
    bootId: msg.bootId,
    lastSeq: msg.seq,
    bootChanges: 0,
    clockOffsetMs,
    peersHeard: msg.peers.heard,
    unreachablePeers: msg.peers.unreachable,
    unreachableTotal: msg.peers.unreachableTotal,
    peerReportMs: nowMs,
    retiredBoots: [],
  };
  if (msg.agentVersion !== undefined) rec.agentVersion = msg.agentVersion;
  return rec;
}

function toPublic(rec: HostRecord): HostHeartbeat {
  const { retiredBoots: _retired, ...pub } = rec;
  return { ...pub, unreachablePeers: [...rec.unreachablePeers] };
}
