import type { Flavor, GroupPolicy } from "./nova-types.js";

/** One host as the scheduler sees it. */
export interface HostCandidate {
  name: string;
  zone: string;
  /** Service enabled, up and not forced down. */
  schedulable: boolean;
  vcpus: number;
  memoryMb: number;
  localGb: number;
  usedVcpus: number;
  usedRamMb: number;
  usedDiskGb: number;
  /** Members of the request's server group on this host (the server itself excluded). */
  groupMembers: number;
}

export interface PlacementRequest {
  flavor: Flavor;
  group?: { policy: GroupPolicy; maxServerPerHost?: number; membersPlaced: number };
  /** Hosts never to choose (the source of an evacuation). */
  excludeHosts?: ReadonlySet<string>;
  /** Restrict to this availability zone. */
  zone?: string | null;
  /** Only this host may be chosen (a target given by the caller; the filters still run). */
  requestedHost?: string | null;
}

export interface AllocationRatios {
  cpu: number;
  ram: number;
  disk: number;
  reservedHostMemoryMb: number;
}

export type PlacementResult = { ok: true; host: string } | { ok: false; reason: string };

export const NO_VALID_HOST = "No valid host was found. There are not enough hosts available.";

export function freeRamMb(h: HostCandidate, r: AllocationRatios): number {
  return h.memoryMb * r.ram - r.reservedHostMemoryMb - h.usedRamMb;
}

/** The filters: capacity with allocation ratios, service state, zone, hard group policies. */
export function passesFilters(h: HostCandidate, req: PlacementRequest, r: AllocationRatios): boolean {
  if (!h.schedulable) return false;
  if (req.excludeHosts?.has(h.name)) return false;
  if (req.requestedHost && h.name !== req.requestedHost) return false;
  if (req.zone && h.zone !== req.zone) return false;
  const f = req.flavor;
  if (h.vcpus * r.cpu - h.usedVcpus < f.vcpus) return false;
  if (freeRamMb(h, r) < f.ramMb) return false;
  if (h.localGb * r.disk - h.usedDiskGb < f.diskGb) return false;
  const g = req.group;
  if (g?.policy === "anti-affinity" && h.groupMembers >= (g.maxServerPerHost ?? 1)) return false;
  if (g?.policy === "affinity" && g.membersPlaced > 0 && h.groupMembers === 0) return false;
  return true;
}

/** Weigher: soft group policies first, then most free RAM, then host name (deterministic). */
export function compareCandidates(a: HostCandidate, b: HostCandidate, req: PlacementRequest, r: AllocationRatios): number {
  const policy = req.group?.policy;
  if (policy === "soft-anti-affinity" && a.groupMembers !== b.groupMembers) return a.groupMembers - b.groupMembers;
  if (policy === "soft-affinity" && a.groupMembers !== b.groupMembers) return b.groupMembers - a.groupMembers;
  const ram = freeRamMb(b, r) - freeRamMb(a, r);
  if (ram !== 0) return ram;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Chooses a host like Nova's filter scheduler with a deterministic weigher. */
export function pickHost(candidates: Iterable<HostCandidate>, req: PlacementRequest, r: AllocationRatios): PlacementResult {
  let best: HostCandidate | undefined;
  for (const h of candidates) {
    if (!passesFilters(h, req, r)) continue;
    if (!best || compareCandidates(h, best, req, r) < 0) best = h;
  }
  return best ? { ok: true, host: best.name } : { ok: false, reason: NO_VALID_HOST };
}
