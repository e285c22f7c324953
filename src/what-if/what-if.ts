import type { ComputeHost, HostFencing, IncidentInstance } from "../api/v1alpha1/index.js";
import { demandOf, type Resources } from "../controllers/instance-ha-policy/failover-capacity.js";
import type { Instance } from "../controllers/instance-ha-policy/instance-inventory.js";
import { reservedHostStates, toWorkflowHost } from "../controllers/incident/read-incident-world.js";
import type { ComputeService, Hypervisor, ServerGroup } from "../openstack/nova-types.js";
import type { GateResult } from "../recovery/model.js";
import type { InstanceNovaState, ProtectedInstance, ReservedHostState, WorkflowSettings } from "../recovery/workflow/workflow-model.js";
import { fencingReadiness, type FencingReadiness } from "./fencing-readiness.js";
import { hypotheticalDetection, type DetectionWorld, type HostVerdict } from "./hypothetical-detection.js";
import { freeResources, type PlacementHost } from "./placement.js";
import { simulateRecovery, type SimulatedEvacuation, type SimulatedFencing, type SimulatedInstance } from "./simulate-recovery.js";

/** Live state of one cloud, as read by the CLI (GET calls only). */
export interface WhatIfWorld extends DetectionWorld {
  cloud: string;
  services: ComputeService[];
  hostFencings: HostFencing[];
  /** Every server of the cloud, in the protection rules' terms. */
  instances: Instance[];
  serverGroups: ServerGroup[];
  /** Hypervisors with capacity figures (below microversion 2.88), for placement. */
  hypervisors: Hypervisor[];
  allocationRatios: Resources;
  /** The protected instances of each failing host and the settings in force, as the incident executor resolves them (PolicyProtectionSource). */
  protection: ReadonlyMap<string, { instances: ProtectedInstance[]; settings: WorkflowSettings }>;
}

export interface WhatIfHost {
  host: string;
  serviceHost: string;
  verdict: HostVerdict;
  fencing: FencingReadiness;
  protectedInstances: number;
  settings?: WorkflowSettings;
  evacuations: SimulatedEvacuation[];
  /** Per protected instance, how the incident would end for it (planner order). */
  outcomes: Pick<IncidentInstance, "name" | "id" | "policy" | "tier" | "state" | "message" | "targetHost" | "method">[];
  /** Why nothing would be evacuated, if so. */
  blocked?: string;
  log: string[];
}

export interface WhatIfReport {
  cloud: string;
  hosts: WhatIfHost[];
  /** The gates that would be closed in that detection pass. */
  closedGates: GateResult[];
  assumptions: string[];
}

export const WHAT_IF_ASSUMPTIONS = [
  "the hosts fail together and stay down; their peers and Nova agree",
  "the Kubernetes API is reachable and the leader's startup grace is over",
  "fencing succeeds through the first level whose devices were reachable at their last probe",
  "placement follows Nova's default filters and RAM weigher; availability-zone pinning, soft group policies and custom filters are not modelled",
  "evacuations of several hosts run one host after the other (capacity is shared)",
];

/**
 * Simulates the failure of `failing` (ComputeHost names) against live state, touching
 * nothing; pure. The host monitor's detection pass with its safety gates decides whether an
 * Incident would open (hypotheticalDetection); for each host that opens, the incident
 * planner runs against a simulated Nova (simulateRecovery) with the protected instances the
 * executor would resolve, placing evacuations with a scheduler-equivalent model.
 */
export function whatIf(world: WhatIfWorld, failing: readonly string[]): WhatIfReport {
  const detection = hypotheticalDetection(world, failing);
  const byName = new Map(world.hosts.map((h) => [h.metadata?.name ?? "", h]));
  const failedServices = new Set(failing.map((n) => byName.get(n)?.spec.serviceHost ?? n));
  const placement = placementHosts(world, failedServices);
  const serverHosts = new Map(world.instances.flatMap((i) => (i.host ? [[i.id, i.host] as const] : [])));
  const hosts = failing.map((name): WhatIfHost => {
    const host = byName.get(name);
    if (!host) throw new Error(`no ComputeHost ${name}`);
    const verdict = detection.verdicts.get(name) ?? { kind: "notFailed", state: "Unknown" };
    const fencing = fencingReadiness(host, world.hostFencings);
    const protection = world.protection.get(name) ?? { instances: [], settings: undefined };
    const base: WhatIfHost = { host: name, serviceHost: host.spec.serviceHost, verdict, fencing, protectedInstances: protection.instances.length, evacuations: [], outcomes: [], log: [], ...(protection.settings ? { settings: protection.settings } : {}) };
    if (verdict.kind !== "open") return { ...base, blocked: blockedBy(verdict) };
    if (!protection.settings || protection.instances.length === 0) return { ...base, blocked: "no protected instance on the host" };
    const sim = simulateRecovery({
      incidentName: `${name}-${verdict.epoch}`,
      nowMs: world.nowMs,
      host: toWorkflowHost(host.spec.serviceHost, world.services.find((s) => s.host === host.spec.serviceHost)),
      protectedInstances: protection.instances,
      settings: protection.settings,
      instances: simulatedInstances(protection.instances, world),
      serverHosts,
      reservedHosts: reservedHosts(protection.instances, world, failedServices),
      fencing: simulatedFencing(fencing),
      placement,
      failedHosts: failedServices,
    });
    const outcomes = (sim.status.instances ?? []).map((i) => ({ id: i.id, state: i.state, ...pick(i) }));
    return { ...base, evacuations: sim.evacuations, outcomes, log: sim.log, ...(sim.blocked ? { blocked: sim.blocked } : {}) };
  });
  return { cloud: world.cloud, hosts, closedGates: detection.gates.filter((g) => g.blocked), assumptions: WHAT_IF_ASSUMPTIONS };
}

