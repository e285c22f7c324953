import { randomUUID } from "node:crypto";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { AgentLinks } from "./agent-links.js";
import type { MemberState, NotificationEvent, SgmAgentMessage, SgmErrorCode, StatusMember } from "./link-messages.js";
import { payloadWireBytes } from "./sgm-limits.js";
import { TokenBucket } from "./token-bucket.js";

export interface GroupSettings {
  broadcast: boolean;
  notifications: boolean;
  notifyStates: readonly MemberState[];
  statusQuery: boolean;
  maxPayloadBytes: number;
  messagesPerSecond: number;
  burst: number;
}

export interface GroupMember {
  instanceId: string;
  name: string;
  /** Nova's compute host of the instance (OS-EXT-SRV-ATTR:host). */
  host: string | undefined;
  state: MemberState;
}

export interface GroupView {
  group: { id: string; name: string; policy: string };
  settings: GroupSettings;
  members: GroupMember[];
}

export interface GroupCounters {
  broadcastsDelivered: number;
  notificationsSent: number;
  refusedOversize: number;
  refusedRateLimited: number;
  refusedMalformed: number;
  refusedSpoofed: number;
}

export interface MemberChange {
  instanceId: string;
  name: string;
  state: MemberState;
  previousState: MemberState;
  event: NotificationEvent;
  reason: string;
}

export interface RouterMetrics {
  message(type: string, result: string): void;
  delivered(kind: "deliver" | "notify" | "status" | "error", n: number): void;
  latency(seconds: number): void;
}

interface GroupEntry extends GroupView {
  key: string;
  counters: GroupCounters;
}

const emptyCounters = (): GroupCounters => ({ broadcastsDelivered: 0, notificationsSent: 0, refusedOversize: 0, refusedRateLimited: 0, refusedMalformed: 0, refusedSpoofed: 0 });

/**
 * Routes server-group messages on the leader: verifies that the sender is a member of a
 * group whose ServerGroupMessaging enables the message, that the agent it came through is on
 * the member's Nova host, the payload size and the member's token bucket; then hands one
 * delivery per destination host to that host's agent. Groups come from the controller.
 */
export class SgmRouter {
  private readonly groups = new Map<string, GroupEntry>();
  private readonly groupOf = new Map<string, string>();
  private readonly buckets = new Map<string, TokenBucket>();
  /** Whether this replica routes (the leader, with its groups loaded). */
  active = false;

  constructor(private readonly o: { links: AgentLinks; clock: Clock; log: Logger; metrics: RouterMetrics; identity: string }) {}

  setGroup(key: string, view: GroupView): void {
    const entry: GroupEntry = { ...view, key, counters: this.groups.get(key)?.counters ?? emptyCounters() };
    const previous = this.groups.get(key);
    for (const m of previous?.members ?? []) if (this.groupOf.get(m.instanceId) === key) this.groupOf.delete(m.instanceId);
    this.groups.set(key, entry);
    const now = this.o.clock.monotonicMs();
    for (const m of view.members) {
      const owner = this.groupOf.get(m.instanceId);
      if (owner === undefined || owner === key) this.groupOf.set(m.instanceId, key);
      const b = this.buckets.get(m.instanceId);
      if (b) b.configure(view.settings.messagesPerSecond, view.settings.burst);
      else this.buckets.set(m.instanceId, new TokenBucket(view.settings.messagesPerSecond, view.settings.burst, now));
    }
  }

  removeGroup(key: string): void {
    const g = this.groups.get(key);
    this.groups.delete(key);
    for (const m of g?.members ?? []) {
      if (this.groupOf.get(m.instanceId) === key) this.groupOf.delete(m.instanceId);
      this.buckets.delete(m.instanceId);
    }
  }

  counters(key: string): GroupCounters {
    return { ...(this.groups.get(key)?.counters ?? emptyCounters()) };
  }

  /** Forgets every group (leadership lost): a new leader starts from the controller's view. */
  reset(): void {
    this.groups.clear();
    this.groupOf.clear();
    this.buckets.clear();
    this.active = false;
  }

