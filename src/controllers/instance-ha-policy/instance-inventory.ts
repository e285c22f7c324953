import type { CallOptions, NovaClient } from "../../openstack/nova-client.js";
import type { Flavor, Server, ServerGroup } from "../../openstack/nova-types.js";

/** A server group as the policy selectors see it. */
export interface InstanceServerGroup {
  id: string;
  name: string;
}

/** The flavor of an instance; sizes are unknown when Nova did not embed them (below 2.47) and the flavor is gone. */
export interface InstanceFlavor {
  id?: string;
  name?: string;
  vcpus?: number;
  ramMiB?: number;
  /** Root disk size of the flavor (0 for volume-sized roots). */
  diskGiB?: number;
  ephemeralGiB?: number;
  swapMiB?: number;
}

/**
 * One Nova server, in the terms the protection rules use. The reconciler fills it from
 * Nova; resolution and capacity work on it alone, so they are tested without a cloud.
 */
export interface Instance {
  id: string;
  name: string;
  projectId: string;
  projectName?: string;
  projectDomain?: string;
  /** The nova-compute service host (`OS-EXT-SRV-ATTR:host`); absent when not placed. */
  host?: string;
  /** Nova status: ACTIVE, SHUTOFF, ERROR, BUILD, SHELVED_OFFLOADED, ... */
  status: string;
  /** Nova vm_state: active, stopped, error, building, paused, ... (derived from status when not reported). */
  vmState: string;
  flavor: InstanceFlavor;
  /** Image id; "" when booted from a volume (or not reported: see volumeBacked). */
  imageId: string;
  imageName?: string;
  /** Booted from a volume: the root disk lives in Cinder and survives the host. */
  volumeBacked: boolean;
  /**
   * The root disk is local to the host (booted from an image). Shared ephemeral storage
   * cannot be seen through the Nova API, so an image-backed instance always counts as local:
   * that refuses an evacuation rather than promising one that may lose data.
   */
  localRootDisk: boolean;
  tags: string[];
  metadata: Record<string, string>;
  serverGroups: InstanceServerGroup[];
  availabilityZone?: string;
}

export interface ProjectInfo {
  id: string;
  name: string;
  domain?: string;
}

/**
 * The Nova calls the inventory needs (NovaClient provides them). `listProjects` is optional:
 * Nova knows project ids only; whoever has a Keystone project list can add the names so
 * that `selector.projects[].name` matches.
 */
export type InstanceInventoryNova = Pick<NovaClient, "listServers" | "listServerGroups" | "listFlavors"> & {
  listProjects?: (opts?: CallOptions) => Promise<ProjectInfo[]>;
};

export interface InstanceInventory {
  instances: Instance[];
  /** True when project names were available (otherwise selectors by project name cannot match). */
  projectNamesKnown: boolean;
}

/**
 * Reads every server of the cloud (all projects), the server groups (for membership: the
 * server list does not carry it) and the flavors (for ids from 2.47 on, and sizes when
 * Nova did not embed them). Three or four paginated list calls, whatever the cloud's size.
 */
export async function readInstanceInventory(nova: InstanceInventoryNova, opts: CallOptions = {}): Promise<InstanceInventory> {
  const [servers, groups, flavors, projects] = await Promise.all([
    nova.listServers({ allProjects: true }, opts),
    nova.listServerGroups({ allProjects: true }, opts),
    nova.listFlavors({}, opts),
    nova.listProjects ? nova.listProjects(opts) : Promise.resolve(undefined),
  ]);
  return toInstanceInventory(servers, groups, flavors, projects);
}

