import type { InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import type { InstanceRecoverySettings } from "../../recovery/instance/instance-recovery-model.js";

/** The CRD's defaults for the fields VM-level recovery reads (the API server fills them; objects from elsewhere may lack them). */
export const VM_MONITORING_DEFAULTS = {
  enabled: true,
  crashAction: "Restart",
  unrequestedStopAction: "Restart",
  guestShutdownAction: "Honour",
  errorAction: "Restart",
  minUptimeSeconds: 120,
  minRestartIntervalSeconds: 60,
  maxRecoveries: 3,
  windowSeconds: 3600,
} as const;

/** A policy's VM-level recovery settings with the CRD's defaults applied. */
export function recoverySettings(p: InstanceHAPolicy): InstanceRecoverySettings {
  const d = VM_MONITORING_DEFAULTS;
  const vm = p.spec.vmMonitoring ?? {};
  const budget = p.spec.restartBudget ?? {};
  return {
    policy: `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`,
    mode: p.spec.mode ?? "KeepRunning",
    paused: p.spec.paused ?? false,
    enabled: vm.enabled ?? d.enabled,
    unrequestedStopAction: vm.unrequestedStopAction ?? d.unrequestedStopAction,
    crashAction: vm.crashAction ?? d.crashAction,
    guestShutdownAction: vm.guestShutdownAction ?? d.guestShutdownAction,
    errorAction: vm.errorAction ?? d.errorAction,
    maxRecoveries: budget.maxRecoveries ?? d.maxRecoveries,
    windowMs: (budget.windowSeconds ?? d.windowSeconds) * 1000,
    minRestartIntervalMs: (vm.minRestartIntervalSeconds ?? d.minRestartIntervalSeconds) * 1000,
    minUptimeMs: (vm.minUptimeSeconds ?? d.minUptimeSeconds) * 1000,
  };
}

/** Whether the policy may act on or report any instance (no Nova call is made for a cloud without one). */
export function recoveryActive(s: InstanceRecoverySettings): boolean {
  return s.mode !== "Disabled" && s.enabled && !s.paused;
}
