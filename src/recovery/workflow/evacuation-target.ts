import type { IncidentInstance, IncidentStatus } from "../../api/v1alpha1/index.js";
import { chooseReservedHost, type UsableReservedHost } from "./choose-reserved-host.js";
import { targetHostBusy, type TargetHostLoad } from "./target-host-load.js";
import type { ProtectedInstance, RecoveryMethod, WorkflowInput } from "./workflow-model.js";

export type TargetDecision =
  | { kind: "evacuate"; method: RecoveryMethod; reserved?: UsableReservedHost; note?: string }
  | { kind: "enable"; host: UsableReservedHost }
  | { kind: "wait"; message: string }
  | { kind: "fail"; message: string };

/** The method after `current` in the policy's order, if any. */
export function nextMethod(methods: readonly RecoveryMethod[], current: RecoveryMethod): RecoveryMethod | undefined {
  const i = methods.indexOf(current);
  return i < 0 ? undefined : methods[i + 1];
}

/** The method an instance's next evacuation uses: the one recorded on it, else its policy's first. */
export function currentMethod(inst: IncidentInstance, p: ProtectedInstance | undefined): RecoveryMethod {
  return inst.method ?? p?.methods[0] ?? "Evacuate";
}

/**
 * Where the next evacuation of `inst` goes, per its policy's methods in order; pure.
 * ReservedHost: the chosen reserved host (enabled first when it is a disabled spare), or the
 * next method when no reserved host is usable, or Failed when there is none. Evacuate: the
 * scheduler chooses. Either way it waits while the per-target-host cap could be exceeded
 * (see targetHostBusy): a reserved host's count is exact, the scheduler's target may be the
 * busiest known one.
 */
export function evacuationTarget(inst: IncidentInstance, p: ProtectedInstance | undefined, status: IncidentStatus, input: WorkflowInput, load: TargetHostLoad): TargetDecision {
  const cap = input.settings.maxConcurrentEvacuationsPerTargetHost;
  let method = currentMethod(inst, p);
  let note: string | undefined;
  if (method === "ReservedHost") {
    const choice = chooseReservedHost(p?.reservedHosts ?? [], input.reservedHosts, status.reservedHosts ?? [], input.host.serviceHost);
    if (choice.kind !== "none") {
      const busy = targetHostBusy(load, choice.host.serviceHost, cap);
      if (busy) return { kind: "wait", message: `waiting for reserved host ${choice.host.name}: ${busy}` };
      return choice.kind === "enable" ? { kind: "enable", host: choice.host } : { kind: "evacuate", method, reserved: choice.host };
    }
    const next = nextMethod(p?.methods ?? [], method);
    if (!next) return { kind: "fail", message: `no usable reserved host: ${choice.reason}` };
    note = `no usable reserved host (${choice.reason}); the scheduler chooses instead`;
    method = next;
  }
  const busy = targetHostBusy(load, undefined, cap);
  if (busy) return { kind: "wait", message: `waiting: ${busy}${note ? `; ${note}` : ""}` };
  return { kind: "evacuate", method, ...(note ? { note } : {}) };
}

/** Records a reserved host as chosen by the incident (once, in order of choice). */
export function recordReservedHost(status: IncidentStatus, host: UsableReservedHost): void {
  const list = (status.reservedHosts ??= []);
  if (!list.some((r) => r.name === host.name)) list.push({ name: host.name, serviceHost: host.serviceHost });
}

/** Nova's fault when the scheduler found no room: evacuating again elsewhere is safe (nothing was rebuilt). */
export function isNoValidHost(fault: string | undefined): boolean {
  return /no valid host/i.test(fault ?? "");
}
