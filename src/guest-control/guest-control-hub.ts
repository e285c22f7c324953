import type { VoteOutcome } from "../guest-heartbeat/host-session.js";
import { InstancesByHost } from "../server-group-messaging/instances-by-host.js";
import type { GuestControlAgentMessage, GuestControlOperatorMessage, GuestSettingsGroup } from "../server-group-messaging/link-messages.js";

/** The part of the agent links guest control writes through. */
export interface ControlLinks {
  /** Writes on every open stream of the host; false when it has none. */
  send(host: string, m: GuestControlOperatorMessage): boolean;
  /** Counts stream opens of the host (changes when an agent reconnects); 0 before the first. */
  generation(host: string): number;
  hasStream(host: string): boolean;
  onChange(listener: () => void): () => void;
}

/** A guest's answer to an action-notify, as its agent posted it. */
export interface RecordedVote {
  instanceId: string;
  host: string;
  outcome: VoteOutcome;
  reason?: string;
}

/** Votes remembered at most (the oldest go first; an action that loses its vote asks again). */
const MAX_VOTES = 10_000;

/**
 * Guest control on the operator's side of the agent links (every replica): which heartbeat
 * channels each agent has, the settings and action-notify requests sent to them, and the
 * votes that come back. Holds no policy logic: the guest-settings controller decides what
 * to send, the guest-actions controller asks for votes and reads them.
 */
export class GuestControlHub {
  private readonly channelsOf = new InstancesByHost();
  private readonly votes = new Map<string, RecordedVote>();
  private readonly channelListeners = new Set<(host: string) => void>();
  private readonly voteListeners = new Set<(instanceId: string) => void>();

  constructor(private readonly links: ControlLinks) {
    links.onChange(() => {
      for (const host of this.channelsOf.hosts()) this.tellChannels(host);
    });
  }

  /** A guest-control message an agent posted. Never throws. */
  handle(host: string, m: GuestControlAgentMessage): void {
    if (m.t === "channels") {
      this.channelsOf.set(host, m.instances);
      this.tellChannels(host);
      return;
    }
    // The vote of an instance whose channel is on another host is not this agent's to give.
    const channelHost = this.channelsOf.hostOf(m.from);
    if (channelHost !== undefined && channelHost !== host) return;
    this.votes.delete(m.actionId);
    this.votes.set(m.actionId, { instanceId: m.from, host, outcome: m.outcome, ...(m.reason !== undefined ? { reason: m.reason } : {}) });
    while (this.votes.size > MAX_VOTES) {
      const oldest = this.votes.keys().next();
      if (oldest.done) break;
      this.votes.delete(oldest.value);
    }
    for (const l of this.voteListeners) l(m.from);
  }

  /** Hosts whose agent listed channels. */
  hosts(): string[] {
    return this.channelsOf.hosts();
  }

  /** The instances with a heartbeat channel on the host, as its agent last said. */
  channels(host: string): string[] {
    return this.channelsOf.instances(host);
  }

  /** The host whose agent has the instance's channel while that agent's stream is open. */
  routeOf(instanceId: string): string | undefined {
    const host = this.channelsOf.hostOf(instanceId);
    return host !== undefined && this.links.hasStream(host) ? host : undefined;
  }

  generation(host: string): number {
    return this.links.generation(host);
  }

  sendSettings(host: string, groups: GuestSettingsGroup[]): boolean {
    return this.links.send(host, { t: "guest-settings", groups });
  }

  /** Sends an action-notify through the agent that has the instance's channel; false when none is connected. */
  ask(instanceId: string, request: { actionId: string; action: string; deadlineMs: number; reason?: string }): boolean {
    const host = this.routeOf(instanceId);
    if (host === undefined) return false;
    return this.links.send(host, { t: "action-notify", to: instanceId, ...request });
  }

  vote(actionId: string): RecordedVote | undefined {
    return this.votes.get(actionId);
  }

  /** Called with the host whose channels or stream changed. */
  onChannels(listener: (host: string) => void): () => void {
    this.channelListeners.add(listener);
    return () => this.channelListeners.delete(listener);
  }

  /** Called with the instance whose guest voted. */
  onVote(listener: (instanceId: string) => void): () => void {
    this.voteListeners.add(listener);
    return () => this.voteListeners.delete(listener);
  }

  private tellChannels(host: string): void {
    for (const l of this.channelListeners) l(host);
  }
}
