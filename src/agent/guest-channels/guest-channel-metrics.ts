import { Counter, Gauge, type Registry } from "prom-client";
import type { HostCounters } from "../../guest-heartbeat/host-counters.js";
import type { GuestChannelStatus } from "./guest-channel.js";

/** Health states as exported in `vmkeeper_agent_guest_state` (Disconnected: no socket). */
export const GUEST_CHANNEL_STATES = ["Disconnected", "Unknown", "Healthy", "Unhealthy", "Unresponsive", "Exited"] as const;

/** Session counters that count a dropped line, and the `reason` label they are exported as. */
export const DROP_REASONS: readonly (readonly [keyof HostCounters, string])[] = [
  ["malformed", "malformed"],
  ["oversize", "oversize"],
  ["unknownVersion", "unknown_version"],
  ["unknownGroup", "unknown_group"],
  ["unhandledGroup", "unhandled_group"],
  ["unknownType", "unknown_type"],
  ["unexpected", "unexpected"],
  ["invalidBody", "invalid_body"],
  ["badNonce", "bad_nonce"],
  ["staleResponse", "stale_response"],
  ["unknownAction", "unknown_action"],
];

/** Session counters exported one series each. */
const PLAIN_COUNTERS: readonly (readonly [keyof HostCounters, string, string])[] = [
  ["linesReceived", "vmkeeper_agent_guest_lines_received_total", "Lines received from guest agents (blank lines excluded)."],
  ["sessions", "vmkeeper_agent_guest_sessions_started_total", "Heartbeat sessions started (guest init accepted)."],
  ["challengesSent", "vmkeeper_agent_guest_challenges_sent_total", "Heartbeat challenges sent to guests."],
  ["responsesAccepted", "vmkeeper_agent_guest_responses_accepted_total", "Guest responses accepted (right seq and nonce)."],
  ["missed", "vmkeeper_agent_guest_challenges_missed_total", "Challenges not answered by their response deadline (min(interval / 2, 500 ms) after sending)."],
  ["errorsReceived", "vmkeeper_agent_guest_errors_received_total", "base/error messages received from guests."],
];

export interface GuestChannelMetricsSource {
  statuses(): GuestChannelStatus[];
  /** Session counters summed over every session this manager ran (monotonic). */
  totals(): HostCounters;
}

/**
 * The `vmkeeper_agent_guest_*` series. Session counters live in the sessions; they are
 * read at scrape time and exported as counters by adding what grew since the last scrape.
 */
export class GuestChannelMetrics {
  private readonly connects: Counter<"result">;
  private readonly reports: Counter<"state">;

  constructor(registry: Registry, source: GuestChannelMetricsSource) {
    this.connects = new Counter({ name: "vmkeeper_agent_guest_connects_total", help: "Connection attempts to guest channel sockets, by result.", labelNames: ["result"], registers: [registry] });
    this.reports = new Counter({ name: "vmkeeper_agent_guest_health_reports_total", help: "Guest health changes reported to the operator, by state.", labelNames: ["state"], registers: [registry] });
    for (const result of ["connected", "failed"]) this.connects.labels({ result }).inc(0);
    registerStatusGauges(registry, source);
    registerSessionCounters(registry, source);
  }

  countConnect(connected: boolean): void {
    this.connects.labels({ result: connected ? "connected" : "failed" }).inc();
  }

  countReport(state: string): void {
    this.reports.labels({ state }).inc();
  }
}

function registerStatusGauges(registry: Registry, source: GuestChannelMetricsSource): void {
  new Gauge({
    name: "vmkeeper_agent_guest_channels",
    help: "Guest heartbeat channels this agent watches, by connection.",
    labelNames: ["connection"],
    registers: [registry],
    collect() {
      const all = source.statuses();
      const connected = all.filter((s) => s.connected).length;
      this.set({ connection: "connected" }, connected);
      this.set({ connection: "disconnected" }, all.length - connected);
    },
  });
  new Gauge({
    name: "vmkeeper_agent_guest_sessions",
    help: "Guest heartbeat sessions that are active (the guest agent sent init).",
    registers: [registry],
    collect() {
      this.set(source.statuses().filter((s) => s.sessionState === "Active").length);
    },
  });
  new Gauge({
    name: "vmkeeper_agent_guest_state",
    help: "1 for the current heartbeat state of each watched instance (Disconnected: no socket).",
    labelNames: ["instance_uuid", "state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source.statuses()) {
        const current = s.connected ? s.health.state : "Disconnected";
        for (const state of GUEST_CHANNEL_STATES) this.set({ instance_uuid: s.instanceUuid, state }, state === current ? 1 : 0);
      }
    },
  });
}

function registerSessionCounters(registry: Registry, source: GuestChannelMetricsSource): void {
  const exported = new Map<string, number>();
  /** Adds to `child` what the total grew by since the last scrape; totals never go down. */
  const sync = (key: string, total: number, child: { inc(n: number): void }): void => {
    const delta = total - (exported.get(key) ?? 0);
    child.inc(Math.max(0, delta)); // inc(0) exports the series from the first scrape
    if (delta > 0) exported.set(key, total);
  };
  new Counter({
    name: "vmkeeper_agent_guest_lines_dropped_total",
    help: "Lines from guest agents that were dropped, by reason (docs/protocols/guest-heartbeat.md, Error counters).",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      const totals = source.totals();
      for (const [field, reason] of DROP_REASONS) sync(`drop:${reason}`, totals[field], this.labels({ reason }));
    },
  });
  for (const [field, name, help] of PLAIN_COUNTERS) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        sync(name, source.totals()[field], this);
      },
    });
  }
}
