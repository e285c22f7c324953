import type { ComputeHost, InstanceHAPolicyFailoverCapacityItemLimitingResource, InstanceHAPolicyFailoverCapacityItemScope } from "../../api/v1alpha1/index.js";
import type { Instance } from "./instance-inventory.js";

export type CapacityScope = InstanceHAPolicyFailoverCapacityItemScope;
export type LimitingResource = InstanceHAPolicyFailoverCapacityItemLimitingResource;

/** vCPU, RAM (MiB) and local disk (GiB). */
export interface Resources {
  vcpu: number;
  memory: number;
  disk: number;
}

export interface FailoverCapacityOptions {
  /** Name of the Cloud scope (the OpenStackCloud). */
  cloudName: string;
  /**
   * Nova's allocation ratios, when known (Placement inventories). Default 1 for every
   * resource: without them free capacity is never overstated.
   */
  allocationRatios?: Partial<Resources>;
  /** ComputeHost names (or service hosts) kept disabled as spare capacity; counted as targets when `useReservedHosts`. */
  reservedHosts?: readonly string[];
  useReservedHosts?: boolean;
  /** Failures evaluated at most per scope (default 32); a scope that absorbs them all reports this number. */
  maxHostFailures?: number;
  /** Items in the report at most (default 128, the CRD's bound); the Cloud scope always comes first. */
  maxScopes?: number;
}

export interface ScopeCapacity {
  scope: CapacityScope;
  name: string;
  /** ComputeHosts in the scope. */
  hosts: number;
  /** Protected instances on hosts of the scope. */
  protectedInstances: number;
  /** Undefined when the capacity is unknown (see `unknown`). */
  hostFailuresTolerated?: number;
  limitingResource?: LimitingResource;
  /** Why the capacity is unknown; never guessed. */
  unknown?: string;
  /** The worst-case failure set that could not be absorbed, for messages. */
  failedAt?: { hosts: string[]; unplaced: number; instance?: string };
}

export interface FailoverCapacityReport {
  scopes: ScopeCapacity[];
  /** The smallest count over all scopes; undefined when some scope is unknown or nothing is protected. */
  hostFailuresTolerated?: number;
  /** Protected instances whose host is not a ComputeHost of the cloud (not counted). */
  unplacedInstances: number;
}

export interface Demand {
  id: string;
  name: string;
  need: Resources;
}

export interface HostModel {
  serviceHost: string;
  aggregates: string[];
  availabilityZone?: string;
  target: boolean;
  /** Free capacity per resource, undefined where the host reports none. */
  free: Partial<Resources>;
  demands: Demand[];
  load: Resources;
}

const RESOURCES: readonly (keyof Resources)[] = ["memory", "vcpu", "disk"];
const LIMIT_NAME: Record<keyof Resources, LimitingResource> = { memory: "Memory", vcpu: "VCPU", disk: "Disk" };

/**
 * How many host failures the free capacity can absorb for a policy's protected instances,
 * per scope: the whole cloud, each aggregate and each availability zone that holds
 * protected instances (in a scope, failed hosts and targets both belong to it).
 *
 * For k = 1, 2, ... the k hosts of the scope carrying the most protected demand (by RAM,
 * then vCPU, then disk) fail — a heuristic worst case, not an exhaustive search — and their
 * protected instances are packed first-fit decreasing by RAM (then vCPU, disk, id) onto the
 * remaining target hosts in name order. Targets are hosts that are up and enabled in Nova,
 * not forced down, not in maintenance and not Suspect/Failed (reserved hosts count when
 * the policy recovers onto them). Free = total × allocation ratio − used, from the
 * ComputeHost's `status.capacity` (hypervisor figures). The count is the largest k before
 * the first failure to pack; the limiting resource is the one most targets lacked for the
 * first instance that did not fit, or Hosts when no target was left. Anti-affinity and
 * other scheduler filters are not modelled. When a target host reports no capacity (Nova
 * 2.88+ leaves it to Placement) or a flavor's size is unknown, the scope is unknown. Pure.
 */
