import type { InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import { LIMITS } from "../../guest-heartbeat/guest-pdu.js";
import type { HostSessionSettings } from "../../guest-heartbeat/host-session.js";
import type { GuestSettingsGroup } from "../../server-group-messaging/link-messages.js";

/** The CRD's sensitivity presets (guestMonitoring.sensitivity; its description says the same). */
export const SENSITIVITY_PRESETS = {
  High: { intervalMs: 1000, threshold: 3 },
  Medium: { intervalMs: 2000, threshold: 5 },
  Low: { intervalMs: 5000, threshold: 6 },
} as const;

/** appMonitoring.failureThreshold's default in the CRD. */
export const APP_FAILURE_THRESHOLD_DEFAULT = 3;

/**
 * The host session settings a policy asks for, or undefined when it monitors neither the
 * guest nor its applications (the agent's own settings apply then; reports are ignored).
 * The threshold of misses is also the number of unhealthy answers in a row the guest gets
 * (the CRD: "missed or unhealthy responses in a row"); application-only failures count
 * against appMonitoring.failureThreshold.
 */
export function guestSessionSettings(p: InstanceHAPolicy): HostSessionSettings | undefined {
  const g = p.spec.guestMonitoring ?? {};
  const a = p.spec.appMonitoring ?? {};
  if ((p.spec.mode ?? "KeepRunning") === "Disabled" || (!(g.enabled ?? false) && !(a.enabled ?? false))) return undefined;
  const sensitivity = g.sensitivity ?? "Medium";
  const base = sensitivity === "Custom" ? { intervalMs: g.intervalMilliseconds ?? LIMITS.defaultIntervalMs, threshold: g.failureThreshold ?? LIMITS.defaultThreshold } : SENSITIVITY_PRESETS[sensitivity];
  const intervalMs = Math.min(LIMITS.maxIntervalMs, Math.max(LIMITS.minIntervalMs, base.intervalMs));
  const threshold = Math.min(LIMITS.maxThreshold, Math.max(LIMITS.minThreshold, base.threshold));
  return { intervalMs, threshold, unhealthyThreshold: threshold, appUnhealthyThreshold: a.failureThreshold ?? APP_FAILURE_THRESHOLD_DEFAULT };
}

/**
 * Groups per-instance settings for the wire: one group per distinct setting, groups and
 * their instances sorted, so equal inputs give an equal message.
 */
export function settingsGroups(perInstance: ReadonlyMap<string, HostSessionSettings>): GuestSettingsGroup[] {
  const byKey = new Map<string, GuestSettingsGroup>();
  for (const [id, s] of perInstance) {
    const key = `${s.intervalMs}/${s.threshold}/${s.unhealthyThreshold}/${s.appUnhealthyThreshold}`;
    const group = byKey.get(key) ?? { ...s, instances: [] };
    group.instances.push(id);
    byKey.set(key, group);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => ({ ...g, instances: g.instances.sort() }));
}
