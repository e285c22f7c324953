import type { ServerSpec } from "./nova-model.js";
import type { SimCloud } from "./sim-cloud.js";
import { SeededRandom } from "./seeded-random.js";

export interface SeedOptions {
  hosts: number;
  serversPerHost: number;
  /** Number of availability zones (hosts split in contiguous blocks); 1 keeps the default zone. */
  zones?: number;
  /** Put the first server of every two neighbouring hosts in one anti-affinity group. */
  antiAffinityPairs?: boolean;
  seed?: string | number;
  /** Host aggregates (no zone) the hosts are split into in contiguous blocks: rack-a, rack-b, ... */
  aggregates?: number;
  /** Empty spare hosts (compute-spare-01, ...) whose nova-compute is disabled, as reserved capacity. */
  reservedHosts?: number;
  hostVcpus?: number;
  hostMemoryMb?: number;
  hostLocalGb?: number;
}

export function hostName(i: number): string {
  return `compute-${String(i + 1).padStart(4, "0")}`;
}

export function reservedHostName(i: number): string {
  return `compute-spare-${String(i + 1).padStart(2, "0")}`;
}

/** The disabled reason of a seeded spare host. */
export const RESERVED_HOST_REASON = "reserved spare capacity for vmkeeper";

/** Aggregate `i` of a seeded cloud: rack-a, rack-b, ..., rack-z, rack-27, ... */
export function aggregateName(i: number): string {
  return i < 26 ? `rack-${String.fromCharCode(97 + i)}` : `rack-${i + 1}`;
}

function seedAggregatesAndSpares(cloud: SimCloud, o: SeedOptions): void {
  const count = Math.max(0, o.aggregates ?? 0);
  const perAggregate = Math.ceil(o.hosts / Math.max(1, count));
  for (let a = 0; a < count; a++) {
    const agg = cloud.nova.createAggregate(aggregateName(a), null);
    for (let h = a * perAggregate; h < Math.min(o.hosts, (a + 1) * perAggregate); h++) cloud.nova.aggregateAddHost(agg.id, hostName(h));
  }
  const spares = cloud.nova.addHosts(Array.from({ length: Math.max(0, o.reservedHosts ?? 0) }, (_, i) => ({ name: reservedHostName(i), vcpus: o.hostVcpus, memoryMb: o.hostMemoryMb, localGb: o.hostLocalGb })));
  for (const spare of spares) cloud.nova.updateService(spare.service.uuid, { status: "disabled", disabledReason: RESERVED_HOST_REASON });
}

/**
 * Fills a cloud with hosts and servers placed directly (deterministic for a seed): servers spread
 * over the projects, flavors m1.tiny/small/medium, half tagged for HA with metadata and a tag.
 */
export function seedCloud(cloud: SimCloud, o: SeedOptions): { hosts: number; servers: number; groups: number } {
  const rng = new SeededRandom(`${String(o.seed ?? cloud.config.seed)}/seed`);
  const zones = Math.max(1, o.zones ?? 1);
  const perZone = Math.ceil(o.hosts / zones);
  cloud.nova.addHosts(
    Array.from({ length: o.hosts }, (_, i) => ({
      name: hostName(i),
      zone: zones > 1 ? `az-${Math.floor(i / perZone) + 1}` : undefined,
      vcpus: o.hostVcpus,
      memoryMb: o.hostMemoryMb,
      localGb: o.hostLocalGb,
    })),
  );
  const projects = [...cloud.keystone.projects.values()].filter((p) => p.name !== "service");
  const admin = cloud.keystone.userByName("admin");
  const ctx = { userId: admin?.id ?? "admin", projectId: projects[0]?.id ?? "admin", isAdmin: true, requestId: "req-seed" };
  let groups = 0;
  const specs: ServerSpec[] = [];
  let pairGroup: string | undefined;
  for (let h = 0; h < o.hosts; h++) {
    // The first servers of hosts 2n and 2n+1 form an anti-affinity pair.
    const groupId = h % 2 === 1 ? pairGroup : undefined;
    pairGroup = undefined;
    if ((o.antiAffinityPairs ?? true) && h % 2 === 0 && h + 1 < o.hosts && o.serversPerHost > 0) {
      pairGroup = cloud.nova.createServerGroup(ctx, `pair-${h / 2 + 1}`, "anti-affinity").id;
      groups++;
    }
    const memberGroup = groupId ?? pairGroup;
    for (let k = 0; k < o.serversPerHost; k++) {
      const project = projects[rng.int(projects.length)] ?? projects[0];
      const ha = rng.chance(0.5);
      specs.push({
        name: `vm-${hostName(h).slice(8)}-${String(k + 1).padStart(2, "0")}`,
        host: hostName(h),
        projectId: project?.id,
        flavorId: ["1", "2", "3"][rng.int(3)],
        metadata: ha ? { ha: "true", "vmkeeper.io/tier": String(1 + rng.int(3)) } : {},
        tags: ha ? ["ha"] : [],
        vmState: rng.chance(0.05) ? "stopped" : "active",
        groupId: k === 0 ? memberGroup : undefined,
      });
    }
  }
  cloud.nova.addServers(specs);
  seedAggregatesAndSpares(cloud, o);
  return { hosts: o.hosts, servers: specs.length, groups };
}
