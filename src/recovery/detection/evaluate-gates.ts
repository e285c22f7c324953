import type { GateResult, HostObservation } from "../model.js";
import { aggregateStormThresholdGates, summarizeAggregateGates } from "./gates/aggregate-storm-threshold.js";
import type { GateContext } from "./gates/gate-context.js";
import { GateReason } from "./gates/gate-reasons.js";
import { heartbeatCliffGate } from "./gates/heartbeat-cliff.js";
import { kubeApiUnreachableGate } from "./gates/kube-api-unreachable.js";
import { maintenanceGate } from "./gates/maintenance.js";
import { observerIsolatedGate } from "./gates/observer-isolated.js";
import { pausedGate } from "./gates/paused.js";
import { startupGraceGate } from "./gates/startup-grace.js";
import { SUPPRESSED_PHASE } from "./monitored-hosts.js";
import { stormThresholdGate } from "./gates/storm-threshold.js";

export interface GateChain {
  /** Every gate's cloud-wide verdict, in chain order (AggregateStormThreshold and Maintenance summarized). */
  gates: GateResult[];
  /** For each candidate (by name): the first gate of the chain that blocks it; absent = it may proceed. */
  blocking: Map<string, GateResult>;
}

/**
 * Runs the safety-gate chain in order; for each candidate the first blocking gate wins:
 * KubeApiUnreachable → ObserverIsolated → HeartbeatCliff → StormThreshold →
 * AggregateStormThreshold (per aggregate) → StartupGrace → Paused → Maintenance (per host).
 * The order puts the gates that say "the observer itself may be wrong" first, then the
 * "too much at once" gates, then the operator's wishes, so the gate named on a Suppressed
 * incident is the most fundamental reason. Every gate is evaluated every pass (no short
 * circuit) so that metrics show all gates currently closed.
 *
 * Candidates are never in maintenance (decideDetection skips those hosts before the chain,
 * because maintenance changes the outcome — no Incident at all — not only the gate's name);
 * the Maintenance summary reports whether any failed host was skipped for it.
 */
export function evaluateGates(ctx: GateContext): GateChain {
  const cloud = [kubeApiUnreachableGate(ctx), observerIsolatedGate(ctx), heartbeatCliffGate(ctx), stormThresholdGate(ctx)];
  const perAggregate = aggregateStormThresholdGates(ctx);
  const tail = [startupGraceGate(ctx), pausedGate(ctx)];
  const blocking = new Map<string, GateResult>();
  for (const host of ctx.candidates) {
    const aggregate = perAggregate.find((r) => r.blocked && host.aggregates.includes(r.aggregate));
    const hostMaintenance = maintenanceGate(host);
    const chain: (GateResult | undefined)[] = [...cloud, aggregate, ...tail, hostMaintenance];
    const first = chain.find((g) => g?.blocked === true);
    if (first !== undefined) blocking.set(host.name, stripAggregate(first));
  }
  const gates = [...cloud, summarizeAggregateGates(perAggregate), ...tail, maintenanceSummary(ctx)];
  return { gates, blocking };
}

function stripAggregate(result: GateResult): GateResult {
  return { gate: result.gate, blocked: result.blocked, reason: result.reason, message: result.message };
}

function maintenanceSummary(ctx: GateContext): GateResult {
  const skipped = ctx.hosts.filter((h: HostObservation) => h.maintenance && ctx.states.get(h.name) === "Failed" && (h.openIncident === undefined || h.openIncident.phase === SUPPRESSED_PHASE)).map((h) => h.name);
  return skipped.length > 0
    ? { gate: "Maintenance", blocked: true, reason: GateReason.HostInMaintenance, message: `failed hosts in maintenance held back: ${skipped.join(", ")}` }
    : { gate: "Maintenance", blocked: false, reason: GateReason.NotInMaintenance, message: "no failed host in maintenance" };
}
