import type { Incident, ServerGroupMessaging } from "../../api/v1alpha1/index.js";
import { errorMessage } from "../../kube/api-error.js";
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { ResourceClient } from "../../kube/resource-client.js";
import type { NovaClient } from "../../openstack/nova-client.js";
import { NovaNotFoundError } from "../../openstack/nova-errors.js";
import type { ServerGroup } from "../../openstack/nova-types.js";
import type { NovaMember } from "../../server-group-messaging/member-state.js";
import type { SgmRouter } from "../../server-group-messaging/sgm-router.js";
import type { Clock } from "../../util/clock.js";
import { groupSettings, planSgmStatus, unresolvedStatus, type ObservedGroup } from "./plan-sgm-status.js";

export interface SgmReconcilerDeps {
  client: ResourceClient<ServerGroupMessaging>;
  get: (key: string) => ServerGroupMessaging | undefined;
  listIncidents: (namespace: string) => Incident[];
  novaFor: (namespace: string, cloud: string) => NovaClient | undefined;
  connected: (instanceId: string) => boolean;
  router: SgmRouter;
  events: EventRecorder;
  clock: Clock;
  /** How often Nova is read again for membership and member states. */
  refreshMs: number;
}

class Unresolved extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One ServerGroupMessaging: resolves its Nova server group, reads every member's state from
 * Nova and the Incidents, hands the group to the router, writes status (members, Nova state,
 * guest agent connected, counters, conditions) and then notifies the other members of each
 * member whose state changed, with an Event per change. Notifying after the status write means
 * a change is announced at most once, even across a leader failover.
 */
export class ServerGroupMessagingReconciler implements Reconciler {
  constructor(private readonly d: SgmReconcilerDeps) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> {
    const obj = this.d.get(req.key);
    if (!obj?.metadata?.namespace || obj.metadata.deletionTimestamp) {
      this.d.router.removeGroup(req.key);
      return {};
    }
    const ns = obj.metadata.namespace;
    const now = this.d.clock.now();
    let observed: ObservedGroup;
    try {
      observed = await this.observe(obj, ns, ctx.signal);
    } catch (err: unknown) {
      if (!(err instanceof Unresolved)) throw err;
      this.d.router.removeGroup(req.key);
      await this.writeStatus(obj, unresolvedStatus(obj, err.reason, err.message, now));
      return { requeueAfterMs: Math.max(this.d.refreshMs, 10_000) };
    }
    const incidents = this.d.listIncidents(ns);
    const plan = planSgmStatus(obj, observed, incidents, this.d.connected, this.d.router.counters(req.key), now);
    this.d.router.setGroup(req.key, {
      group: observed.group,
      settings: groupSettings(obj.spec),
      members: (plan.status.members ?? []).map((m) => ({ instanceId: m.instanceId, name: m.name ?? "", host: m.host, state: m.memberState ?? "Unknown" })),
    });
    await this.writeStatus(obj, plan.status);
    for (const change of plan.changes) {
      const told = this.d.router.notify(req.key, change);
      ctx.log.info({ instanceId: change.instanceId, from: change.previousState, to: change.state, event: change.event, told }, "server group member state changed");
      const type = change.state === "Error" || change.state === "Deleted" ? "Warning" : "Normal";
      await this.d.events.record(obj, type, "MemberStateChanged", "Notify", `${change.name || change.instanceId} (${change.instanceId}): ${change.previousState} -> ${change.state} (${change.event}): ${change.reason}; ${told} members notified`.slice(0, 1024));
    }
    return { requeueAfterMs: this.d.refreshMs };
  }

  private async writeStatus(obj: ServerGroupMessaging, status: ServerGroupMessaging["status"]): Promise<void> {
    if (jsonEqual(obj.status ?? {}, status ?? {})) return;
    await this.d.client.updateStatus({ ...obj, status: status ?? {} });
  }

  private async observe(obj: ServerGroupMessaging, ns: string, signal: AbortSignal): Promise<ObservedGroup> {
    const nova = this.d.novaFor(ns, obj.spec.cloudRef.name);
    if (!nova) throw new Unresolved("CloudNotReady", `OpenStackCloud ${obj.spec.cloudRef.name} has no working connection yet`);
    const group = await this.findGroup(nova, obj, signal);
    const members = await Promise.all(group.members.map((id) => this.member(nova, id, signal)));
    return { group: { id: group.id, name: group.name, policy: group.policy }, members };
  }

  private async findGroup(nova: NovaClient, obj: ServerGroupMessaging, signal: AbortSignal): Promise<ServerGroup> {
    const { id, name, projectId } = obj.spec.serverGroup;
    if (id) {
      try {
        return await nova.getServerGroup(id, { signal });
      } catch (err: unknown) {
        if (err instanceof NovaNotFoundError) throw new Unresolved("GroupNotFound", `Nova has no server group ${id}`);
        throw err;
      }
    }
    const all = (await nova.listServerGroups({ allProjects: true }, { signal })).filter((g) => g.name === name && (!projectId || g.projectId === projectId));
    if (all.length === 0) throw new Unresolved("GroupNotFound", `Nova has no server group named ${name ?? ""}${projectId ? ` in project ${projectId}` : ""}`);
    const [only, ...more] = all;
    if (!only || more.length > 0) throw new Unresolved("GroupAmbiguous", `${all.length} server groups are named ${name ?? ""}; give spec.serverGroup.id or projectId`);
    return only;
  }

  private async member(nova: NovaClient, id: string, signal: AbortSignal): Promise<NovaMember> {
    try {
      const s = await nova.getServer(id, { signal });
      return { instanceId: id, server: { name: s.name, vmState: s.vmState, status: s.status, host: s.host ?? undefined } };
    } catch (err: unknown) {
      if (err instanceof NovaNotFoundError) return { instanceId: id, server: undefined };
      throw new Error(`reading server ${id}: ${errorMessage(err)}`);
    }
  }
}
