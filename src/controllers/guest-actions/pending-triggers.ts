import type { InstanceReportState } from "../../agent-reports/report-table.js";
import type { GuestTrigger } from "../../recovery/guest/guest-action-model.js";

/** A trigger and the key of its report epoch (a report, identified by its kind, value and time; re-sent copies share it). */
export interface EpochTrigger {
  epoch: string;
  trigger: GuestTrigger;
}

/**
 * The reports of an instance's latest state that may call for an action: the newest domain
 * event unless it is `Started`, and the newest guest health when Unresponsive or Unhealthy.
 */
export function pendingTriggers(s: InstanceReportState): EpochTrigger[] {
  const out: EpochTrigger[] = [];
  const d = s.domainEvent;
  if (d && d.event !== "Started") {
    out.push({ epoch: `DomainEvent/${d.event}/${d.at}`, trigger: { source: "DomainEvent", event: d.event, detail: d.detail, host: d.host, atMs: Date.parse(d.at) } });
  }
  const g = s.guestHealth;
  if (g && (g.state === "Unresponsive" || g.state === "Unhealthy")) {
    out.push({ epoch: `GuestHealth/${g.state}/${g.at}`, trigger: { source: "GuestHealth", state: g.state, ...(g.reason !== undefined ? { reason: g.reason } : {}), host: g.host, atMs: Date.parse(g.at) } });
  }
  return out;
}

/** Why the instance's domain last stopped, as the agent saw it (for instance recovery), while that is its newest domain event. */
export function reportedStopCause(s: InstanceReportState | undefined): "Crash" | "GuestShutdown" | undefined {
  const e = s?.domainEvent?.event;
  if (e === "Crashed") return "Crash";
  if (e === "GuestShutdown") return "GuestShutdown";
  return undefined;
}
