import type { ComputeHost, Incident, InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import type { CallOptions, NovaClient } from "../../openstack/nova-client.js";
import type { Server } from "../../openstack/nova-types.js";
import { gateCandidate } from "../../recovery/instance/instance-gates.js";
import type { HostFacts, InstanceRecoverySettings, RecoveryCandidate } from "../../recovery/instance/instance-recovery-model.js";
import { isOpen } from "../host-monitor/observe-hosts.js";
import { toInstanceInventory } from "../instance-ha-policy/instance-inventory.js";
import { resolveProtection, tierOf } from "../instance-ha-policy/resolve-protection.js";
import type { InstanceActionCache } from "./instance-action-cache.js";

/** The Nova calls VM-level recovery makes (NovaClient provides them). */
export type InstanceRecoveryNova = Pick<NovaClient, "listServers" | "listServerGroups" | "listFlavors" | "listInstanceActions" | "startServer" | "hardRebootServer">;

export interface RecoveryWorld {
  candidates: RecoveryCandidate[];
  hosts: HostFacts[];
  /** Instance histories read from Nova this pass (cache misses). */
  historiesRead: number;
}

export interface ReadRecoveryWorldInput {
  nova: InstanceRecoveryNova;
  policies: readonly InstanceHAPolicy[];
  settings: readonly InstanceRecoverySettings[];
  computeHosts: readonly ComputeHost[];
  incidents: readonly Incident[];
  cache: InstanceActionCache;
  /** Monotonic ms, for the cache. */
  nowMs: number;
  /** Histories read from Nova per pass at most; the others wait for the next pass. */
  maxHistoryReads: number;
  opts: CallOptions;
  /** The host agent's word on why a guest stopped (sets RecoveryCandidate.stopCause). */
  stopCause?: (instanceId: string) => "Crash" | "GuestShutdown" | undefined;
}

/**
 * What the planner needs, read with few calls: the servers that are SHUTOFF or in ERROR
 * (two filtered lists, whatever the cloud's size), and only when there are some the server
 * groups and flavors (for the selectors), then the instance actions of the protected ones
 * that pass the gates — from the cache while the server is unchanged.
 */
export async function readRecoveryWorld(o: ReadRecoveryWorldInput): Promise<RecoveryWorld> {
  const hosts = hostFacts(o.computeHosts, o.incidents);
  const down = await listDownServers(o.nova, o.opts);
  if (down.length === 0) {
    o.cache.retain(new Set());
    return { candidates: [], hosts, historiesRead: 0 };
  }
  const [groups, flavors] = await Promise.all([o.nova.listServerGroups({ allProjects: true }, o.opts), o.nova.listFlavors({ includePrivate: true }, o.opts)]);
  const protectedDown = protectedCandidates(down, toInstanceInventory(down, groups, flavors, undefined).instances, o.policies, o.computeHosts);
  o.cache.retain(new Set(protectedDown.map((p) => p.candidate.id)));
  for (const { candidate } of protectedDown) {
    const cause = o.stopCause?.(candidate.id);
    if (cause) candidate.stopCause = cause;
  }
  const settings = new Map(o.settings.map((s) => [s.policy, s]));
  const hostBy = new Map(hosts.map((h) => [h.serviceHost, h]));
  let reads = 0;
  for (const { candidate, server } of protectedDown) {
    if (gateCandidate(candidate, settings.get(candidate.policy), candidate.host !== undefined ? hostBy.get(candidate.host) : undefined)) continue;
    const cached = o.cache.has(server, o.nowMs);
    if (!cached && reads >= o.maxHistoryReads) continue;
    if (!cached) reads++;
    candidate.actions = await o.cache.read(o.nova, server, o.nowMs, o.opts);
  }
  return { candidates: protectedDown.map((p) => p.candidate), hosts, historiesRead: reads };
}

async function listDownServers(nova: InstanceRecoveryNova, opts: CallOptions): Promise<Server[]> {
  const [shutoff, error] = await Promise.all([nova.listServers({ allProjects: true, status: "SHUTOFF" }, opts), nova.listServers({ allProjects: true, status: "ERROR" }, opts)]);
  const byId = new Map<string, Server>();
  for (const s of [...shutoff, ...error]) if (s.status === "SHUTOFF" || s.status === "ERROR") byId.set(s.id, s);
  return [...byId.values()];
}

/**
 * The down servers that a policy claims and would protect, with the same rules as the
 * InstanceHAPolicy controller (selectors, exclusions, overlap, tiers). A root disk local
 * to the host does not matter here: a restart in place keeps it.
 */
function protectedCandidates(servers: Server[], instances: ReturnType<typeof toInstanceInventory>["instances"], policies: readonly InstanceHAPolicy[], computeHosts: readonly ComputeHost[]): { candidate: RecoveryCandidate; server: Server }[] {
  const resolution = resolveProtection({ policies, instances, hosts: computeHosts });
  const byKey = new Map(policies.map((p) => [`${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`, p]));
  const serverById = new Map(servers.map((s) => [s.id, s]));
  const out: { candidate: RecoveryCandidate; server: Server }[] = [];
  for (const r of resolution.policies) {
    const policy = byKey.get(r.key);
    if (!policy || r.mode === "Disabled") continue;
    const claimed = [...r.protected.map((p) => ({ instance: p.instance, priority: p.tier?.priority ?? 0 })), ...r.unprotected.filter((u) => u.reason === "LocalDiskRefused").map((u) => ({ instance: u.instance, priority: tierOf(policy, u.instance)?.priority ?? 0 }))];
    for (const { instance, priority } of claimed) {
      const server = serverById.get(instance.id);
      if (server) out.push({ candidate: toCandidate(server, r.key, priority), server });
    }
  }
  return out;
}

function toCandidate(s: Server, policy: string, tierPriority: number): RecoveryCandidate {
  const c: RecoveryCandidate = { id: s.id, name: s.name, policy, tierPriority, status: s.status === "ERROR" ? "ERROR" : "SHUTOFF", taskState: s.taskState, locked: s.locked ?? false };
  if (s.host) c.host = s.host;
  if (s.hostStatus !== undefined) c.hostStatus = s.hostStatus;
  if (s.lockedReason) c.lockedReason = s.lockedReason;
  return c;
}

/** Per compute host: its health and maintenance (ComputeHost) and an Incident still open on it. */
export function hostFacts(computeHosts: readonly ComputeHost[], incidents: readonly Incident[]): HostFacts[] {
  const openOn = new Map<string, string>();
  for (const i of incidents) {
    if (!isOpen(i)) continue;
    const host = i.spec.serviceHost ?? computeHosts.find((h) => h.metadata?.name === i.spec.hostRef.name)?.spec.serviceHost;
    if (host) openOn.set(host, i.metadata?.name ?? "");
  }
  return computeHosts.map((h) => {
    const f: HostFacts = { serviceHost: h.spec.serviceHost, maintenance: h.spec.maintenance?.enabled ?? false };
    if (h.status?.health?.state) f.health = h.status.health.state;
    const inc = openOn.get(h.spec.serviceHost);
    if (inc !== undefined) f.openIncident = inc;
    return f;
  });
}