function pick(i: IncidentInstance): Omit<WhatIfHost["outcomes"][number], "id" | "state"> {
  return {
    ...(i.name !== undefined ? { name: i.name } : {}),
    ...(i.policy !== undefined ? { policy: i.policy } : {}),
    ...(i.tier !== undefined ? { tier: i.tier } : {}),
    ...(i.message !== undefined ? { message: i.message } : {}),
    ...(i.targetHost !== undefined ? { targetHost: i.targetHost } : {}),
    ...(i.method !== undefined ? { method: i.method } : {}),
  };
}

function blockedBy(v: HostVerdict): string {
  switch (v.kind) {
    case "suppressed":
      return `safety gate ${v.gate.gate} would hold the recovery back (${v.gate.reason}): ${v.gate.message}`;
    case "skipped":
      return `the host is in maintenance: its failure gets no Incident (${v.gate.message})`;
    case "inProgress":
      return `incident ${v.incident} of the host is already ${v.phase}: no new recovery`;
    case "notFailed":
      return `the host would not be judged Failed (${v.state})`;
    case "open":
      return "";
  }
}

/** Fencing as the simulation assumes it: NotReady devices fail, Unknown ones are assumed to work. */
function simulatedFencing(r: FencingReadiness): SimulatedFencing {
  switch (r.state) {
    case "Ready":
    case "Unknown":
      return { kind: "PowerOff", hostFencing: r.hostFencing ?? "", ...(r.readyLevel ? { level: r.readyLevel } : {}) };
    case "NotConfigured":
      return { kind: "NotConfigured", message: r.message };
    case "NotReady":
    case "Conflict":
      return { kind: "Failed", message: r.message };
  }
}

function placementHosts(world: WhatIfWorld, failed: ReadonlySet<string>): PlacementHost[] {
  const hv = new Map(world.hypervisors.flatMap((h) => (h.serviceHost ? [[h.serviceHost, h] as const] : [])));
  return [...world.services]
    .sort((a, b) => a.host.localeCompare(b.host))
    .map((s) => ({
      serviceHost: s.host,
      schedulable: !failed.has(s.host) && s.status === "enabled" && s.state === "up" && !s.forcedDown,
      free: freeResources(hv.get(s.host) ?? {}, world.allocationRatios),
    }));
}

function simulatedInstances(list: readonly ProtectedInstance[], world: WhatIfWorld): Map<string, SimulatedInstance> {
  const byId = new Map(world.instances.map((i) => [i.id, i]));
  const out = new Map<string, SimulatedInstance>();
  for (const p of list) {
    const i = byId.get(p.id);
    if (!i) continue;
    const nova: InstanceNovaState = { id: i.id, host: i.host ?? null, status: i.status, taskState: null, locked: false, lockedReason: null };
    const groups = world.serverGroups
      .filter((g) => g.members.includes(i.id) && (g.policy === "affinity" || g.policy === "anti-affinity"))
      .map((g) => ({ name: g.name, policy: g.policy as "affinity" | "anti-affinity", maxServerPerHost: Number(g.rules.max_server_per_host ?? 1) || 1, members: g.members }));
    const need = demandOf(i);
    out.set(p.id, { nova, groups, ...(need ? { need } : {}) });
  }
  return out;
}

/** The reserved hosts the policies name, as the incident executor reads them (a host that fails in the scenario is not up). */
function reservedHosts(list: readonly ProtectedInstance[], world: WhatIfWorld, failed: ReadonlySet<string>): ReservedHostState[] {
  const names = list.filter((p) => p.methods.includes("ReservedHost")).flatMap((p) => p.reservedHosts);
  const hosts = new Map<string, ComputeHost>(world.hosts.map((h) => [h.metadata?.name ?? "", h]));
  return reservedHostStates(names, world.services, (name) => hosts.get(name)).map((r) => ({ ...r, up: r.up && !failed.has(r.serviceHost ?? "") }));
}
