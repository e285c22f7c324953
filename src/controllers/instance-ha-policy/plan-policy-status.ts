import type {
  InstanceHAPolicy,
  InstanceHAPolicyFailoverCapacityItem,
  InstanceHAPolicyStatus,
  InstanceHAPolicyUnprotectedInstance,
} from "../../api/v1alpha1/index.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import { removeCondition, rfc3339, setCondition, type Condition, type ConditionInput } from "../../kube/conditions.js";
import type { FailoverCapacityReport, ScopeCapacity } from "./failover-capacity.js";
import type { PolicyResolution, UnprotectedReason } from "./resolve-protection.js";

export const CONDITION_READY = "Ready";
export const CONDITION_OVERLAPPING = "Overlapping";
export const CONDITION_FAILOVER_CAPACITY = "FailoverCapacitySufficient";
export const CONDITION_PAUSED = "Paused";
export const CONDITION_DEGRADED = "Degraded";
/** The CRD's condition for explicit safety knobs; reason UnsafeFencingSkipped. */
export const CONDITION_UNSAFE = "UnsafeConfiguration";

export const REASON_PROTECTING = "Protecting";
export const REASON_NOTIFY_ONLY = "NotifyOnly";
export const REASON_DISABLED = "Disabled";
export const REASON_CLOUD_NOT_READY = "CloudNotReady";
export const REASON_CLOUD_NOT_FOUND = "CloudNotFound";
export const REASON_SHARED_INSTANCES = "SharedInstances";
export const REASON_NO_OVERLAP = "NoOverlap";
export const REASON_SUFFICIENT = "SufficientCapacity";
export const REASON_INSUFFICIENT = "InsufficientCapacity";
export const REASON_CAPACITY_UNKNOWN = "CapacityUnknown";
export const REASON_NOTHING_TO_PROTECT = "NothingToProtect";
export const REASON_PAUSED = "Paused";
export const REASON_ACTIVE = "Active";
export const REASON_UNSAFE_FENCING_SKIPPED = "UnsafeFencingSkipped";
export const REASON_PROJECT_NAMES_UNKNOWN = "ProjectNamesUnknown";

/** Bounds of the CRD's status lists. */
export const MAX_UNPROTECTED = 100;
export const MAX_CAPACITY_ITEMS = 128;
/** Host failures each scope must absorb for FailoverCapacitySufficient (the CRD has no field for it yet). */
export const REQUIRED_HOST_FAILURES = 1;
/** lastEvaluationTime is refreshed when the result changes, and at least this often. */
export const EVALUATION_REFRESH_MS = 10 * 60_000;

export type CloudState = { ready: true } | { ready: false; reason: typeof REASON_CLOUD_NOT_READY | typeof REASON_CLOUD_NOT_FOUND; message: string };

export interface PolicyEvaluation {
  resolution: PolicyResolution;
  /** For KeepRunning policies only. */
  capacity?: FailoverCapacityReport;
  /** False when the cloud's project names are unknown (selectors by project name cannot match). */
  projectNamesKnown: boolean;
}

/** Listing order of the unprotected: what a person can act on first, intended exclusions last. */
const REASON_ORDER: readonly UnprotectedReason[] = ["LocalDiskRefused", "UnsupportedState", "BudgetExhausted", "HostNotFenceable", "ClaimedByOtherPolicy", "Other", "Excluded"];

/**
 * The status a policy should have. Pure and idempotent: planning again from the result
 * with the same inputs gives the same status. Time fields: conditions' lastTransitionTime
 * moves only when a condition's status changes; `lastEvaluationTime` is set to `now` when
 * the evaluated content changed, or when the stored one is older than
 * EVALUATION_REFRESH_MS (so a reader can tell the evaluation is live without a status
 * write every pass). When the cloud is not ready, the last evaluated figures are kept
 * (their lastEvaluationTime says how old they are) and the conditions say why.
 */
