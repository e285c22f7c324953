import type { ComputeHost, InstanceHAPolicy, InstanceHAPolicySpec, InstanceHAPolicyStatus } from "../../../../src/api/v1alpha1/index.js";
import type { Resources } from "../../../../src/controllers/instance-ha-policy/failover-capacity.js";
import { vmStateFromStatus, type Instance, type InstanceFlavor } from "../../../../src/controllers/instance-ha-policy/instance-inventory.js";
import type { CloudState } from "../../../../src/controllers/instance-ha-policy/plan-policy-status.js";

/**
 * A scenario in short form (input.yaml): flavors by name, instances and hosts with
 * defaults, policies as name + spec. `toWorld` expands it to the planner's inputs.
 */
export interface Scenario {
  cloud?: string;
  namespace?: string;
  now?: string;
  cloudState?: CloudState;
  projectNamesKnown?: boolean;
  allocationRatios?: Partial<Resources>;
  flavors?: Record<string, InstanceFlavor>;
  instances?: ScenarioInstance[];
  hosts?: ScenarioHost[];
  policies: ScenarioPolicy[];
}

export interface ScenarioInstance {
  id?: string;
  name: string;
  project?: string;
  projectName?: string;
  host?: string;
  status?: string;
  vmState?: string;
  flavor?: string;
  image?: string;
  imageName?: string;
  /** Booted from a volume. */
  volume?: boolean;
  tags?: string[];
  metadata?: Record<string, string>;
  groups?: { id: string; name: string }[];
  az?: string;
}

export interface ScenarioHost {
  name: string;
  az?: string;
  aggregates?: string[];
  /** [used, total] per resource; absent when the hypervisor reports none. */
  vcpus?: [number, number];
  ramMiB?: [number, number];
  diskGiB?: [number, number];
  state?: "Up" | "Down";
  status?: "Enabled" | "Disabled";
  forcedDown?: boolean;
  maintenance?: boolean;
  health?: "Healthy" | "Suspect" | "Failed";
}

export interface ScenarioPolicy {
  name: string;
  generation?: number;
  spec: Omit<InstanceHAPolicySpec, "cloudRef"> & { cloudRef?: { name: string } };
  status?: InstanceHAPolicyStatus;
}

export interface World {
  cloud: string;
  now: Date;
  cloudState: CloudState;
  projectNamesKnown: boolean;
  allocationRatios?: Partial<Resources>;
  instances: Instance[];
  hosts: ComputeHost[];
  policies: InstanceHAPolicy[];
}

export function toWorld(s: Scenario): World {
  const cloud = s.cloud ?? "lab";
  const ns = s.namespace ?? "ha";
  const flavors = s.flavors ?? { "m1.small": { id: "2", name: "m1.small", vcpus: 1, ramMiB: 2048, diskGiB: 20 } };
  return {
    cloud,
    now: new Date(s.now ?? "2026-01-01T00:00:00Z"),
    cloudState: s.cloudState ?? { ready: true },
    projectNamesKnown: s.projectNamesKnown ?? true,
    ...(s.allocationRatios ? { allocationRatios: s.allocationRatios } : {}),
    instances: (s.instances ?? []).map((i, n) => toInstance(i, n, flavors)),
    hosts: (s.hosts ?? []).map((h) => toHost(h, cloud, ns)),
    policies: s.policies.map((p) => ({
      apiVersion: "ha.vmkeeper.dev/v1alpha1",
      kind: "InstanceHAPolicy",
      metadata: { name: p.name, namespace: ns, generation: p.generation ?? 1 },
      spec: { cloudRef: { name: cloud }, ...p.spec },
      ...(p.status ? { status: p.status } : {}),
    })),
  };
}

function toInstance(i: ScenarioInstance, n: number, flavors: Record<string, InstanceFlavor>): Instance {
  const status = i.status ?? "ACTIVE";
  const flavorName = i.flavor ?? "m1.small";
  const flavor = flavors[flavorName] ?? { name: flavorName };
  const out: Instance = {
    id: i.id ?? `i-${String(n + 1).padStart(4, "0")}`,
    name: i.name,
    projectId: i.project ?? "p-default",
    status,
    vmState: i.vmState ?? vmStateFromStatus(status),
    flavor: { name: flavorName, ...flavor },
    imageId: i.volume ? "" : (i.image ?? "img-cirros"),
    volumeBacked: i.volume === true,
    localRootDisk: i.volume !== true,
    tags: i.tags ?? [],
    metadata: i.metadata ?? {},
    serverGroups: i.groups ?? [],
  };
  if (i.projectName) out.projectName = i.projectName;
  if (i.imageName) out.imageName = i.imageName;
  if (i.host) out.host = i.host;
  if (i.az) out.availabilityZone = i.az;
  return out;
}

function toHost(h: ScenarioHost, cloud: string, ns: string): ComputeHost {
  const pair = (p: [number, number] | undefined): { used: number; total: number } | undefined => (p ? { used: p[0], total: p[1] } : undefined);
  const vcpus = pair(h.vcpus);
  const memoryMiB = pair(h.ramMiB);
  const diskGiB = pair(h.diskGiB);
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "ComputeHost",
    metadata: { name: `${cloud}.${h.name}`, namespace: ns },
    spec: { cloudRef: { name: cloud }, serviceHost: h.name, ...(h.maintenance ? { maintenance: { enabled: true, reason: "scenario" } } : {}) },
    status: {
      nova: { state: h.state ?? "Up", status: h.status ?? "Enabled", forcedDown: h.forcedDown ?? false },
      aggregates: h.aggregates ?? [],
      ...(h.az ? { availabilityZone: h.az } : {}),
      ...(vcpus || memoryMiB || diskGiB ? { capacity: { ...(vcpus ? { vcpus } : {}), ...(memoryMiB ? { memoryMiB } : {}), ...(diskGiB ? { diskGiB } : {}) } } : {}),
      ...(h.health ? { health: { state: h.health } } : {}),
    },
  };
}
