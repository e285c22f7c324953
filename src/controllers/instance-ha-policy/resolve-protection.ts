import type { ComputeHost, InstanceHAPolicy, InstanceHAPolicyMode, InstanceHAPolicyUnprotectedInstanceReason } from "../../api/v1alpha1/index.js";
import type { Instance } from "./instance-inventory.js";
import { excludedBy, hostPlacements, placeInstance, selectorMatches, selectorSpecificity, tierMatches, type PlacedInstance } from "./selector-match.js";

export type UnprotectedReason = InstanceHAPolicyUnprotectedInstanceReason;

export interface TierRef {
  name: string;
  priority: number;
}

export interface ProtectedInstance {
  instance: Instance;
  /** The highest-priority tier whose selector matches; none means the last tier. */
  tier?: TierRef;
}

export interface UnprotectedInstance {
  instance: Instance;
  reason: UnprotectedReason;
  message: string;
}

/** Instances this policy shares with another one. */
export interface PolicyOverlap {
  /** `namespace/name` of the other policy. */
  policy: string;
  shared: number;
  /** Shared instances this policy protects. */
  won: number;
  /** Shared instances the other policy protects. */
  lost: number;
}

export interface PolicyResolution {
  /** `namespace/name`. */
  key: string;
  mode: InstanceHAPolicyMode;
  priority: number;
  specificity: number;
  /** Instances the selector matches (before exclusions and claims). */
  matched: number;
  protected: ProtectedInstance[];
  unprotected: UnprotectedInstance[];
  overlaps: PolicyOverlap[];
}

export interface ProtectionInput {
  /** The policies of one cloud (Disabled ones included: they are reported, never protect). */
  policies: readonly InstanceHAPolicy[];
  instances: readonly Instance[];
  /** The cloud's ComputeHosts: the aggregates and AZ of each instance's host. */
  hosts: readonly ComputeHost[];
}

export interface ProtectionResolution {
  /** In `namespace/name` order. */
  policies: PolicyResolution[];
  /** Instance id → key of the policy that claims it (protected, or refused for a reason of its own). */
  owners: Record<string, string>;
}

/** vm_states Nova can evacuate from (`nova.compute.api.API.evacuate`). */
export const EVACUABLE_VM_STATES: readonly string[] = ["active", "stopped", "error"];

export function policyKey(p: InstanceHAPolicy): string {
  return `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`;
}

interface Candidate {
  policy: InstanceHAPolicy;
  key: string;
  priority: number;
  specificity: number;
}

/**
 * The overlap rule of ADR 0002, total and deterministic: higher `spec.priority` first, then
 * the more specific selector (`selectorSpecificity`), then the alphabetically first
 * `namespace/name`. Negative when `a` wins.
 */
