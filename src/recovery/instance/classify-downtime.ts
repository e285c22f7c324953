import type { NovaActionRecord, RecoveryCandidate } from "./instance-recovery-model.js";
import { isOwnAction } from "./restart-budget.js";

/** Actions that change whether the guest runs (Nova's instance_actions names). */
const POWER_ACTIONS: ReadonlySet<string> = new Set(["create", "stop", "start", "reboot", "shelve", "shelveOffload", "unshelve", "suspend", "resume", "pause", "unpause", "rescue", "unrescue", "delete", "restore"]);

/** A user asking for the guest not to run. */
const POWER_DOWN_ACTIONS: ReadonlySet<string> = new Set(["stop", "shelve", "shelveOffload", "suspend", "pause", "rescue", "delete"]);

/** vmkeeper's own restart attempts. */
const RESTART_ACTIONS: ReadonlySet<string> = new Set(["start", "reboot"]);

/**
 * Why an instance is down, read from its instance actions (newest first):
 * - UserRequest: a user stopped (shelved, suspended, paused, rescued, deleted) it, or a
 *   user's own start/reboot did not bring it up — theirs to handle.
 * - OperationFailed: it is in ERROR after an operation failed (build, resize, migration,
 *   rebuild, evacuation): a hard reboot would boot whatever half-state Nova holds; a person
 *   decides.
 * - Unrequested: Nova's power-state sync stopped it (a `stop` recorded without a user: the
 *   guest powered off by itself — crash or in-guest shutdown, Nova cannot tell which), or
 *   nothing explains the state. `attempts` are vmkeeper's restarts since, newest first;
 *   `heldMs` is how long vmkeeper's previous restart held before this stop.
 */
export type Downtime =
  | { kind: "UserRequest"; by: NovaActionRecord }
  | { kind: "OperationFailed"; by: NovaActionRecord }
  | { kind: "Unrequested"; origin?: NovaActionRecord; attempts: NovaActionRecord[]; heldMs?: number };

/**
 * Actions that leave the power state as it was (evacuate, migrate, resize, rebuild, lock,
 * attach, ...) are looked through: an instance stopped by its owner and then evacuated is
 * still stopped by its owner. Pure.
 */
export function classifyDowntime(c: RecoveryCandidate, selfUserId: string | undefined): Downtime {
  const actions = c.actions ?? [];
  const attempts: NovaActionRecord[] = [];
  for (const [i, a] of actions.entries()) {
    if (RESTART_ACTIONS.has(a.action) && isOwnAction(a, selfUserId)) {
      attempts.push(a);
      continue;
    }
    if (POWER_ACTIONS.has(a.action)) return fromOrigin(a, attempts, actions.slice(i + 1), selfUserId);
    if (c.status === "ERROR" && a.failed) return { kind: "OperationFailed", by: a };
  }
  return { kind: "Unrequested", attempts };
}

function fromOrigin(origin: NovaActionRecord, attempts: NovaActionRecord[], older: NovaActionRecord[], selfUserId: string | undefined): Downtime {
  if (origin.action === "stop" && origin.userId === null) {
    const previous = older.find((a) => RESTART_ACTIONS.has(a.action) && isOwnAction(a, selfUserId) && !a.failed);
    return previous ? { kind: "Unrequested", origin, attempts, heldMs: origin.atMs - previous.atMs } : { kind: "Unrequested", origin, attempts };
  }
  if (POWER_DOWN_ACTIONS.has(origin.action)) return { kind: "UserRequest", by: origin };
  if (origin.failed) return origin.action === "create" ? { kind: "OperationFailed", by: origin } : { kind: "UserRequest", by: origin };
  // Powered up without a stop recorded since: nothing explains the state.
  return { kind: "Unrequested", attempts };
}
