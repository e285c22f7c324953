import type { NovaActionRecord } from "./instance-recovery-model.js";

/** The actions by which vmkeeper recovers an instance, on any layer (restart in place, evacuation). */
export const RECOVERY_ACTIONS: ReadonlySet<string> = new Set(["start", "reboot", "evacuate"]);

/**
 * An action made with vmkeeper's own credentials. With the user unknown every action made by
 * a user counts as vmkeeper's: the budget then runs out sooner, never later.
 */
export function isOwnAction(a: NovaActionRecord, selfUserId: string | undefined): boolean {
  if (a.userId === null) return false;
  return selfUserId === undefined || a.userId === selfUserId;
}

export interface BudgetUse {
  /** vmkeeper's recoveries of the instance within the window. */
  used: number;
  /** When the oldest of them leaves the window (undefined when none is counted). */
  freesAtMs?: number;
  /** Request id of the newest one. */
  newestRequestId?: string;
}

/**
 * The per-instance restart budget, counted from Nova's own record: every start, reboot or
 * evacuate that vmkeeper's user asked for within the last `windowMs`. Nova keeps instance
 * actions with the instance, so the count survives operator restarts and leader changes,
 * and an action Nova accepted just before the operator died is counted too.
 */
export function budgetUse(actions: readonly NovaActionRecord[], selfUserId: string | undefined, nowMs: number, windowMs: number): BudgetUse {
  const counted = actions.filter((a) => RECOVERY_ACTIONS.has(a.action) && isOwnAction(a, selfUserId) && a.atMs > nowMs - windowMs && a.atMs <= nowMs);
  if (counted.length === 0) return { used: 0 };
  const newest = counted.reduce((a, b) => (b.atMs > a.atMs ? b : a));
  return { used: counted.length, freesAtMs: Math.min(...counted.map((a) => a.atMs)) + windowMs, newestRequestId: newest.requestId };
}

/** vmkeeper's newest start or hard reboot of the instance, if any. */
export function lastOwnRestart(actions: readonly NovaActionRecord[], selfUserId: string | undefined): NovaActionRecord | undefined {
  return actions.find((a) => (a.action === "start" || a.action === "reboot") && isOwnAction(a, selfUserId));
}
