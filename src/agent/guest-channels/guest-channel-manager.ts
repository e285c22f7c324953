import type { Registry } from "prom-client";
import type { SgmMessage } from "../../guest-heartbeat/guest-pdu.js";
import { emptyHostCounters, type HostCounters } from "../../guest-heartbeat/host-counters.js";
import type { ActionRequest, GuestHealth, HostSessionSettings, VoteResult } from "../../guest-heartbeat/host-session.js";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { AgentReportSink, GuestHealthReport } from "../reports/agent-report.js";
import type { GuestChannel, GuestChannelStatus } from "./guest-channel.js";
import { GuestChannelMetrics } from "./guest-channel-metrics.js";
import { GuestChannelRunner, type GuestChannelRunnerOptions, type GuestSessionSettings } from "./guest-channel-runner.js";
import { guestHealthReport, sameGuestHealth } from "./guest-health-report.js";
import { DEFAULT_RECONNECT_POLICY, type ReconnectPolicy } from "./reconnect-delay.js";

export interface GuestChannelManagerOptions {
  /** nova-compute service host name, written into every report. */
  host: string;
  sink: AgentReportSink;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /**
   * Host-side interval and threshold of every session the operator has not set otherwise
   * (the agent's flags); an unhealthy answer is reported at once.
   */
  session: GuestSessionSettings;
  /** A guest's vote on an action-notify, or why there was none. */
  onVote?: (instanceUuid: string, result: VoteResult) => void;
  /** The set of watched channels changed (sorted instance UUIDs). */
  onChannels?: (instanceUuids: string[]) => void;
  /** Redial delays for missing or closed sockets; default 500 ms doubling to 30 s. */
  reconnect?: ReconnectPolicy;
  /** Longest wait for the final `exit` line to drain when a channel is removed; default 1000 ms. */
  closeGraceMs?: number;
  /** Server-group messaging: sessions announce the `sgm` group and its lines go here. */
  sgm?: GuestSgmHooks;
}

/** Where the `sgm` group of every channel goes (src/agent/server-group/). */
export interface GuestSgmHooks {
  onMessage(instanceUuid: string, message: SgmMessage): void;
  /** A session with the `sgm` group started (true) or ended (false). */
  onSession(instanceUuid: string, active: boolean): void;
}

/**
 * Runs one guest heartbeat host session per VM channel of this host and turns every
 * health change into a GuestHealthReport. The set of channels comes from outside (the
 * libvirt watcher) and may be replaced at any time with `setChannels`.
 */
export class GuestChannelManager {
  private readonly runners = new Map<string, GuestChannelRunner>();
  private readonly stopping = new Set<Promise<void>>();
  private readonly lastReported = new Map<string, GuestHealthReport>();
  private readonly retired: HostCounters = emptyHostCounters();
  private readonly metrics: GuestChannelMetrics;
  /** Settings the operator sent, per instance (from the protecting policy's sensitivity). */
  private overrides = new Map<string, HostSessionSettings>();
  private closed = false;

  constructor(private readonly options: GuestChannelManagerOptions) {
    this.metrics = new GuestChannelMetrics(options.registry, { statuses: () => this.statuses(), totals: () => this.totals() });
  }

  /**
   * Replaces the watched channels: new ones are dialled, removed ones get `exit` and are
   * closed, and a channel whose socket path changed is restarted on the new path.
   * Duplicate instance UUIDs: the last entry wins.
   */
  setChannels(channels: readonly GuestChannel[]): void {
    if (this.closed) return;
    const wanted = new Map(channels.map((c) => [c.instanceUuid, { instanceUuid: c.instanceUuid, socketPath: c.socketPath }]));
    for (const [uuid, runner] of this.runners) {
      const next = wanted.get(uuid);
      if (next && next.socketPath === runner.channel.socketPath) continue;
      this.retire(uuid, runner, next ? "channel moved" : "instance no longer protected");
      if (!next) this.lastReported.delete(uuid);
    }
    for (const [uuid, channel] of wanted) {
      if (!this.runners.has(uuid)) this.begin(channel);
    }
    if (this.announced !== this.channelKey()) this.announceChannels();
  }

  /** Watched channels' instance UUIDs, sorted. */
  instanceUuids(): string[] {
    return [...this.runners.keys()].sort();
  }

  /**
   * Replaces the per-instance session settings the operator decided (the full set for this
   * host); an instance without an entry goes back to the agent's own settings. A live
   * session whose interval or threshold changes is negotiated again.
   */
  setSessionSettings(settings: ReadonlyMap<string, HostSessionSettings>): void {
    this.overrides = new Map(settings);
    for (const [uuid, runner] of this.runners) runner.reconfigure(this.settingsFor(uuid));
  }

