/** The simulated Nova database: plain records, mutated only by NovaModel. */

export type VmState = "building" | "active" | "stopped" | "error" | "deleted";
export type TaskState =
  | null
  | "scheduling"
  | "spawning"
  | "rebuilding"
  | "powering-on"
  | "powering-off"
  | "rebooting"
  | "rebooting_hard"
  | "deleting";

/** Nova's power_state numbers. */
export const PowerState = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6, SUSPENDED: 7 } as const;
export type PowerStateValue = (typeof PowerState)[keyof typeof PowerState];

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  extraSpecs: Record<string, string>;
}

export interface NovaService {
  uuid: string;
  /** Integer id shown before microversion 2.53. */
  intId: number;
  binary: "nova-compute" | "nova-scheduler" | "nova-conductor";
  host: string;
  disabled: boolean;
  disabledReason: string | null;
  forcedDown: boolean;
  /** Monotonic time the process (re)started heartbeating. */
  startedAtMs: number;
  /** Monotonic time the process stopped heartbeating; null while it runs. */
  stoppedAtMs: number | null;
  /** Last change made through the API (wall clock), folded into updated_at. */
  apiUpdatedAt: Date | null;
  createdAt: Date;
}

export interface ServerFault {
  code: number;
  message: string;
  details: string;
  created: Date;
}

/** A local guest left on a host after its server was evacuated away ("evacuated copy"). */
export interface StaleGuest {
  serverId: string;
  migrationId: number;
  flavor: Flavor;
}

export interface ResourceUse {
  vcpus: number;
  ramMb: number;
  diskGb: number;
}

export interface ComputeHost {
  name: string;
  service: NovaService;
  hypervisorUuid: string;
  hypervisorIntId: number;
  hostIp: string;
  vcpus: number;
  memoryMb: number;
  localGb: number;
  /** The machine is powered and its guests run. */
  powered: boolean;
  /** The machine went down since nova-compute last started (guests lost their power). */
  rebootedSinceStart: boolean;
  servers: Set<string>;
  /** Resources claimed on this host: its servers, evacuations landing here, stale guests. */
  used: ResourceUse;
  staleGuests: Map<string, StaleGuest>;
  /** Completions that need this host's nova-compute, run when it starts again. */
  deferred: Array<() => void>;
}

export interface Server {
  id: string;
  seq: number;
  name: string;
  projectId: string;
  userId: string;
  flavor: Flavor;
  imageId: string;
  host: string | null;
  vmState: VmState;
  taskState: TaskState;
  powerState: PowerStateValue;
  metadata: Record<string, string>;
  tags: Set<string>;
  locked: boolean;
  lockedReason: string | null;
  groupId: string | null;
  requestedAz: string | null;
  availabilityZone: string | null;
  createdAt: Date;
  updatedAt: Date;
  launchedAt: Date | null;
  fault: ServerFault | null;
  /** Destination claimed by an evacuation in progress. */
  evacuatingTo: string | null;
  /** Bumped whenever a task starts or ends, so stale completions are ignored. */
  taskGeneration: number;
  description: string | null;
}

export type MigrationStatus = "accepted" | "pre-migrating" | "done" | "failed" | "error" | "completed";

export interface Migration {
  id: number;
  uuid: string;
  instanceUuid: string;
  sourceCompute: string;
  sourceNode: string;
  destCompute: string | null;
  destNode: string | null;
  destHost: string | null;
  status: MigrationStatus;
  migrationType: "evacuation";
  flavorId: string;
  userId: string;
  projectId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface InstanceActionEvent {
  event: string;
  startTime: Date;
  finishTime: Date | null;
  result: "Success" | "Error" | null;
  host: string | null;
  traceback: string | null;
}

export interface InstanceAction {
  action: string;
  instanceUuid: string;
  requestId: string;
  /** null for Nova's own actions (an admin context without a user, e.g. the power-state sync's stop). */
  userId: string | null;
  projectId: string | null;
  startTime: Date;
  updatedAt: Date;
  message: string | null;
  events: InstanceActionEvent[];
}

export type GroupPolicy = "affinity" | "anti-affinity" | "soft-affinity" | "soft-anti-affinity";

export interface ServerGroup {
  id: string;
  name: string;
  policy: GroupPolicy;
  rules: { max_server_per_host?: number };
  members: Set<string>;
  projectId: string;
  userId: string;
}

export interface Aggregate {
  id: number;
  uuid: string;
  name: string;
  availabilityZone: string | null;
  hosts: Set<string>;
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date | null;
}

/** Who an instance action is recorded for: a caller, or Nova itself (user and project null). */
export interface ActionActor {
  userId: string | null;
  projectId: string | null;
  requestId: string;
}

/** Who is calling, as established by a token. */
export interface RequestContext {
  userId: string;
  projectId: string;
  isAdmin: boolean;
  requestId: string;
}
