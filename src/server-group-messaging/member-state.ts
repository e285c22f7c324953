import type { Incident, IncidentPhase } from "../api/v1alpha1/index.js";
import type { MemberState, NotificationEvent } from "./link-messages.js";

/** What Nova says about one member; `undefined` server: Nova answered 404. */
export interface NovaMember {
  instanceId: string;
  server: { name: string; vmState: string | undefined; status: string; host: string | undefined } | undefined;
}

export interface DerivedState {
  state: MemberState;
  event: NotificationEvent;
  reason: string;
}

/** Incident phases during which the failed host's instances are not recovered yet. */
const HOST_DOWN_PHASES: readonly IncidentPhase[] = ["Detected", "Confirmed", "Fencing", "FencingFailed", "Fenced", "Evacuating"];

function novaState(vmState: string | undefined, status: string): MemberState | undefined {
  const s = (vmState ?? status).toLowerCase();
  if (s === "active") return "Active";
  if (["stopped", "shutoff", "paused", "suspended", "shelved", "shelved_offloaded"].includes(s)) return "Stopped";
  if (s === "error") return "Error";
  if (s === "deleted" || s === "soft_deleted" || s === "soft-deleted") return "Deleted";
  return undefined;
}

function detectedMs(i: Incident): number {
  return Date.parse(i.spec.detectedAt) || 0;
}

/** The newest Incident that lists the instance, and the newest in a host-down phase for its host. */
function relevantIncidents(member: NovaMember, incidents: readonly Incident[]): { entryOf?: Incident; hostDown?: Incident } {
  let entryOf: Incident | undefined;
  let hostDown: Incident | undefined;
  const host = member.server?.host;
  for (const i of incidents) {
    if (i.status?.instances?.some((e) => e.id === member.instanceId) && (!entryOf || detectedMs(i) > detectedMs(entryOf))) entryOf = i;
    const phase = i.status?.phase;
    if (host && i.spec.serviceHost === host && phase && HOST_DOWN_PHASES.includes(phase) && (!hostDown || detectedMs(i) > detectedMs(hostDown))) hostDown = i;
  }
  return { ...(entryOf ? { entryOf } : {}), ...(hostDown ? { hostDown } : {}) };
}

/**
 * A member's state from Nova and vmkeeper's Incidents (pure). The recovery workflow's view
 * wins while it is at work: a member on a failed host is `Error` (HostFailed) until its
 * evacuation starts, then `Recovering`, then `Recovered` once the workflow verified it; the
 * state stays `Recovered` while Nova says active, until some other change. Otherwise Nova's
 * vm_state decides; a state Nova does not map (building, migrating) keeps the previous one.
 */
export function deriveMemberState(member: NovaMember, previous: MemberState | undefined, incidents: readonly Incident[]): DerivedState {
  if (!member.server) return { state: "Deleted", event: "Deleted", reason: "the server no longer exists in Nova" };
  const { entryOf, hostDown } = relevantIncidents(member, incidents);
  const entry = entryOf?.status?.instances?.find((e) => e.id === member.instanceId);
  const incidentName = entryOf?.metadata?.name ?? "";
  const nova = novaState(member.server.vmState, member.server.status);
  if (entry && entryOf) {
    const from = entryOf.spec.serviceHost ?? entryOf.spec.hostRef.name;
    switch (entry.state) {
      case "Locked":
      case "Evacuating":
      case "Verifying":
        return { state: "Recovering", event: "RecoveryStarted", reason: `recovery from failed host ${from} in progress (Incident ${incidentName})` };
      case "Pending":
        return { state: "Error", event: "HostFailed", reason: `host ${from} failed (Incident ${incidentName})` };
      case "Failed":
        if (previous === "Recovering" || previous === "Error" || nova !== "Active") return { state: "Error", event: "RecoveryFailed", reason: `recovery from host ${from} failed: ${entry.message ?? "see Incident " + incidentName}` };
        break;
      case "Recovered":
        if (nova === "Active" && (previous === "Recovering" || previous === "Error" || previous === "Recovered")) return { state: "Recovered", event: "RecoveryFinished", reason: `recovered from failed host ${from}${entry.targetHost ? " onto " + entry.targetHost : ""} and ACTIVE (Incident ${incidentName})` };
        break;
      default:
        break;
    }
  }
  if (hostDown) return { state: "Error", event: "HostFailed", reason: `host ${hostDown.spec.serviceHost ?? hostDown.spec.hostRef.name} failed (Incident ${hostDown.metadata?.name ?? ""})` };
  const state = nova ?? previous ?? "Unknown";
  return { state, event: state === "Deleted" ? "Deleted" : "StateChanged", reason: `Nova vm_state ${member.server.vmState ?? member.server.status.toLowerCase()}` };
}