export function computeFailoverCapacity(protectedInstances: readonly Instance[], hosts: readonly ComputeHost[], opts: FailoverCapacityOptions): FailoverCapacityReport {
  const models = buildHosts(hosts, opts);
  const byService = new Map(models.map((m) => [m.serviceHost, m]));
  let unplacedInstances = 0;
  const unknownSizes: string[] = [];
  for (const i of protectedInstances) {
    const m = i.host ? byService.get(i.host) : undefined;
    if (!m) {
      if (i.host) unplacedInstances++;
      continue;
    }
    const need = demandOf(i);
    if (!need) {
      unknownSizes.push(i.name || i.id);
      continue;
    }
    m.demands.push({ id: i.id, name: i.name || i.id, need });
    for (const r of RESOURCES) m.load[r] += need[r];
  }
  const scopes = scopeList(models, opts.cloudName).slice(0, opts.maxScopes ?? 128);
  const results = scopes.map((s) => evaluateScope(s, unknownSizes, opts.maxHostFailures ?? 32));
  const known = results.filter((r) => r.hostFailuresTolerated !== undefined);
  const report: FailoverCapacityReport = { scopes: results, unplacedInstances };
  if (results.length > 0 && known.length === results.length) report.hostFailuresTolerated = Math.min(...known.map((r) => r.hostFailuresTolerated ?? 0));
  return report;
}

/** The resources an instance needs on a target: its flavor, with the root disk only when it is local. */
export function demandOf(i: Instance): Resources | undefined {
  const f = i.flavor;
  if (f.vcpus === undefined || f.ramMiB === undefined) return undefined;
  if (i.localRootDisk && f.diskGiB === undefined) return undefined;
  const disk = (i.localRootDisk ? (f.diskGiB ?? 0) : 0) + (f.ephemeralGiB ?? 0) + Math.ceil((f.swapMiB ?? 0) / 1024);
  return { vcpu: f.vcpus, memory: f.ramMiB, disk };
}

function buildHosts(hosts: readonly ComputeHost[], opts: FailoverCapacityOptions): HostModel[] {
  const ratio: Resources = { vcpu: 1, memory: 1, disk: 1, ...opts.allocationRatios };
  const reserved = new Set(opts.useReservedHosts ? (opts.reservedHosts ?? []) : []);
  return [...hosts]
    .sort((a, b) => a.spec.serviceHost.localeCompare(b.spec.serviceHost))
    .map((h) => {
      const cap = h.status?.capacity;
      const free: Partial<Resources> = {};
      const set = (r: keyof Resources, c: { used?: number; total?: number } | undefined): void => {
        if (c?.total !== undefined && c.used !== undefined) free[r] = Math.floor(c.total * ratio[r]) - c.used;
      };
      set("vcpu", cap?.vcpus);
      set("memory", cap?.memoryMiB);
      set("disk", cap?.diskGiB);
      const m: HostModel = {
        serviceHost: h.spec.serviceHost,
        aggregates: h.status?.aggregates ?? [],
        target: isTarget(h, reserved.has(h.metadata?.name ?? "") || reserved.has(h.spec.serviceHost)),
        free,
        demands: [],
        load: { vcpu: 0, memory: 0, disk: 0 },
      };
      if (h.status?.availabilityZone) m.availabilityZone = h.status.availabilityZone;
      return m;
    });
}

/** Can the scheduler place evacuated instances here? Reserved hosts count although disabled. */
export function isTarget(h: ComputeHost, reserved: boolean): boolean {
  const nova = h.status?.nova;
  const health = h.status?.health?.state;
  return nova?.state === "Up" && (nova.status === "Enabled" || reserved) && nova.forcedDown !== true && h.spec.maintenance?.enabled !== true && health !== "Failed" && health !== "Suspect";
}

interface Scope {
  scope: CapacityScope;
  name: string;
  hosts: HostModel[];
}

function scopeList(models: HostModel[], cloudName: string): Scope[] {
  const carrying = models.filter((m) => m.demands.length > 0);
  if (carrying.length === 0) return [];
  const aggregates = [...new Set(carrying.flatMap((m) => m.aggregates))].sort();
  const zones = [...new Set(carrying.flatMap((m) => (m.availabilityZone ? [m.availabilityZone] : [])))].sort();
  return [
    { scope: "Cloud", name: cloudName, hosts: models },
    ...aggregates.map((a): Scope => ({ scope: "Aggregate", name: a, hosts: models.filter((m) => m.aggregates.includes(a)) })),
    ...zones.map((z): Scope => ({ scope: "AvailabilityZone", name: z, hosts: models.filter((m) => m.availabilityZone === z) })),
  ];
}

