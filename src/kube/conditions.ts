import { rfc3339 } from "../util/time-format.js";

export { rfc3339 };
/** metav1.Condition as stored in our status objects. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type ConditionInput = Omit<Condition, "lastTransitionTime" | "observedGeneration">;

/**
 * Returns a new condition list with `input` set. `lastTransitionTime` moves only when the
 * status changes (so "how long has this been False" stays true); reason, message and
 * observedGeneration are always refreshed. The list stays sorted by type so that equal
 * states serialise equally and status writes can be skipped when nothing changed.
 */
export function setCondition(list: readonly Condition[] | undefined, input: ConditionInput, now: Date, observedGeneration?: number): Condition[] {
  const current = list ?? [];
  const existing = current.find((c) => c.type === input.type);
  const next: Condition = {
    ...input,
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : rfc3339(now),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  return [...current.filter((c) => c.type !== input.type), next].sort((a, b) => a.type.localeCompare(b.type));
}

export function removeCondition(list: readonly Condition[] | undefined, type: string): Condition[] {
  return (list ?? []).filter((c) => c.type !== type);
}

export function findCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return (list ?? []).find((c) => c.type === type);
}

export function isConditionTrue(list: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(list, type)?.status === "True";
}
