import type { GuestHealth } from "../../guest-heartbeat/host-session.js";
import type { GuestHealthReport } from "../reports/agent-report.js";

/** Where a report comes from and the session parameters it was observed with. */
export interface GuestHealthContext {
  host: string;
  instanceUuid: string;
  intervalMs: number;
  threshold: number;
  at: Date;
}

/** The report for a health value; `Unknown` (no guest agent has spoken yet) is not reported. */
export function guestHealthReport(health: GuestHealth, ctx: GuestHealthContext): GuestHealthReport | undefined {
  const base = { kind: "GuestHealth" as const, host: ctx.host, instanceUuid: ctx.instanceUuid, intervalMs: ctx.intervalMs, threshold: ctx.threshold, at: ctx.at.toISOString() };
  switch (health.state) {
    case "Unknown":
      return undefined;
    case "Healthy":
      return { ...base, state: "Healthy" };
    case "Unhealthy":
      return { ...base, state: "Unhealthy", reason: health.reason };
    case "Unresponsive":
      return { ...base, state: "Unresponsive", reason: `${health.missed} consecutive challenges missed` };
    case "Exited":
      return { ...base, state: "Exited", reason: health.reason };
  }
}

/** Two reports say the same thing about the guest (state and reason). */
export function sameGuestHealth(a: GuestHealthReport | undefined, b: GuestHealthReport): boolean {
  return a !== undefined && a.state === b.state && a.reason === b.reason;
}
