import type { GateResult } from "../../model.js";
import { resolveMaxUnhealthy } from "../resolve-max-unhealthy.js";
import { failuresInWindow } from "./failures-in-window.js";
import type { GateContext } from "./gate-context.js";
import { GateReason } from "./gate-reasons.js";

/** The verdict for one perAggregate entry. */
export interface AggregateGateResult extends GateResult {
  aggregate: string;
}

/**
 * Per aggregate (it blocks the candidates that belong to a tripped aggregate; others proceed).
 * Each perAggregate entry is counted like the cloud-wide StormThreshold, but only over the
 * hosts, failures and candidates of that aggregate and against the number of hosts in it.
 * An aggregate listed several times (several policies) is blocked when any entry trips, so the
 * tightest limit wins. All or nothing per aggregate and pass, like StormThreshold.
 *
 * Fails closed for the same reason as StormThreshold: an aggregate often shares a rack, a
 * switch or a power feed, and losing much of it at once is a shared cause.
 */
export function aggregateStormThresholdGates(ctx: GateContext): AggregateGateResult[] {
  return ctx.settings.perAggregate.map((entry) => {
    const member = (aggregates: readonly string[]): boolean => aggregates.includes(entry.aggregate);
    const size = ctx.hosts.filter((h) => member(h.aggregates)).length;
    const { limit, describe } = resolveMaxUnhealthy(entry.maxUnhealthy, size);
    const { known, total } = failuresInWindow(ctx.nowMs, ctx.settings.cooldownMs, ctx.recentFailures, ctx.hosts, ctx.candidates, member);
    const counted = `aggregate ${entry.aggregate}: ${total.size} failed host${total.size === 1 ? "" : "s"} (${known.size} open or in window, ${total.size - known.size} new)`;
    return total.size > limit
      ? { aggregate: entry.aggregate, gate: "AggregateStormThreshold", blocked: true, reason: GateReason.TooManyFailedInAggregate, message: `${counted} exceed maxUnhealthy ${describe}` }
      : { aggregate: entry.aggregate, gate: "AggregateStormThreshold", blocked: false, reason: GateReason.WithinLimit, message: `${counted} within maxUnhealthy ${describe}` };
  });
}

/** The cloud-wide summary of the per-aggregate verdicts (for metrics and the log). */
export function summarizeAggregateGates(results: readonly AggregateGateResult[]): GateResult {
  if (results.length === 0) return { gate: "AggregateStormThreshold", blocked: false, reason: GateReason.NoAggregateLimits, message: "no per-aggregate limits" };
  const closed = results.filter((r) => r.blocked);
  if (closed.length === 0) return { gate: "AggregateStormThreshold", blocked: false, reason: GateReason.WithinLimit, message: `${results.length} aggregate limits respected` };
  return { gate: "AggregateStormThreshold", blocked: true, reason: GateReason.TooManyFailedInAggregate, message: closed.map((r) => r.message).join("; ") };
}
