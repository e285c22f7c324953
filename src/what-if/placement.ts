import type { Resources } from "../controllers/instance-ha-policy/failover-capacity.js";

/** One nova-compute host as a scheduler sees it: service state and free resources. */
export interface PlacementHost {
  serviceHost: string;
  /** Service enabled, up and not forced down in Nova. */
  schedulable: boolean;
  /** Free vCPU, RAM (MiB) and disk (GiB) after allocation ratios; undefined where Nova reports no figures. */
  free: Partial<Resources>;
}

/** A hard server-group policy of the instance being placed, with where its other members are. */
export interface GroupConstraint {
  name: string;
  policy: "affinity" | "anti-affinity";
  /** At most this many members per host (anti-affinity; Nova's default 1). */
  maxServerPerHost: number;
  /** Hosts of the other members, one entry per member. */
  memberHosts: string[];
}

export interface PlacementRequest {
  need: Resources;
  /** Never chosen (the failed hosts). */
  exclude: ReadonlySet<string>;
  /** Only this host may be chosen (a reserved host); the filters still run. */
  requestedHost?: string;
  groups: readonly GroupConstraint[];
}

export type PlacementResult = { ok: true; host: string } | { ok: false; reason: string };

const RESOURCES: readonly (keyof Resources)[] = ["vcpu", "memory", "disk"];
const UNIT: Record<keyof Resources, string> = { vcpu: "vCPU", memory: "MiB RAM", disk: "GiB disk" };

/**
 * Where Nova's filter scheduler would likely put one instance; pure. Filters as Nova's
 * defaults: the compute service is enabled, up and not forced down; enough free vCPU, RAM
 * and disk after allocation ratios (a host without figures is treated as full: never
 * overstated); hard affinity / anti-affinity of the instance's server groups. Weigher as
 * Nova's default RAM weigher (spread): most free RAM first, then host name. Not modelled:
 * availability-zone pinning from the boot request, soft group policies, custom filters.
 */
export function placeInstance(hosts: readonly PlacementHost[], req: PlacementRequest): PlacementResult {
  const refused = new Map<string, number>();
  let best: PlacementHost | undefined;
  for (const h of hosts) {
    const why = refusal(h, req);
    if (why) {
      refused.set(why, (refused.get(why) ?? 0) + 1);
      continue;
    }
    if (!best || (h.free.memory ?? 0) > (best.free.memory ?? 0) || ((h.free.memory ?? 0) === (best.free.memory ?? 0) && h.serviceHost < best.serviceHost)) best = h;
  }
  if (best) return { ok: true, host: best.serviceHost };
  const reasons = [...refused].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([why, n]) => `${n} ${why}`);
  return { ok: false, reason: `no valid host: ${reasons.join(", ") || "no compute host"}` };
}

function refusal(h: PlacementHost, req: PlacementRequest): string | undefined {
  if (req.exclude.has(h.serviceHost)) return "failed";
  if (req.requestedHost !== undefined && h.serviceHost !== req.requestedHost) return "not the requested host";
  if (!h.schedulable) return "disabled or down";
  for (const r of RESOURCES) if ((h.free[r] ?? 0) < req.need[r]) return `short of ${UNIT[r]}`;
  for (const g of req.groups) {
    const here = g.memberHosts.filter((m) => m === h.serviceHost).length;
    if (g.policy === "anti-affinity" && here >= g.maxServerPerHost) return `anti-affinity (${g.name})`;
    if (g.policy === "affinity" && g.memberHosts.some((m) => !req.exclude.has(m)) && here === 0) return `affinity (${g.name})`;
  }
  return undefined;
}

/** Takes an instance's resources on a host (a claim), or gives them back (sign -1). */
export function claim(hosts: PlacementHost[], serviceHost: string, need: Resources, sign: 1 | -1 = 1): void {
  const h = hosts.find((x) => x.serviceHost === serviceHost);
  if (!h) return;
  for (const r of RESOURCES) if (h.free[r] !== undefined) h.free[r] = (h.free[r] ?? 0) - sign * need[r];
}

/** Free resources from the hypervisor's totals and use: total × ratio − used (Nova's filters). */
export function freeResources(cap: { vcpus?: number; vcpusUsed?: number; memoryMb?: number; memoryMbUsed?: number; localGb?: number; localGbUsed?: number }, ratios: Resources): Partial<Resources> {
  const free: Partial<Resources> = {};
  if (cap.vcpus !== undefined && cap.vcpusUsed !== undefined) free.vcpu = Math.floor(cap.vcpus * ratios.vcpu) - cap.vcpusUsed;
  if (cap.memoryMb !== undefined && cap.memoryMbUsed !== undefined) free.memory = Math.floor(cap.memoryMb * ratios.memory) - cap.memoryMbUsed;
  if (cap.localGb !== undefined && cap.localGbUsed !== undefined) free.disk = Math.floor(cap.localGb * ratios.disk) - cap.localGbUsed;
  return free;
}
