import type { Incident, ServerGroupMessaging, ServerGroupMessagingMember, ServerGroupMessagingStatus } from "../../api/v1alpha1/index.js";
import { setCondition } from "../../kube/conditions.js";
import type { MemberState } from "../../server-group-messaging/link-messages.js";
import { deriveMemberState, type NovaMember } from "../../server-group-messaging/member-state.js";
import type { GroupCounters, GroupSettings, MemberChange } from "../../server-group-messaging/sgm-router.js";

export const DEFAULT_NOTIFY_STATES: readonly MemberState[] = ["Active", "Stopped", "Error", "Recovering", "Recovered", "Deleted"];
/** Members listed in status at most (the CRD's maxItems). */
const MAX_MEMBERS = 256;

export function groupSettings(spec: ServerGroupMessaging["spec"]): GroupSettings {
  return {
    broadcast: spec.broadcast?.enabled ?? true,
    notifications: spec.notifications?.enabled ?? true,
    notifyStates: spec.notifications?.states ?? DEFAULT_NOTIFY_STATES,
    statusQuery: spec.statusQuery?.enabled ?? true,
    maxPayloadBytes: spec.maxPayloadBytes ?? 3050,
    messagesPerSecond: spec.rateLimit?.messagesPerSecond ?? 10,
    burst: spec.rateLimit?.burst ?? 20,
  };
}

export interface ObservedGroup {
  group: { id: string; name: string; policy: string };
  members: NovaMember[];
}

export interface StatusPlan {
  status: ServerGroupMessagingStatus;
  changes: MemberChange[];
}

/**
 * The next status (pure): each member's state from Nova and the Incidents, whether its
 * guest agent is connected, and the changes since the last written status, which become
 * notifications once that status is stored. A member seen for the first time is not a change.
 */
export function planSgmStatus(obj: ServerGroupMessaging, observed: ObservedGroup, incidents: readonly Incident[], connected: (id: string) => boolean, counters: GroupCounters, now: Date): StatusPlan {
  const previous = new Map((obj.status?.members ?? []).map((m) => [m.instanceId, m]));
  const changes: MemberChange[] = [];
  const members: ServerGroupMessagingMember[] = observed.members.slice(0, MAX_MEMBERS).map((m) => {
    const before = previous.get(m.instanceId);
    const d = deriveMemberState(m, before?.memberState, incidents);
    const name = m.server?.name ?? before?.name ?? "";
    if (before?.memberState && before.memberState !== d.state) changes.push({ instanceId: m.instanceId, name, state: d.state, previousState: before.memberState, event: d.event, reason: d.reason });
    const agentConnected = connected(m.instanceId);
    const lastSeen = agentConnected !== (before?.agentConnected ?? false) ? now.toISOString() : before?.lastSeen;
    return {
      instanceId: m.instanceId,
      ...(name ? { name } : {}),
      ...(m.server?.host ? { host: m.server.host } : {}),
      novaState: m.server ? (m.server.vmState ?? m.server.status.toLowerCase()).slice(0, 32) : "deleted",
      memberState: d.state,
      agentConnected,
      ...(lastSeen ? { lastSeen } : {}),
    };
  });
  const connectedCount = members.filter((m) => m.agentConnected).length;
  const generation = obj.metadata?.generation;
  let conditions = setCondition(obj.status?.conditions, { type: "GroupResolved", status: "True", reason: "Resolved", message: `server group ${observed.group.name} (${observed.group.id}), policy ${observed.group.policy || "none"}, ${members.length} members` }, now, generation);
  conditions = setCondition(conditions, { type: "Ready", status: "True", reason: "Routing", message: `messaging between ${members.length} members; ${connectedCount} guest agents connected` }, now, generation);
  return {
    status: {
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions,
      serverGroup: { id: observed.group.id, name: observed.group.name.slice(0, 255), policy: observed.group.policy.slice(0, 32) },
      memberCount: members.length,
      connectedCount,
      members,
      counters: { ...counters },
    },
    changes,
  };
}

/** The status when the group cannot be resolved or the cloud is not ready: members are kept as last seen. */
export function unresolvedStatus(obj: ServerGroupMessaging, reason: string, message: string, now: Date): ServerGroupMessagingStatus {
  const generation = obj.metadata?.generation;
  let conditions = setCondition(obj.status?.conditions, { type: "GroupResolved", status: "False", reason, message }, now, generation);
  conditions = setCondition(conditions, { type: "Ready", status: "False", reason, message }, now, generation);
  return { ...(obj.status ?? {}), conditions };
}
