import type { GateResult } from "../../model.js";
import { resolveMaxUnhealthy } from "../resolve-max-unhealthy.js";
import { failuresInWindow } from "./failures-in-window.js";
import type { GateContext } from "./gate-context.js";
import { GateReason } from "./gate-reasons.js";

/**
 * Cloud-wide. Counts the distinct failed hosts of the cooldown window — failures recorded in
 * the window, hosts with an open incident, and this pass's candidates (F13, F14: hosts already
 * failed count) — and closes when that number exceeds maxUnhealthy, resolved against the
 * number of hosts of the cloud (resolveMaxUnhealthy: percentages round down, at least 1).
 *
 * All or nothing per pass: when this pass's failures would take the count over the limit,
 * none of them is opened. A batch that crosses the limit is itself the storm signal, and
 * picking which of several simultaneous failures to fence would be arbitrary. Earlier failures
 * already in progress are not touched. A slow cascade (F14) therefore opens failures one by one
 * up to the limit and suppresses the first one beyond it, and every later one while the
 * window is full. The gate re-opens by itself as failures leave the window (cooldown) or
 * incidents close.
 *
 * Fails closed, including on an unreadable limit (treated as 0): fencing a large share of a
 * cloud at once multiplies the damage of any mistake and usually has one shared cause that
 * fencing does not fix.
 */
export function stormThresholdGate(ctx: GateContext): GateResult {
  const { limit, describe } = resolveMaxUnhealthy(ctx.settings.maxUnhealthy, ctx.hosts.length);
  const { known, total } = failuresInWindow(ctx.nowMs, ctx.settings.cooldownMs, ctx.recentFailures, ctx.hosts, ctx.candidates);
  const counted = `${total.size} failed host${total.size === 1 ? "" : "s"} (${known.size} open or within ${ctx.settings.cooldownMs} ms, ${total.size - known.size} new)`;
  return total.size > limit
    ? { gate: "StormThreshold", blocked: true, reason: GateReason.TooManyFailedHosts, message: `${counted} exceed maxUnhealthy ${describe}` }
    : { gate: "StormThreshold", blocked: false, reason: GateReason.WithinLimit, message: `${counted} within maxUnhealthy ${describe}` };
}