export function compareClaims(a: Candidate, b: Candidate): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.specificity !== b.specificity) return b.specificity - a.specificity;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * Decides, for every instance of a cloud, which policy protects it. A policy claims the
 * instances its selector matches minus its exclusions; of several claimants the overlap
 * rule picks one, and the others list the instance as `ClaimedByOtherPolicy`. The claim
 * depends on the selector alone (not on the instance's state or disk), so ownership does
 * not flip when an instance is stopped or resized. The owner then protects the instance
 * unless, in KeepRunning mode, Nova cannot evacuate it (`UnsupportedState`) or its root
 * disk is local and `recovery.localDisk` is Refuse (`LocalDiskRefused`). In NotifyOnly mode
 * every claimed instance is protected (watched and notified). Disabled policies claim
 * nothing; only their match count is reported. Pure.
 */
export function resolveProtection(input: ProtectionInput): ProtectionResolution {
  const placements = hostPlacements(input.hosts);
  const sorted = [...input.policies].sort((a, b) => (policyKey(a) < policyKey(b) ? -1 : 1));
  const candidates: Candidate[] = sorted.map((p) => ({ policy: p, key: policyKey(p), priority: p.spec.priority ?? 0, specificity: selectorSpecificity(p.spec.selector) }));
  const results = new Map<string, PolicyResolution>(
    candidates.map((c) => [c.key, { key: c.key, mode: c.policy.spec.mode ?? "KeepRunning", priority: c.priority, specificity: c.specificity, matched: 0, protected: [], unprotected: [], overlaps: [] }]),
  );
  const owners: Record<string, string> = {};
  const instances = [...input.instances].sort((a, b) => a.id.localeCompare(b.id));
  for (const instance of instances) {
    const placed = placeInstance(instance, placements);
    const claimants: Candidate[] = [];
    for (const c of candidates) {
      if (!selectorMatches(c.policy.spec.selector, placed)) continue;
      const r = results.get(c.key);
      if (!r) continue;
      r.matched++;
      if (r.mode === "Disabled") continue;
      const excluded = excludedBy(c.policy.spec.selector.exclude, placed);
      if (excluded) r.unprotected.push({ instance, reason: "Excluded", message: `matches ${excluded}` });
      else claimants.push(c);
    }
    claimants.sort(compareClaims);
    const [owner, ...losers] = claimants;
    if (!owner) continue;
    owners[instance.id] = owner.key;
    const ownerResult = results.get(owner.key);
    if (ownerResult) decideForOwner(ownerResult, owner.policy, placed);
    for (const l of losers) results.get(l.key)?.unprotected.push({ instance, reason: "ClaimedByOtherPolicy", message: claimMessage(owner, l) });
    recordOverlaps(results, claimants, owner);
  }
  for (const r of results.values()) r.overlaps.sort((a, b) => a.policy.localeCompare(b.policy));
  return { policies: [...results.values()], owners };
}

function decideForOwner(r: PolicyResolution, policy: InstanceHAPolicy, placed: PlacedInstance): void {
  const instance = placed.instance;
  if (r.mode === "KeepRunning") {
    if (!EVACUABLE_VM_STATES.includes(instance.vmState)) {
      r.unprotected.push({ instance, reason: "UnsupportedState", message: `vm_state ${instance.vmState} (status ${instance.status}): Nova evacuates only active, stopped or error instances` });
      return;
    }
    if (instance.localRootDisk && (policy.spec.recovery?.localDisk ?? "Refuse") === "Refuse") {
      const image = instance.imageId ? ` (image ${instance.imageId})` : "";
      r.unprotected.push({ instance, reason: "LocalDiskRefused", message: `root disk is local to the host${image}; recovery.localDisk is Refuse (RebuildFromImage accepts a rebuild from the image, losing local data)` });
      return;
    }
  }
  const tier = tierOf(policy, instance);
  r.protected.push(tier ? { instance, tier } : { instance });
}

/** The highest-priority tier of the policy whose selector matches the instance. */
export function tierOf(policy: InstanceHAPolicy, instance: Instance): TierRef | undefined {
  const tiers = [...(policy.spec.priorityTiers ?? [])].sort((a, b) => b.priority - a.priority);
  const t = tiers.find((x) => tierMatches(x.selector, instance));
  return t ? { name: t.name, priority: t.priority } : undefined;
}

function claimMessage(owner: Candidate, loser: Candidate): string {
  const by = `protected by InstanceHAPolicy ${owner.key}`;
  if (owner.priority !== loser.priority) return `${by}: higher priority (${owner.priority} > ${loser.priority})`;
  if (owner.specificity !== loser.specificity) return `${by}: same priority ${owner.priority}, more specific selector (${owner.specificity} > ${loser.specificity} criteria)`;
  return `${by}: same priority ${owner.priority} and specificity ${owner.specificity}, first by namespace/name`;
}

function recordOverlaps(results: Map<string, PolicyResolution>, claimants: Candidate[], owner: Candidate): void {
  if (claimants.length < 2) return;
  for (const a of claimants) {
    const r = results.get(a.key);
    if (!r) continue;
    for (const b of claimants) {
      if (a === b) continue;
      let o = r.overlaps.find((x) => x.policy === b.key);
      if (!o) r.overlaps.push((o = { policy: b.key, shared: 0, won: 0, lost: 0 }));
      o.shared++;
      if (a === owner) o.won++;
      if (b === owner) o.lost++;
    }
  }
}