/** Maps Nova's lists to the inventory (pure). */
export function toInstanceInventory(servers: Server[], groups: ServerGroup[], flavors: Flavor[], projects: ProjectInfo[] | undefined): InstanceInventory {
  const groupsOf = new Map<string, InstanceServerGroup[]>();
  for (const g of groups) {
    for (const m of g.members) {
      const list = groupsOf.get(m) ?? [];
      list.push({ id: g.id, name: g.name });
      groupsOf.set(m, list);
    }
  }
  const flavorById = new Map(flavors.map((f) => [f.id, f]));
  const flavorByName = new Map<string, Flavor>();
  for (const f of flavors) if (!flavorByName.has(f.name)) flavorByName.set(f.name, f);
  const projectById = new Map((projects ?? []).map((p) => [p.id, p]));
  const instances = servers.map((s) => toInstance(s, groupsOf, flavorById, flavorByName, projectById));
  instances.sort((a, b) => a.id.localeCompare(b.id));
  return { instances, projectNamesKnown: projects !== undefined };
}

function toInstance(
  s: Server,
  groupsOf: Map<string, InstanceServerGroup[]>,
  flavorById: Map<string, Flavor>,
  flavorByName: Map<string, Flavor>,
  projectById: Map<string, ProjectInfo>,
): Instance {
  // Nova sends `image: ""` for a server booted from a volume. No image field at all is
  // treated like an image: storage that is not known to be a volume counts as local.
  const volumeBacked = s.imageId === "";
  const groupIds = new Set(s.serverGroups ?? []);
  const groups = [...(groupsOf.get(s.id) ?? [])];
  for (const id of groupIds) if (!groups.some((g) => g.id === id)) groups.push({ id, name: "" });
  const project = projectById.get(s.projectId);
  const inst: Instance = {
    id: s.id,
    name: s.name,
    projectId: s.projectId,
    status: s.status,
    vmState: s.vmState ?? vmStateFromStatus(s.status),
    flavor: instanceFlavor(s, flavorById, flavorByName),
    imageId: s.imageId ?? "",
    volumeBacked,
    localRootDisk: !volumeBacked,
    tags: [...s.tags].sort(),
    metadata: { ...s.metadata },
    serverGroups: groups.sort((a, b) => a.id.localeCompare(b.id)),
  };
  if (project) {
    inst.projectName = project.name;
    if (project.domain) inst.projectDomain = project.domain;
  }
  if (s.host) inst.host = s.host;
  if (s.availabilityZone) inst.availabilityZone = s.availabilityZone;
  return inst;
}

function instanceFlavor(s: Server, byId: Map<string, Flavor>, byName: Map<string, Flavor>): InstanceFlavor {
  const f = s.flavor;
  const known = (f.id !== undefined ? byId.get(f.id) : undefined) ?? (f.originalName !== undefined ? byName.get(f.originalName) : undefined);
  const out: InstanceFlavor = {};
  const id = f.id ?? known?.id;
  const name = f.originalName ?? known?.name;
  if (id !== undefined) out.id = id;
  if (name !== undefined) out.name = name;
  // The embedded flavor is what the instance was built with; the flavor list may have changed since.
  const vcpus = f.vcpus ?? known?.vcpus;
  const ram = f.ramMb ?? known?.ramMb;
  const disk = f.diskGb ?? known?.diskGb;
  const eph = f.ephemeralGb ?? known?.ephemeralGb;
  const swap = f.swapMb ?? known?.swapMb;
  if (vcpus !== undefined) out.vcpus = vcpus;
  if (ram !== undefined) out.ramMiB = ram;
  if (disk !== undefined) out.diskGiB = disk;
  if (eph !== undefined) out.ephemeralGiB = eph;
  if (swap !== undefined) out.swapMiB = swap;
  return out;
}

/** vm_state for the statuses that map one to one, when the admin-only field is missing. */
export function vmStateFromStatus(status: string): string {
  const map: Record<string, string> = {
    ACTIVE: "active",
    SHUTOFF: "stopped",
    ERROR: "error",
    BUILD: "building",
    PAUSED: "paused",
    SUSPENDED: "suspended",
    RESCUE: "rescued",
    RESIZE: "active",
    VERIFY_RESIZE: "resized",
    SHELVED: "shelved",
    SHELVED_OFFLOADED: "shelved_offloaded",
    SOFT_DELETED: "soft-delete",
    DELETED: "deleted",
  };
  return map[status] ?? status.toLowerCase();
}