  /** One message an agent posted. Never throws. */
  handle(host: string, m: SgmAgentMessage): void {
    if (m.t === "guests") {
      this.o.links.setGuests(host, m.instances);
      return;
    }
    if (!this.active) {
      this.o.metrics.message(m.t, "not_leader");
      return;
    }
    const entry = this.memberGroup(m.from);
    if (m.t === "refused") {
      if (entry) entry.counters[m.code === "payload_too_large" ? "refusedOversize" : m.code === "spoofed" ? "refusedSpoofed" : "refusedMalformed"]++;
      this.o.metrics.message("refused", m.code);
      return;
    }
    const ref = m.ref;
    const refuse = (code: SgmErrorCode, detail: string): void => {
      this.o.metrics.message(m.t, code);
      if (entry && code === "spoofed") entry.counters.refusedSpoofed++;
      if (entry && code === "rate_limited") entry.counters.refusedRateLimited++;
      if (entry && code === "payload_too_large") entry.counters.refusedOversize++;
      // Answer through the agent that sent it: the guest it stamped is on that host.
      this.o.links.send(host, { t: "error", to: m.from, ...(ref ? { ref } : {}), code, detail });
      this.o.metrics.delivered("error", 1);
    };
    if (!entry) return refuse("not_member", "the instance is not a member of a server group with messaging enabled");
    const member = entry.members.find((x) => x.instanceId === m.from);
    if (!member || member.host !== host) return refuse("spoofed", `the message came through the agent of ${host}, but Nova has the instance on ${member?.host ?? "no host"}`);
    if (m.t === "broadcast") {
      if (!entry.settings.broadcast) return refuse("disabled", "broadcast is disabled for this server group");
      const size = payloadWireBytes(m.payload);
      if (size > entry.settings.maxPayloadBytes) return refuse("payload_too_large", `payload is ${size} bytes; this group allows ${entry.settings.maxPayloadBytes}`);
    } else if (!entry.settings.statusQuery) return refuse("disabled", "status queries are disabled for this server group");
    if (!this.buckets.get(m.from)?.take(this.o.clock.monotonicMs())) return refuse("rate_limited", `more than ${entry.settings.messagesPerSecond} messages per second (burst ${entry.settings.burst})`);
    if (m.t === "broadcast") this.deliver(entry, member, m.id, m.payload);
    else this.status(entry, host, m.from, ref);
    this.o.metrics.message(m.t, "accepted");
  }

  private memberGroup(instanceId: string): GroupEntry | undefined {
    const key = this.groupOf.get(instanceId);
    return key === undefined ? undefined : this.groups.get(key);
  }

  private byHost(entry: GroupEntry, except: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const peer of entry.members) {
      if (peer.instanceId === except) continue;
      const route = this.o.links.routeOf(peer.instanceId);
      if (!route) continue;
      out.set(route, [...(out.get(route) ?? []), peer.instanceId]);
    }
    return out;
  }

  private deliver(entry: GroupEntry, from: GroupMember, id: string, payload: string): void {
    const sentAt = this.o.clock.now().toISOString();
    let n = 0;
    for (const [host, to] of this.byHost(entry, from.instanceId)) {
      if (this.o.links.send(host, { t: "deliver", to, id, from: from.instanceId, fromName: from.name, payload, sentAt })) n += to.length;
    }
    entry.counters.broadcastsDelivered += n;
    this.o.metrics.delivered("deliver", n);
  }

  private status(entry: GroupEntry, host: string, to: string, ref: string | undefined): void {
    const members: StatusMember[] = entry.members.map((m) => ({ instanceId: m.instanceId, name: m.name, state: m.state, agentConnected: this.o.links.connected(m.instanceId) }));
    this.o.links.send(host, { t: "status", to, ...(ref ? { ref } : {}), group: entry.group, members });
    this.o.metrics.delivered("status", 1);
  }

  /** Tells every other member of the group about a member's change (if the group wants it). Returns how many were told. */
  notify(key: string, change: MemberChange): number {
    const entry = this.groups.get(key);
    if (!this.active || !entry || !entry.settings.notifications || !entry.settings.notifyStates.includes(change.state)) return 0;
    const at = this.o.clock.now().toISOString();
    const id = randomUUID();
    let n = 0;
    for (const [host, to] of this.byHost(entry, change.instanceId)) {
      if (this.o.links.send(host, { t: "notify", to, id, instanceId: change.instanceId, name: change.name, state: change.state, previousState: change.previousState, event: change.event, reason: change.reason, at })) n += to.length;
    }
    entry.counters.notificationsSent += n;
    this.o.metrics.delivered("notify", n);
    return n;
  }
}
