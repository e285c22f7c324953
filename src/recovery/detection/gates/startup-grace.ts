import type { GateResult } from "../../model.js";
import type { GateContext } from "./gate-context.js";
import { GateReason } from "./gate-reasons.js";

/**
 * Cloud-wide. Closed while the replica has led for less than max(startupGraceMs,
 * confirmationWindowMs): a new leader must have watched at least one full observation window
 * itself before it condemns anyone (oVirt waits 300 s after start for the same reason).
 * Fails closed, including when `leadingSinceMs` lies in the future (a clock mix-up must not
 * shorten the grace).
 */
export function startupGraceGate(ctx: GateContext): GateResult {
  const requiredMs = Math.max(ctx.settings.startupGraceMs, ctx.settings.confirmationWindowMs);
  const ledMs = ctx.nowMs - ctx.observer.leadingSinceMs;
  return ledMs < requiredMs
    ? { gate: "StartupGrace", blocked: true, reason: GateReason.LeaderWarmingUp, message: `leading for ${ledMs} ms of the ${requiredMs} ms grace; closed until ${ctx.observer.leadingSinceMs + requiredMs} ms` }
    : { gate: "StartupGrace", blocked: false, reason: GateReason.GraceOver, message: `leading for ${ledMs} ms (grace ${requiredMs} ms)` };
}
