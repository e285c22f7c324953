import type { GateResult } from "../../model.js";
import { heartbeatSilenceMs } from "../detection-timing.js";
import { monitoredHosts } from "../monitored-hosts.js";
import type { GateContext } from "./gate-context.js";
import { GateReason } from "./gate-reasons.js";

/** The latest cliff found among the silent hosts, if any. */
export interface HeartbeatCliff {
  /** Hosts in the cliff. */
  count: number;
  population: number;
  /** When the last host of the cliff turned Suspect (its last heartbeat + interval × missed). */
  atMs: number;
  /** The gate stays closed until then. */
  untilMs: number;
}

/**
 * Cloud-wide. A cliff is at least two monitored hosts, and at least heartbeatCliffPercent of
 * them, whose heartbeats stopped within one confirmation window of each other (their last
 * heartbeats lie in one window). The gate is closed from the cliff until max(cooldown, the
 * time a host needs to become confirmable) after the last of them turned Suspect; a later
 * cliff restarts the hold. It needs no memory between passes: the silent hosts' last-seen
 * times are the memory, and a host that heartbeats again leaves the cliff.
 *
 * Fails closed: many hosts falling silent at once is far more often the observer, a switch or
 * the heartbeat path than many independent host deaths, and the cost of waiting a cooldown is
 * lower than fencing a rack of live hosts. A single host is never a cliff (one silent host is
 * what detection is for), so small clouds still recover single failures. When the cliff's
 * hold ends and the hosts are still dead, the storm threshold decides.
 */
export function heartbeatCliffGate(ctx: GateContext): GateResult {
  const cliff = findHeartbeatCliff(ctx);
  if (cliff === undefined || ctx.nowMs >= cliff.untilMs) {
    return { gate: "HeartbeatCliff", blocked: false, reason: GateReason.NoCliff, message: `no recent heartbeat cliff (threshold ${ctx.settings.heartbeatCliffPercent}%)` };
  }
  return {
    gate: "HeartbeatCliff",
    blocked: true,
    reason: GateReason.HeartbeatsVanishedAtOnce,
    message: `${cliff.count} of ${cliff.population} hosts fell silent within ${ctx.settings.confirmationWindowMs} ms (≥ ${ctx.settings.heartbeatCliffPercent}%); closed until ${cliff.untilMs} ms`,
  };
}

export function findHeartbeatCliff(ctx: GateContext): HeartbeatCliff | undefined {
  const population = monitoredHosts(ctx.hosts);
  const lastSeen = population
    .filter((h) => (heartbeatSilenceMs(ctx.nowMs, h.heartbeatLastSeenMs) ?? 0) >= ctx.timing.suspectAfterMs)
    .map((h) => h.heartbeatLastSeenMs ?? 0)
    .sort((a, b) => a - b);
  const window = ctx.settings.confirmationWindowMs;
  let found: HeartbeatCliff | undefined;
  let start = 0;
  for (let end = 0; end < lastSeen.length; end++) {
    const endMs = lastSeen[end] ?? 0;
    while ((lastSeen[start] ?? 0) < endMs - window) start++;
    const count = end - start + 1;
    if (count >= 2 && count * 100 >= ctx.settings.heartbeatCliffPercent * population.length) {
      const atMs = endMs + ctx.timing.suspectAfterMs;
      found = { count, population: population.length, atMs, untilMs: atMs + Math.max(ctx.settings.cooldownMs, ctx.timing.failAfterMs) };
    }
  }
  return found;
}