function evaluateScope(s: Scope, unknownSizes: string[], maxFailures: number): ScopeCapacity {
  const protectedInstances = s.hosts.reduce((n, h) => n + h.demands.length, 0);
  const out: ScopeCapacity = { scope: s.scope, name: s.name, hosts: s.hosts.length, protectedInstances };
  const unknown = unknownReason(s, unknownSizes);
  if (unknown) return { ...out, unknown };
  const worstFirst = s.hosts
    .filter((h) => h.demands.length > 0)
    .sort((a, b) => b.load.memory - a.load.memory || b.load.vcpu - a.load.vcpu || b.load.disk - a.load.disk || a.serviceHost.localeCompare(b.serviceHost));
  const limit = Math.min(worstFirst.length, maxFailures);
  for (let k = 1; k <= limit; k++) {
    const failed = worstFirst.slice(0, k);
    const failedSet = new Set(failed);
    const targets = s.hosts.filter((h) => h.target && !failedSet.has(h));
    const result = pack(failed.flatMap((h) => h.demands), targets);
    if (!result.ok) {
      return { ...out, hostFailuresTolerated: k - 1, limitingResource: result.limiting, failedAt: { hosts: failed.map((h) => h.serviceHost), unplaced: result.unplaced, instance: result.first } };
    }
  }
  return { ...out, hostFailuresTolerated: limit, limitingResource: "None" };
}

function unknownReason(s: Scope, unknownSizes: string[]): string | undefined {
  if (unknownSizes.length > 0) {
    return `flavor sizes unknown for ${unknownSizes.length} protected instance(s) (${unknownSizes.slice(0, 5).join(", ")}${unknownSizes.length > 5 ? ", ..." : ""})`;
  }
  const blind = s.hosts.filter((h) => h.target && RESOURCES.some((r) => h.free[r] === undefined)).map((h) => h.serviceHost);
  if (blind.length === 0) return undefined;
  return `no capacity figures for ${blind.length} target host(s) (${blind.slice(0, 5).join(", ")}${blind.length > 5 ? ", ..." : ""}): Nova 2.88+ reports capacity through Placement only`;
}

type PackResult = { ok: true } | { ok: false; limiting: LimitingResource; unplaced: number; first: string };

/** First-fit decreasing by RAM (then vCPU, disk, id) onto the targets in name order. */
export function pack(demands: readonly Demand[], targets: readonly HostModel[]): PackResult {
  if (demands.length === 0) return { ok: true };
  if (targets.length === 0) return { ok: false, limiting: "Hosts", unplaced: demands.length, first: demands[0]?.name ?? "" };
  const free = targets.map((t) => ({ vcpu: t.free.vcpu ?? 0, memory: t.free.memory ?? 0, disk: t.free.disk ?? 0 }));
  const order = [...demands].sort((a, b) => b.need.memory - a.need.memory || b.need.vcpu - a.need.vcpu || b.need.disk - a.need.disk || a.id.localeCompare(b.id));
  let first: Demand | undefined;
  let unplaced = 0;
  for (const d of order) {
    const slot = free.find((f) => RESOURCES.every((r) => f[r] >= d.need[r]));
    if (slot) {
      for (const r of RESOURCES) slot[r] -= d.need[r];
      continue;
    }
    unplaced++;
    first ??= d;
  }
  if (!first) return { ok: true };
  return { ok: false, limiting: limitingFor(first, free), unplaced, first: first.name };
}

/** The resource that the most targets lacked for `d` (ties: Memory, VCPU, Disk). */
function limitingFor(d: Demand, free: Resources[]): LimitingResource {
  let best: keyof Resources = "memory";
  let bestCount = -1;
  for (const r of RESOURCES) {
    const short = free.filter((f) => f[r] < d.need[r]).length;
    if (short > bestCount) {
      best = r;
      bestCount = short;
    }
  }
  return LIMIT_NAME[best];
}
