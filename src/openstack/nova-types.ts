/**
 * The Nova resources vmkeeper reads, camelCased, with only the fields it uses. Fields that
 * depend on the microversion or on policy are optional. Parsing lives in nova-parse.ts.
 */

export interface ComputeService {
  /** UUID (2.53+). */
  id: string;
  binary: string;
  host: string;
  zone?: string;
  /** "enabled" | "disabled". */
  status: string;
  /** "up" | "down". */
  state: string;
  forcedDown: boolean;
  disabledReason: string | null;
  updatedAt: string | null;
}

export interface ServerRef {
  uuid: string;
  name: string;
}

export interface Hypervisor {
  /** UUID (2.53+). */
  id: string;
  hypervisorHostname: string;
  state?: string;
  status?: string;
  hypervisorType?: string;
  hostIp?: string;
  serviceHost?: string;
  serviceId?: string;
  /** Only with `with_servers=true`. */
  servers?: ServerRef[];
  /** Capacity fields: gone from 2.88 on (use Placement); present before. */
  vcpus?: number;
  vcpusUsed?: number;
  memoryMb?: number;
  memoryMbUsed?: number;
  localGb?: number;
  localGbUsed?: number;
  runningVms?: number;
}

export interface Aggregate {
  id: string;
  uuid?: string;
  name: string;
  availabilityZone: string | null;
  hosts: string[];
  metadata: Record<string, string>;
}

export interface AvailabilityZoneHost {
  name: string;
  /** Per service binary: available (enabled) and active (up). */
  services: Record<string, { available: boolean; active: boolean; updatedAt: string | null }>;
}

export interface AvailabilityZone {
  name: string;
  available: boolean;
  hosts: AvailabilityZoneHost[];
}

export interface ServerFlavor {
  /** Below 2.47 only the flavor id is given (2.47+ embeds the flavor without its id). */
  id?: string;
  originalName?: string;
  vcpus?: number;
  ramMb?: number;
  diskGb?: number;
  ephemeralGb?: number;
  swapMb?: number;
  extraSpecs?: Record<string, string>;
}

export interface Server {
  id: string;
  name: string;
  /** ACTIVE, SHUTOFF, ERROR, REBUILD, ... */
  status: string;
  vmState?: string;
  taskState: string | null;
  powerState?: number;
  /** Admin-only extended attributes. */
  host?: string | null;
  hypervisorHostname?: string | null;
  availabilityZone?: string;
  /** UP, DOWN, MAINTENANCE, UNKNOWN or "" (2.16+, admin). */
  hostStatus?: string;
  projectId: string;
  userId?: string;
  metadata: Record<string, string>;
  tags: string[];
  locked?: boolean;
  lockedReason?: string | null;
  /** Why the server is in ERROR (Nova's `fault`, shown for ERROR and DELETED servers). */
  fault?: { code?: number; message: string };
  flavor: ServerFlavor;
  /** Image id; "" for a server booted from a volume (Nova sends `image: ""`); absent when not reported. */
  imageId?: string;
  /** Ids of the attached volumes (`os-extended-volumes:volumes_attached`), when reported. */
  volumesAttached?: string[];
  /** Server group ids (2.71+). */
  serverGroups?: string[];
  created?: string;
  updated?: string;
}

export interface Migration {
  id: string;
  uuid?: string;
  /** pre-migrating, migrating, done, completed, failed, error, accepted, ... */
  status: string;
  migrationType?: string;
  instanceUuid: string;
  sourceCompute: string | null;
  destCompute: string | null;
  sourceNode: string | null;
  destNode: string | null;
  destHost: string | null;
  createdAt: string;
  updatedAt: string | null;
  userId?: string;
  projectId?: string;
}

export interface InstanceActionEvent {
  event: string;
  startTime: string | null;
  finishTime: string | null;
  /** "Success" | "Error" | null while running. */
  result: string | null;
  host?: string;
}

export interface InstanceAction {
  action: string;
  requestId: string;
  instanceUuid: string;
  startTime: string;
  updatedAt?: string;
  message: string | null;
  /** The requesting user; null when Nova acted by itself (an admin context without a user, e.g. its power-state sync). */
  userId?: string | null;
  projectId?: string | null;
  /** Only in the detail view. */
  events?: InstanceActionEvent[];
}

export interface ServerGroup {
  id: string;
  name: string;
  /** affinity, anti-affinity, soft-affinity, soft-anti-affinity (2.64+ `policy`, older `policies[0]`). */
  policy: string;
  /** 2.64+, e.g. { max_server_per_host: 1 }. */
  rules: Record<string, number | string>;
  members: string[];
  projectId?: string;
  userId?: string;
}

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  ephemeralGb: number;
  swapMb: number;
  isPublic: boolean;
  disabled?: boolean;
  /** 2.61+ in the detail view (policy permitting). */
  extraSpecs?: Record<string, string>;
}

/** `limits.absolute`: maxTotalInstances, totalInstancesUsed, maxTotalCores, ... */
export type AbsoluteLimits = Record<string, number>;

export interface ComputeVersion {
  id: string;
  status?: string;
  min: string;
  max: string;
}
