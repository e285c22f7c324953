import type { InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import type { DetectionSettings } from "../model.js";
import { DETECTION_DEFAULTS } from "./detection-defaults.js";
import { normalizeDetectionSettings } from "./normalize-detection-settings.js";
import { resolveMaxUnhealthy } from "./resolve-max-unhealthy.js";

/**
 * The detection settings of one cloud from its InstanceHAPolicies. Host detection is per
 * cloud (a host is failed or not, whichever policy protects its VMs), so when policies differ
 * the MOST CAUTIOUS value of each field wins — the one that fences later or less:
 *
 * - Disabled policies are ignored. With no active policy the defaults apply and `paused` is
 *   true (nothing is protected, nothing is fenced).
 * - Each policy's values are CRD defaults where unset, repaired like normalizeDetectionSettings
 *   (clamped into the CRD ranges; problems go to `notes` with the policy's name).
 * - heartbeatIntervalMs: the largest (no agent is judged against a faster rhythm than a policy
 *   gives it); missedHeartbeats: the smallest count with interval × missed ≥ the largest
 *   interval × missed of any policy. confirmationWindowMs: the longest.
 * - corroboration: Peers and Nova are each stricter than PeersOrNova (they accept a subset of
 *   its confirmations). One strict mode wins over PeersOrNova; Peers and Nova together give
 *   PeersAndNova (both channels must agree), which no single policy can ask for.
 * - maxUnhealthy: the lowest absolute host count for `hostCount` hosts (resolveMaxUnhealthy);
 *   the winner keeps its original form, ties go to the first policy by namespace/name.
 * - perAggregate: all entries of all policies (duplicates removed); the gate blocks an aggregate
 *   when any of its entries trips, so the tightest limit wins without knowing aggregate sizes.
 * - heartbeatCliffPercent: the lowest; cooldownMs and startupGraceMs: the longest.
 * - paused: only when every active policy is paused. One paused policy among active ones does
 *   not stop detection for the others; the executor still honours it for its own instances.
 */
export function mergeDetectionSettings(policies: readonly InstanceHAPolicy[], hostCount: number): DetectionSettings {
  const active = policies.filter((p) => (p.spec.mode ?? "KeepRunning") !== "Disabled").sort((a, b) => (policyKey(a) < policyKey(b) ? -1 : 1));
  if (active.length === 0) return { ...DETECTION_DEFAULTS, paused: true, notes: ["no active InstanceHAPolicy for this cloud"] };
  const notes: string[] = [];
  const each = active.map((p) => {
    const n = normalizeDetectionSettings(policySettings(p));
    notes.push(...n.problems.map((problem) => `${policyKey(p)}: ${problem}`));
    return n.settings;
  });
  const heartbeatIntervalMs = Math.max(...each.map((s) => s.heartbeatIntervalMs));
  const suspectAfterMs = Math.max(...each.map((s) => s.heartbeatIntervalMs * s.missedHeartbeats));
  const merged: DetectionSettings = {
    heartbeatIntervalMs,
    missedHeartbeats: Math.ceil(suspectAfterMs / heartbeatIntervalMs),
    confirmationWindowMs: Math.max(...each.map((s) => s.confirmationWindowMs)),
    corroboration: strictestCorroboration(each.map((s) => s.corroboration)),
    maxUnhealthy: lowestMaxUnhealthy(each.map((s) => s.maxUnhealthy), hostCount),
    perAggregate: mergePerAggregate(each),
    heartbeatCliffPercent: Math.min(...each.map((s) => s.heartbeatCliffPercent)),
    cooldownMs: Math.max(...each.map((s) => s.cooldownMs)),
    startupGraceMs: Math.max(...each.map((s) => s.startupGraceMs)),
    paused: each.every((s) => s.paused),
  };
  return notes.length > 0 ? { ...merged, notes } : merged;
}

function policyKey(p: InstanceHAPolicy): string {
  return `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`;
}

/** One policy's settings with the CRD defaults filled in. */
export function policySettings(p: InstanceHAPolicy): DetectionSettings {
  const hm = p.spec.hostMonitoring ?? {};
  const sp = p.spec.stormProtection ?? {};
  const d = DETECTION_DEFAULTS;
  return {
    heartbeatIntervalMs: hm.heartbeatIntervalMilliseconds ?? d.heartbeatIntervalMs,
    missedHeartbeats: hm.missedHeartbeats ?? d.missedHeartbeats,
    confirmationWindowMs: hm.confirmationWindowSeconds !== undefined ? hm.confirmationWindowSeconds * 1000 : d.confirmationWindowMs,
    corroboration: hm.corroboration ?? d.corroboration,
    maxUnhealthy: sp.maxUnhealthy ?? d.maxUnhealthy,
    perAggregate: (sp.perAggregate ?? []).map((a) => ({ aggregate: a.aggregate, maxUnhealthy: a.maxUnhealthy })),
    heartbeatCliffPercent: sp.heartbeatCliffPercent ?? d.heartbeatCliffPercent,
    cooldownMs: sp.cooldownSeconds !== undefined ? sp.cooldownSeconds * 1000 : d.cooldownMs,
    startupGraceMs: sp.startupGraceSeconds !== undefined ? sp.startupGraceSeconds * 1000 : d.startupGraceMs,
    paused: p.spec.paused ?? false,
  };
}

export function strictestCorroboration(modes: readonly DetectionSettings["corroboration"][]): DetectionSettings["corroboration"] {
  const peers = modes.includes("Peers") || modes.includes("PeersAndNova");
  const nova = modes.includes("Nova") || modes.includes("PeersAndNova");
  if (peers && nova) return "PeersAndNova";
  if (peers) return "Peers";
  if (nova) return "Nova";
  return "PeersOrNova";
}

function lowestMaxUnhealthy(values: readonly (number | string)[], hostCount: number): number | string {
  let best = values[0] ?? DETECTION_DEFAULTS.maxUnhealthy;
  for (const v of values) if (resolveMaxUnhealthy(v, hostCount).limit < resolveMaxUnhealthy(best, hostCount).limit) best = v;
  return best;
}

function mergePerAggregate(each: readonly DetectionSettings[]): DetectionSettings["perAggregate"] {
  const seen = new Map<string, DetectionSettings["perAggregate"][number]>();
  for (const entry of each.flatMap((s) => s.perAggregate)) seen.set(`${entry.aggregate}\u0000${String(entry.maxUnhealthy)}`, entry);
  return [...seen.values()].sort((a, b) => (a.aggregate < b.aggregate ? -1 : a.aggregate > b.aggregate ? 1 : String(a.maxUnhealthy) < String(b.maxUnhealthy) ? -1 : 1));
}
