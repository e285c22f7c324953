import type { IncidentHostReturn, IncidentHostReturnState, IncidentStatus } from "../../api/v1alpha1/index.js";
import { setCondition } from "../../kube/conditions.js";
import { isHostFailureReason } from "./host-failure-reason.js";
import type { HostReenableMode, WorkflowHost } from "./workflow-model.js";

export const CONDITION_HOST_REENABLED = "HostReenabled";
const FINAL = new Set<IncidentHostReturnState>(["Reenabled", "LeftDisabled", "Superseded", "HostGone"]);
/** Health states in which the host's agent heartbeats (Degraded: while Nova still says down / forced down). */
const HEARTBEATING = new Set(["Healthy", "Degraded"]);

export interface HostReturnInput {
  nowIso: string;
  /** A finished incident's status (Recovered or Failed) with its hostReturn. */
  status: IncidentStatus;
  /** The failed host's nova-compute service as read now; undefined when Nova no longer has it. */
  service: WorkflowHost | undefined;
  /** The ComputeHost's status.health.state; undefined when the ComputeHost is gone. */
  health: string | undefined;
  hostExists: boolean;
  maintenance: boolean;
  /**
   * A newer incident of the same host, if any: it owns the host's return from then on — unless
   * a safety gate holds it (Suppressed), which only pauses this one (a withdrawn one is ignored).
   */
  newerIncident?: { name: string; suppressed: boolean };
}

export type HostReturnAction = { kind: "LiftForceDown"; serviceId: string } | { kind: "EnableService"; serviceId: string };

export interface HostReturnStep {
  status: IncidentStatus;
  action?: HostReturnAction;
  requeueAfterMs?: number;
  log: string[];
}

/** Whether a host return is still to be followed (not final). */
export function hostReturnPending(status: IncidentStatus | undefined): boolean {
  const hr = status?.hostReturn;
  return hr !== undefined && !FINAL.has(hr.state);
}

/**
 * The host return an incident starts with when it finishes; pure. Only a host vmkeeper forced
 * down or disabled has something to return from. `service` is the host's Nova service now:
 * its updated_at is the mark nova-compute must report past (Nova's own clock, so a skewed
 * controller clock does not matter).
 */
export function initialHostReturn(status: IncidentStatus, mode: HostReenableMode, service: WorkflowHost, nowIso: string): void {
  if (!status.fencing?.forcedDown && !status.fencing?.serviceDisabled) return;
  const hr: IncidentHostReturn = { mode, state: mode === "Manual" ? "WaitingForPerson" : "WaitingForHost", ...(service.updatedAt ? { serviceUpdatedAt: service.updatedAt } : {}) };
  status.hostReturn = hr;
  setState(status, hr.state, mode === "Manual" ? manualMessage(service.serviceHost) : `nova-compute on ${service.serviceHost} stays forced down and disabled until the host is back (recovery.hostReenable: Automatic)`, nowIso);
}

/**
 * The next step of a finished incident's host return; pure. Never while the incident is
 * recovering (F20: this runs only on Recovered or Failed incidents). Automatic, in two steps:
 * lift the force-down once the host is back — the agent heartbeats (health Healthy or
 * Degraded) AND nova-compute reports again (Nova's updated_at moved past the mark) — then,
 * once Nova reports the service up, enable it. A service disabled with a reason that is not
 * vmkeeper's is never touched; maintenance holds everything; a newer incident of the host
 * takes over. Manual waits for a person and notices when they are done.
 */
export function planHostReturn(input: HostReturnInput): HostReturnStep {
  const status: IncidentStatus = structuredClone(input.status);
  const hr = status.hostReturn;
  const log: string[] = [];
  if (!hr || FINAL.has(hr.state)) return { status, log };
  const to = (state: IncidentHostReturnState, message: string, requeueAfterMs: number): HostReturnStep => {
    if (setState(status, state, message, input.nowIso)) log.push(`host return ${state}: ${message}`);
    return FINAL.has(state) ? { status, log } : { status, log, requeueAfterMs };
  };
  const svc = input.service;
  if (input.newerIncident && !input.newerIncident.suppressed) return to("Superseded", `incident ${input.newerIncident.name} of the same host took over its return to service`, 0);
  if (input.newerIncident) return to(hr.mode === "Manual" ? "WaitingForPerson" : "WaitingForHost", `the host failed again (incident ${input.newerIncident.name}, held by a safety gate): nothing is re-enabled meanwhile`, 10_000);
  if (!input.hostExists || !svc?.serviceId) return to("HostGone", "the host's nova-compute service no longer exists", 0);
  if (svc.disabled && !isHostFailureReason(svc.disabledReason)) return to("LeftDisabled", `the service was disabled for another reason (${svc.disabledReason ?? "none given"}); vmkeeper leaves it to whoever did that`, 0);
  if (!svc.disabled && !svc.forcedDown && svc.up) return to("Reenabled", hr.reenabledAt ? `nova-compute on ${svc.serviceHost} enabled by vmkeeper and up` : `nova-compute on ${svc.serviceHost} is enabled and up again (re-enabled by a person)`, 0);
  if (hr.mode === "Manual") return to("WaitingForPerson", manualMessage(svc.serviceHost), 60_000);
  if (input.maintenance) return to("WaitingForHost", "the ComputeHost is in maintenance (spec.maintenance): nothing is re-enabled until it ends", 10_000);
  if (svc.forcedDown) {
    const waiting = notBackYet(input.health, svc, hr.serviceUpdatedAt ?? status.timestamps?.finishedAt);
    if (waiting) return to("WaitingForHost", waiting, 5_000);
    return { status, action: { kind: "LiftForceDown", serviceId: svc.serviceId }, log: [...log, `lift the force-down of nova-compute on ${svc.serviceHost}: the agent heartbeats and nova-compute reports again`] };
  }
  if (!svc.up) return to("WaitingForServiceUp", `force-down lifted; waiting for Nova to report nova-compute on ${svc.serviceHost} up`, 2_000);
  return { status, action: { kind: "EnableService", serviceId: svc.serviceId }, log: [...log, `enable nova-compute on ${svc.serviceHost} (disabled by vmkeeper: ${svc.disabledReason ?? ""})`] };
}

function notBackYet(health: string | undefined, svc: WorkflowHost, mark: string | undefined): string | undefined {
  if (!health || !HEARTBEATING.has(health)) return `waiting for the host's agent heartbeats (health ${health ?? "unknown"})`;
  const reported = svc.updatedAt !== undefined && (mark === undefined || Date.parse(svc.updatedAt) > Date.parse(mark));
  if (!reported) return `the agent heartbeats; waiting for nova-compute to report to Nova again (updated_at ${svc.updatedAt ?? "unknown"} not after ${mark ?? "the incident's end"})`;
  return undefined;
}

function manualMessage(serviceHost: string): string {
  return `nova-compute on ${serviceHost} stays forced down and disabled (recovery.hostReenable: Manual): once the host is healthy, a person returns it (openstack compute service set --up --enable ${serviceHost} nova-compute)`;
}

/** Sets the state, its message and the HostReenabled condition; true when something changed. */
function setState(status: IncidentStatus, state: IncidentHostReturnState, message: string, nowIso: string): boolean {
  const hr = status.hostReturn;
  if (!hr || (hr.state === state && hr.message === message)) return false;
  hr.state = state;
  hr.message = message.slice(0, 1024);
  status.conditions = setCondition(status.conditions, { type: CONDITION_HOST_REENABLED, status: state === "Reenabled" ? "True" : "False", reason: state, message: hr.message }, new Date(nowIso));
  return true;
}
