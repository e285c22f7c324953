import type { IncidentStatus } from "../../../../src/api/v1alpha1/index.js";
import { hostReturnPending, planHostReturn, type HostReturnAction } from "../../../../src/recovery/workflow/plan-host-return.js";
import type { WorkflowHost } from "../../../../src/recovery/workflow/workflow-model.js";

/** What happens to the failed host after (or while) its incident runs; times in ms from the incident's start. */
export interface HostReturnScenario {
  /** The host's agent heartbeats again (health Degraded while Nova says down, then Healthy). */
  agentBackAtMs?: number;
  /** nova-compute starts and reports to Nova every 10 s from then on. */
  computeBackAtMs?: number;
  /** Someone disables the service with their own reason. */
  disabledByPerson?: { atMs: number; reason: string };
  /** A person lifts the force-down and enables the service. */
  personReenablesAtMs?: number;
  maintenance?: boolean;
  /** A newer incident of the same host appears. */
  newerIncidentAtMs?: number;
  /** Nova refuses the first lifts of the force-down (its evacuation records not cleaned up yet). */
  liftRefusals?: number;
  /** Stop following after this time (default 10 minutes). */
  untilMs?: number;
}

export interface HostReturnRun {
  actions: string[];
  log: string[];
  state?: string;
  message?: string;
  condition?: string;
}

const T0 = Date.parse("2026-01-01T00:00:00Z");
const REPORT_MS = 10_000;

/**
 * A virtual executor for planHostReturn: from the end of a workflow run, the fake Nova
 * service and ComputeHost health follow the scenario's timeline, and each action the
 * planner asks for is applied the way the HostReturnFollower applies it to Nova.
 */
export function runHostReturn(h: HostReturnScenario, final: IncidentStatus, host: WorkflowHost, endMs: number): HostReturnRun {
  const out: HostReturnRun = { actions: [], log: [] };
  const svc: WorkflowHost = { ...host };
  let status = final;
  let refusals = h.liftRefusals ?? 0;
  const at = (t: number | undefined, now: number): boolean => t !== undefined && now >= t;
  for (let now = endMs, i = 0; i < 500 && now <= (h.untilMs ?? 600_000); i++) {
    const computeUp = at(h.computeBackAtMs, now);
    if (h.disabledByPerson && at(h.disabledByPerson.atMs, now) && !at(h.personReenablesAtMs, now)) Object.assign(svc, { disabled: true, disabledReason: h.disabledByPerson.reason });
    if (at(h.personReenablesAtMs, now)) Object.assign(svc, { disabled: false, disabledReason: undefined, forcedDown: false });
    svc.up = computeUp && !svc.forcedDown;
    if (computeUp && h.computeBackAtMs !== undefined) svc.updatedAt = new Date(T0 + Math.max(h.computeBackAtMs, Math.floor(now / REPORT_MS) * REPORT_MS)).toISOString();
    const health = at(h.agentBackAtMs, now) ? (svc.up ? "Healthy" : "Degraded") : "Failed";
    const step = planHostReturn({
      nowIso: new Date(T0 + now).toISOString(),
      status,
      service: svc,
      health,
      hostExists: true,
      maintenance: h.maintenance ?? false,
      ...(at(h.newerIncidentAtMs, now) ? { newerIncident: { name: "lab.compute-1-2", suppressed: false } } : {}),
    });
    out.log.push(...step.log.map((l) => `+${now / 1000}s ${l}`));
    status = step.status;
    if (!step.action) {
      if (!hostReturnPending(status)) break;
      now += step.requeueAfterMs ?? 1000;
      continue;
    }
    const result = apply(step.action, now);
    out.actions.push(`+${now / 1000}s ${step.action.kind} → ${result}`);
    // The follower writes the refusal and looks again 10 s later.
    if (result.startsWith("400")) now += 10_000;
  }
  const hr = status.hostReturn;
  const cond = status.conditions?.find((c) => c.type === "HostReenabled");
  return { ...out, ...(hr ? { state: hr.state, message: hr.message } : {}), ...(cond ? { condition: `${cond.status} (${cond.reason})` } : {}) };

  function apply(a: HostReturnAction, now: number): string {
    const hr = status.hostReturn;
    const iso = new Date(T0 + now).toISOString();
    if (a.kind === "LiftForceDown") {
      if (refusals > 0 || !at(h.computeBackAtMs, now)) {
        refusals--;
        return "400 (evacuation records not cleaned up yet)";
      }
      svc.forcedDown = false;
      if (hr) hr.forceDownLiftedAt = iso;
      return "forced_down false";
    }
    Object.assign(svc, { disabled: false, disabledReason: undefined });
    if (hr) hr.reenabledAt = iso;
    return "enabled";
  }
}
