import type { HostFacts, InstanceRecoverySettings, RecoveryCandidate } from "./instance-recovery-model.js";

/** Why an instance is left alone before its history is even read. */
export interface InstanceGate {
  reason: string;
  message: string;
  /** Worth a one-time report to the policy's owners (not just a log line). */
  report?: boolean;
}

type GateCheck = (c: RecoveryCandidate, s: InstanceRecoverySettings, host: HostFacts | undefined) => InstanceGate | undefined;

const policyGate: GateCheck = (_c, s) => {
  if (s.mode === "Disabled") return { reason: "PolicyDisabled", message: `policy ${s.policy} is Disabled` };
  if (!s.enabled) return { reason: "VmMonitoringDisabled", message: `policy ${s.policy} has vmMonitoring.enabled false` };
  if (s.paused) return { reason: "Paused", message: `policy ${s.policy} is paused` };
  return undefined;
};

const taskGate: GateCheck = (c) => (c.taskState !== null ? { reason: "TaskInProgress", message: `task_state ${c.taskState}: an operation is in progress` } : undefined);

const placementGate: GateCheck = (c) => (c.host ? undefined : { reason: "NotPlaced", message: "not placed on any host (never built): nothing to restart" });

/** The host workflow owns the instances of a host that is failing, failed, being recovered or under maintenance. */
const hostGate: GateCheck = (c, _s, h) => {
  const on = `host ${c.host ?? ""}`;
  if (h?.maintenance) return { reason: "HostMaintenance", message: `${on} is in maintenance (ComputeHost spec.maintenance)` };
  if (h?.openIncident) return { reason: "HostIncident", message: `${on} is handled by Incident ${h.openIncident}` };
  if (h?.health === "Failed" || h?.health === "Suspect") return { reason: `Host${h.health}`, message: `${on} is ${h.health}: the host workflow decides` };
  if (c.hostStatus === "DOWN" || c.hostStatus === "UNKNOWN") return { reason: "HostDown", message: `${on}: Nova reports host_status ${c.hostStatus} (a start would wait for a compute that does not answer)` };
  return undefined;
};

/** A locked instance is never acted on (checked once vmkeeper knows it would act). */
export function lockGate(c: RecoveryCandidate): InstanceGate | undefined {
  if (!c.locked) return undefined;
  if (c.lockedReason?.startsWith("vmkeeper:")) return { reason: "LockedByVmkeeper", message: `locked by vmkeeper (${c.lockedReason}): a recovery is in progress` };
  return { reason: "Locked", message: `locked by its owner${c.lockedReason ? ` (${c.lockedReason})` : ""}: vmkeeper does not act on locked instances`, report: true };
}

const CHAIN: readonly GateCheck[] = [policyGate, taskGate, placementGate, hostGate];

/**
 * The gates an instance passes before vmkeeper reads its history and decides; the first
 * closed one wins. Pure: the controller uses it to read instance actions only for the
 * instances that may be acted on (keeping Nova's load low), the planner to explain. The
 * lock is checked later (lockGate), once the history says vmkeeper would restart it.
 */
export function gateCandidate(c: RecoveryCandidate, s: InstanceRecoverySettings | undefined, host: HostFacts | undefined): InstanceGate | undefined {
  if (!s) return { reason: "NoPolicy", message: `policy ${c.policy} is gone` };
  for (const check of CHAIN) {
    const g = check(c, s, host);
    if (g) return g;
  }
  return undefined;
}
