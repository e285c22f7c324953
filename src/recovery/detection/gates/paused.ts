import type { GateResult } from "../../model.js";
import type { GateContext } from "./gate-context.js";
import { GateReason } from "./gate-reasons.js";

/**
 * Cloud-wide. Closed while every active policy of the cloud is paused (see
 * mergeDetectionSettings). Fails closed by definition: an operator asked for no new fencing
 * or recovery. Failures are still detected and recorded as Suppressed incidents, and released
 * when the pause ends if the host is still failed and no other gate holds it (F24).
 */
export function pausedGate(ctx: GateContext): GateResult {
  return ctx.settings.paused
    ? { gate: "Paused", blocked: true, reason: GateReason.PolicyPaused, message: "every active InstanceHAPolicy of the cloud is paused" }
    : { gate: "Paused", blocked: false, reason: GateReason.NotPaused, message: "not paused" };
}