  /** Asks one guest to vote on a pending action; the outcome goes to `onVote`. */
  notifyAction(instanceUuid: string, request: ActionRequest): void {
    const runner = this.runners.get(instanceUuid);
    if (runner) runner.notifyAction(request);
    else this.options.onVote?.(instanceUuid, { actionId: request.actionId, action: request.action, outcome: "NoSession" });
  }

  /** Snapshot of every watched channel. */
  statuses(): GuestChannelStatus[] {
    return [...this.runners.values()].map((r) => r.status());
  }

  /** Snapshot of one channel, if watched. */
  status(instanceUuid: string): GuestChannelStatus | undefined {
    return this.runners.get(instanceUuid)?.status();
  }

  /** Sends an sgm message to one guest; false when it has no session with the `sgm` group. */
  sendSgm(instanceUuid: string, message: SgmMessage): boolean {
    return this.runners.get(instanceUuid)?.sendSgm(message) ?? false;
  }

  /** Stops every session (each guest is sent `exit`) and waits until all have ended. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [uuid, runner] of this.runners) this.retire(uuid, runner, "agent stopping");
    await Promise.all([...this.stopping]);
  }

  private announced = "";

  private channelKey(): string {
    return this.instanceUuids().join(",");
  }

  private announceChannels(): void {
    this.announced = this.channelKey();
    this.options.onChannels?.(this.instanceUuids());
  }

  private settingsFor(uuid: string): HostSessionSettings {
    return this.overrides.get(uuid) ?? { ...this.options.session, unhealthyThreshold: 1, appUnhealthyThreshold: 1 };
  }

  private begin(channel: GuestChannel): void {
    const { clock, log } = this.options;
    const runner: GuestChannelRunner = new GuestChannelRunner({
      channel,
      clock,
      log,
      session: this.settingsFor(channel.instanceUuid),
      reconnect: this.options.reconnect ?? DEFAULT_RECONNECT_POLICY,
      closeGraceMs: this.options.closeGraceMs ?? 1000,
      onHealth: (health, negotiated) => {
        if (this.runners.get(channel.instanceUuid) === runner) this.report(channel.instanceUuid, health, negotiated);
      },
      onVote: (result) => {
        if (this.runners.get(channel.instanceUuid) === runner) this.options.onVote?.(channel.instanceUuid, result);
      },
      onConnect: (connected) => this.metrics.countConnect(connected),
      onSessionClosed: (counters) => this.addRetired(counters),
      ...(this.options.sgm ? this.sgmOptions(channel.instanceUuid, this.options.sgm, () => this.runners.get(channel.instanceUuid) === runner) : {}),
    });
    this.runners.set(channel.instanceUuid, runner);
    runner.start();
  }

  private sgmOptions(uuid: string, hooks: GuestSgmHooks, current: () => boolean): Pick<GuestChannelRunnerOptions, "groups" | "onSgm" | "onSgmSession"> {
    return {
      groups: ["heartbeat", "sgm"],
      onSgm: (message) => {
        if (current()) hooks.onMessage(uuid, message);
      },
      onSgmSession: (active) => {
        if (current()) hooks.onSession(uuid, active);
      },
    };
  }

  private retire(uuid: string, runner: GuestChannelRunner, reason: string): void {
    this.runners.delete(uuid);
    this.options.sgm?.onSession(uuid, false);
    const done = runner.stop(reason);
    this.stopping.add(done);
    void done.finally(() => this.stopping.delete(done));
  }

  private report(instanceUuid: string, health: GuestHealth, negotiated: GuestSessionSettings): void {
    const report = guestHealthReport(health, { host: this.options.host, instanceUuid, ...negotiated, at: this.options.clock.now() });
    if (!report || sameGuestHealth(this.lastReported.get(instanceUuid), report)) return;
    this.lastReported.set(instanceUuid, report);
    this.metrics.countReport(report.state);
    this.options.log.info({ instanceUuid, state: report.state, reason: report.reason }, "guest health changed");
    this.options.sink.submit(report);
  }

  private addRetired(counters: Readonly<HostCounters>): void {
    for (const key of Object.keys(this.retired) as (keyof HostCounters)[]) this.retired[key] += counters[key];
  }

  private totals(): HostCounters {
    const sum = { ...this.retired };
    for (const runner of this.runners.values()) {
      const live = runner.liveCounters();
      if (!live) continue;
      for (const key of Object.keys(sum) as (keyof HostCounters)[]) sum[key] += live[key];
    }
    return sum;
  }
}