export function planPolicyStatus(policy: InstanceHAPolicy, cloud: CloudState, evaluation: PolicyEvaluation | undefined, now: Date): InstanceHAPolicyStatus {
  const current = policy.status ?? {};
  const generation = policy.metadata?.generation;
  const next: InstanceHAPolicyStatus = { ...current };
  if (generation !== undefined) next.observedGeneration = generation;
  let conditions: Condition[] = [...((current.conditions ?? []) as Condition[])];
  const set = (c: ConditionInput): void => {
    conditions = setCondition(conditions, c, now, generation);
  };
  const remove = (type: string): void => {
    conditions = removeCondition(conditions, type);
  };
  const mode = policy.spec.mode ?? "KeepRunning";
  set(policy.spec.paused ? { type: CONDITION_PAUSED, status: "True", reason: REASON_PAUSED, message: "spec.paused: no new fencing or recovery starts for this policy's instances" } : { type: CONDITION_PAUSED, status: "False", reason: REASON_ACTIVE, message: "not paused" });
  if (policy.spec.recovery?.unsafeSkipPowerFencing === true && mode !== "Disabled") {
    set({ type: CONDITION_UNSAFE, status: "True", reason: REASON_UNSAFE_FENCING_SKIPPED, message: "DANGEROUS: recovery.unsafeSkipPowerFencing treats a host as fenced after Nova force-down alone, without a power fencing device; instances may run twice" });
  } else remove(CONDITION_UNSAFE);

  if (!cloud.ready) {
    set({ type: CONDITION_READY, status: "False", reason: cloud.reason, message: cloud.message });
    if (mode === "KeepRunning") set({ type: CONDITION_FAILOVER_CAPACITY, status: "Unknown", reason: cloud.reason, message: `cannot evaluate: ${cloud.message}` });
    else remove(CONDITION_FAILOVER_CAPACITY);
    next.conditions = conditions;
    return next;
  }
  if (!evaluation) throw new Error("planPolicyStatus: a ready cloud needs an evaluation");
  const r = evaluation.resolution;
  const content = evaluatedContent(r, mode === "KeepRunning" ? evaluation.capacity : undefined);
  for (const k of ["protectedCount", "unprotectedCount", "unprotected", "hostFailuresTolerated", "failoverCapacity"] as const) delete next[k];
  Object.assign(next, content);
  set(readyCondition(r));
  set(overlapCondition(r));
  const degraded = !evaluation.projectNamesKnown && usesProjectNames(policy);
  if (degraded && mode !== "Disabled") {
    set({ type: CONDITION_DEGRADED, status: "True", reason: REASON_PROJECT_NAMES_UNKNOWN, message: "the selector names projects, but the cloud's project names are not known to vmkeeper; select projects by id" });
  } else remove(CONDITION_DEGRADED);
  if (mode === "KeepRunning") set(capacityCondition(r, evaluation.capacity));
  else remove(CONDITION_FAILOVER_CAPACITY);
  next.conditions = conditions;
  const before = evaluatedContent(undefined, undefined, current);
  const stale = !current.lastEvaluationTime || now.getTime() - Date.parse(current.lastEvaluationTime) >= EVALUATION_REFRESH_MS;
  if (stale || !jsonEqual(before, content)) next.lastEvaluationTime = rfc3339(now);
  return next;
}

type EvaluatedContent = Pick<InstanceHAPolicyStatus, "protectedCount" | "unprotectedCount" | "unprotected" | "hostFailuresTolerated" | "failoverCapacity">;

function evaluatedContent(r: PolicyResolution | undefined, capacity: FailoverCapacityReport | undefined, from?: InstanceHAPolicyStatus): EvaluatedContent {
  if (from) {
    const { protectedCount, unprotectedCount, unprotected, hostFailuresTolerated, failoverCapacity } = from;
    return { protectedCount, unprotectedCount, unprotected, hostFailuresTolerated, failoverCapacity };
  }
  const out: EvaluatedContent = { protectedCount: r?.protected.length ?? 0, unprotectedCount: r?.unprotected.length ?? 0 };
  const list = unprotectedList(r);
  if (list.length > 0) out.unprotected = list;
  if (capacity && capacity.scopes.length > 0) {
    out.failoverCapacity = capacity.scopes.slice(0, MAX_CAPACITY_ITEMS).map(capacityItem);
    if (capacity.hostFailuresTolerated !== undefined) out.hostFailuresTolerated = capacity.hostFailuresTolerated;
  }
  return out;
}

function unprotectedList(r: PolicyResolution | undefined): InstanceHAPolicyUnprotectedInstance[] {
  if (!r) return [];
  return [...r.unprotected]
    .sort((a, b) => REASON_ORDER.indexOf(a.reason) - REASON_ORDER.indexOf(b.reason) || a.instance.name.localeCompare(b.instance.name) || a.instance.id.localeCompare(b.instance.id))
    .slice(0, MAX_UNPROTECTED)
    .map((u) => ({ instanceId: u.instance.id.slice(0, 36), ...(u.instance.name ? { name: u.instance.name.slice(0, 255) } : {}), reason: u.reason, message: u.message.slice(0, 1024) }));
}

