import type { GateResult } from "../../model.js";
import { heartbeatSilenceMs } from "../detection-timing.js";
import { monitoredHosts } from "../monitored-hosts.js";
import type { GateContext } from "./gate-context.js";
import { GateReason } from "./gate-reasons.js";

/**
 * Cloud-wide. Closed while this replica hears fresh heartbeats from fewer than half of the
 * hosts that have ever sent it one (see monitoredHosts). Fails closed: when most hosts fall
 * silent at the same time, the likeliest broken part is the observer's own network (F12), and
 * fencing healthy hosts from a deaf controller is the worst outcome. It fails open when no host
 * has ever sent a heartbeat: no host can be Failed then (Unknown is never Failed), so there is
 * nothing to protect. A real majority failure is also held here; the storm threshold would
 * hold it anyway.
 */
export function observerIsolatedGate(ctx: GateContext): GateResult {
  const population = monitoredHosts(ctx.hosts);
  if (population.length === 0) {
    return { gate: "ObserverIsolated", blocked: false, reason: GateReason.NoHeartbeatHistory, message: "no host has sent a heartbeat to this replica yet" };
  }
  const fresh = population.filter((h) => (heartbeatSilenceMs(ctx.nowMs, h.heartbeatLastSeenMs) ?? Infinity) < ctx.timing.suspectAfterMs).length;
  const heard = `fresh heartbeats from ${fresh} of ${population.length} hosts`;
  return fresh * 2 < population.length
    ? { gate: "ObserverIsolated", blocked: true, reason: GateReason.MostHostsSilent, message: `${heard} (fewer than half): this replica may be isolated` }
    : { gate: "ObserverIsolated", blocked: false, reason: GateReason.ObserverHearsHosts, message: heard };
}
