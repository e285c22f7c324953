import type { InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import type { GuestPolicySettings } from "../../recovery/guest/guest-action-model.js";
import { VM_MONITORING_DEFAULTS } from "../instance-recovery/recovery-settings.js";

/** The CRD's defaults of the guest and application monitoring fields. */
export const GUEST_MONITORING_DEFAULTS = { enabled: false, action: "Log", minUptimeSeconds: 120 } as const;
export const APP_MONITORING_DEFAULTS = { enabled: false, action: "Log", gracePeriodSeconds: 60 } as const;

/** A policy's guest-level action settings with the CRD's defaults applied. */
export function guestSettings(p: InstanceHAPolicy): GuestPolicySettings {
  const g = p.spec.guestMonitoring ?? {};
  const a = p.spec.appMonitoring ?? {};
  const vm = p.spec.vmMonitoring ?? {};
  const budget = p.spec.restartBudget ?? {};
  const d = VM_MONITORING_DEFAULTS;
  return {
    policy: `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`,
    mode: p.spec.mode ?? "KeepRunning",
    paused: p.spec.paused ?? false,
    guest: { enabled: g.enabled ?? GUEST_MONITORING_DEFAULTS.enabled, action: g.action ?? GUEST_MONITORING_DEFAULTS.action, minUptimeMs: (g.minUptimeSeconds ?? GUEST_MONITORING_DEFAULTS.minUptimeSeconds) * 1000 },
    app: { enabled: a.enabled ?? APP_MONITORING_DEFAULTS.enabled, action: a.action ?? APP_MONITORING_DEFAULTS.action, gracePeriodMs: (a.gracePeriodSeconds ?? APP_MONITORING_DEFAULTS.gracePeriodSeconds) * 1000 },
    vm: { enabled: vm.enabled ?? d.enabled, crashAction: vm.crashAction ?? d.crashAction, unrequestedStopAction: vm.unrequestedStopAction ?? d.unrequestedStopAction, guestShutdownAction: vm.guestShutdownAction ?? d.guestShutdownAction },
    maxRecoveries: budget.maxRecoveries ?? d.maxRecoveries,
    windowMs: (budget.windowSeconds ?? d.windowSeconds) * 1000,
  };
}

/** guestMonitoring.voteTimeoutSeconds in ms (CRD default 10 s; 0 turns voting off). */
export function voteTimeoutMs(p: InstanceHAPolicy): number {
  return (p.spec.guestMonitoring?.voteTimeoutSeconds ?? 10) * 1000;
}