function capacityItem(s: ScopeCapacity): InstanceHAPolicyFailoverCapacityItem {
  const item: InstanceHAPolicyFailoverCapacityItem = { scope: s.scope, name: s.name.slice(0, 255), hosts: s.hosts, protectedInstances: s.protectedInstances };
  if (s.hostFailuresTolerated !== undefined) item.hostFailuresTolerated = s.hostFailuresTolerated;
  if (s.limitingResource !== undefined) item.limitingResource = s.limitingResource;
  return item;
}

function readyCondition(r: PolicyResolution): ConditionInput {
  const unprotected = r.unprotected.length > 0 ? `; ${r.unprotected.length} selected instance(s) not protected (see status.unprotected)` : "";
  if (r.mode === "Disabled") return { type: CONDITION_READY, status: "False", reason: REASON_DISABLED, message: `mode is Disabled: ${r.matched} instance(s) match the selector, none is protected` };
  if (r.mode === "NotifyOnly") return { type: CONDITION_READY, status: "True", reason: REASON_NOTIFY_ONLY, message: `watching ${r.protected.length} instance(s): failures are reported, nothing is recovered${unprotected}` };
  return { type: CONDITION_READY, status: "True", reason: REASON_PROTECTING, message: `protecting ${r.protected.length} instance(s)${tierSummary(r)}${unprotected}` };
}

function tierSummary(r: PolicyResolution): string {
  const counts = new Map<string, { priority: number; n: number }>();
  let last = 0;
  for (const p of r.protected) {
    if (!p.tier) {
      last++;
      continue;
    }
    const c = counts.get(p.tier.name) ?? { priority: p.tier.priority, n: 0 };
    c.n++;
    counts.set(p.tier.name, c);
  }
  if (counts.size === 0) return "";
  const parts = [...counts.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([name, c]) => `${name} ${c.n}`);
  if (last > 0) parts.push(`no tier ${last}`);
  return ` (by tier: ${parts.join(", ")})`;
}

function overlapCondition(r: PolicyResolution): ConditionInput {
  if (r.overlaps.length === 0) return { type: CONDITION_OVERLAPPING, status: "False", reason: REASON_NO_OVERLAP, message: "no instance is selected by another policy" };
  const parts = r.overlaps.map((o) => `${o.policy} (${o.shared} shared: ${o.won} protected here, ${o.lost} there)`);
  return { type: CONDITION_OVERLAPPING, status: "True", reason: REASON_SHARED_INSTANCES, message: `instances also selected by ${parts.join(", ")}; the higher priority, then the more specific selector, then the first namespace/name wins` };
}

function capacityCondition(r: PolicyResolution, capacity: FailoverCapacityReport | undefined): ConditionInput {
  const type = CONDITION_FAILOVER_CAPACITY;
  if (r.protected.length === 0 || !capacity || capacity.scopes.length === 0) {
    return { type, status: "True", reason: REASON_NOTHING_TO_PROTECT, message: "no protected instance runs on a known compute host" };
  }
  const unknown = capacity.scopes.filter((s) => s.unknown !== undefined);
  if (unknown.length > 0) {
    return { type, status: "Unknown", reason: REASON_CAPACITY_UNKNOWN, message: unknown.map((s) => `${s.scope} ${s.name}: ${s.unknown ?? ""}`).join("; ") };
  }
  const short = capacity.scopes.filter((s) => (s.hostFailuresTolerated ?? 0) < REQUIRED_HOST_FAILURES);
  if (short.length === 0) {
    return { type, status: "True", reason: REASON_SUFFICIENT, message: `every scope absorbs at least ${capacity.hostFailuresTolerated ?? 0} host failure(s) (required ${REQUIRED_HOST_FAILURES})` };
  }
  const parts = short.map((s) => {
    const f = s.failedAt;
    const what = f ? `losing ${f.hosts.join(", ")} leaves ${f.unplaced} protected instance(s) without room (first: ${f.instance ?? "?"})` : "no room";
    return `${s.scope} ${s.name}: ${what}, limited by ${s.limitingResource ?? "?"}`;
  });
  return { type, status: "False", reason: REASON_INSUFFICIENT, message: parts.join("; ") };
}

function usesProjectNames(policy: InstanceHAPolicy): boolean {
  // exclude.projects takes ids or names alike, so only selector.projects[].name is known to need names.
  return (policy.spec.selector.projects ?? []).some((p) => p.name !== undefined);
}
