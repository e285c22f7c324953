import type { CallOptions, NovaClient } from "../../openstack/nova-client.js";
import type { InstanceAction, Server } from "../../openstack/nova-types.js";
import type { NovaActionRecord } from "../../recovery/instance/instance-recovery-model.js";

export type InstanceActionsNova = Pick<NovaClient, "listInstanceActions">;

/** Re-read a history at least this often even when the server looks unchanged. */
const MAX_AGE_MS = 5 * 60_000;

/**
 * The instance actions of the instances that stay down, read again only when the server's
 * `updated` time moves (every action Nova records changes the server: a task_state, a lock)
 * or after MAX_AGE_MS. A VM its owner keeps stopped for a month costs one read, not one per
 * pass.
 */
export class InstanceActionCache {
  private readonly entries = new Map<string, { updated: string; readAtMs: number; actions: NovaActionRecord[] }>();

  /** Newest first. */
  async read(nova: InstanceActionsNova, server: Server, nowMs: number, opts: CallOptions): Promise<NovaActionRecord[]> {
    const hit = this.entries.get(server.id);
    if (hit && server.updated !== undefined && hit.updated === server.updated && nowMs - hit.readAtMs < MAX_AGE_MS) return hit.actions;
    const actions = (await nova.listInstanceActions(server.id, {}, opts)).map(toRecord).sort((a, b) => b.atMs - a.atMs);
    if (server.updated !== undefined) this.entries.set(server.id, { updated: server.updated, readAtMs: nowMs, actions });
    return actions;
  }

  /** Whether a read would be answered from the cache. */
  has(server: Server, nowMs: number): boolean {
    const hit = this.entries.get(server.id);
    return hit !== undefined && hit.updated === server.updated && nowMs - hit.readAtMs < MAX_AGE_MS;
  }

  /** Forgets the instances that are no longer down. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.entries.keys()) if (!ids.has(id)) this.entries.delete(id);
  }
}

/**
 * Nova's action in the planner's terms. `user_id` null is Nova itself; a missing one is
 * treated as an unknown user, so that a stop of unknown origin is never taken for Nova's
 * power-state sync (which would restart a VM someone stopped).
 */
export function toRecord(a: InstanceAction): NovaActionRecord {
  return { action: a.action, requestId: a.requestId, atMs: Date.parse(withZone(a.startTime)), userId: a.userId === undefined ? "(unknown)" : a.userId, failed: a.message === "Error" };
}

/** Nova's timestamps often lack a zone; they are UTC. */
function withZone(ts: string): string {
  return /[zZ]|[+-]\d\d:?\d\d$/.test(ts) ? ts : `${ts}Z`;
}
