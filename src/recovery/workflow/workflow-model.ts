import type { IncidentFencingDevice, IncidentInstance, IncidentStatus } from "../../api/v1alpha1/index.js";

export type PolicyMode = "KeepRunning" | "NotifyOnly";

/** How an instance is evacuated: Evacuate lets the Nova scheduler choose; ReservedHost targets a reserved host. */
export type RecoveryMethod = "Evacuate" | "ReservedHost";

/** Whether the failed host is returned to service in Nova by vmkeeper after the incident, or by a person. */
export type HostReenableMode = "Manual" | "Automatic";

/** A protected instance on the failed host, with what its policy says about recovering it. */
export interface ProtectedInstance {
  id: string;
  name: string;
  policy: string;
  mode: PolicyMode;
  tier: string;
  /** Higher is recovered first. */
  tierPriority: number;
  /** How long the next tier waits for this tier to be ready before it starts anyway. */
  tierReadinessTimeoutMs: number;
  /** The policy accepts losing local data by rebuilding from the image (root disk not on shared storage). */
  localDiskRefused: boolean;
  /** Recoveries of this instance in the restart-budget window, and the budget. */
  recentRecoveries: number;
  maxRecoveries: number;
  /** The policy's recovery.methods, in order (never empty). */
  methods: RecoveryMethod[];
  /** ComputeHost names the policy keeps as reserved hosts (recovery.reservedHosts). */
  reservedHosts: string[];
}

/** The Nova state of one instance as read in this pass. */
export interface InstanceNovaState {
  id: string;
  host: string | null;
  status: string;
  taskState: string | null;
  locked: boolean;
  lockedReason: string | null;
  /** Nova's fault message for ERROR instances, when known. */
  fault?: string;
  /**
   * Destination of the newest evacuation migration away from the failed host (Nova's
   * dest_compute), once the scheduler has chosen it; the instance's host may still be the
   * failed host while the rebuild runs.
   */
  evacuationTarget?: string;
}

export interface WorkflowSettings {
  maxConcurrentEvacuations: number;
  evacuationTimeoutMs: number;
  lockInstances: boolean;
  /** Every KeepRunning policy involved allows evacuation without power fencing. */
  unsafeSkipPowerFencing: boolean;
  /** A verification of a just-sent evacuation waits at least this long before a retry is considered. */
  conflictRetryMs: number;
  maxEvacuationAttempts: number;
  /** Evacuations in flight at once towards one target host (lowest of the policies involved). */
  maxConcurrentEvacuationsPerTargetHost: number;
  /** See hostReenableMode: Automatic only if every KeepRunning policy involved says so. */
  hostReenable: HostReenableMode;
}

export interface WorkflowHost {
  serviceHost: string;
  serviceId?: string;
  forcedDown: boolean;
  disabled: boolean;
  disabledReason?: string;
  /** Nova reports the service up (heartbeats within service_down_time and not forced down). */
  up?: boolean;
  /** Nova's updated_at of the service (RFC 3339): its last report or API change. */
  updatedAt?: string;
}

/** A reserved host named by a policy, with its nova-compute service as read in this pass. */
export interface ReservedHostState {
  /** ComputeHost name. */
  name: string;
  /** Undefined when no ComputeHost of that name exists. */
  serviceHost?: string;
  /** Undefined when Nova has no nova-compute service on the host. */
  serviceId?: string;
  up: boolean;
  forcedDown: boolean;
  disabled: boolean;
  disabledReason?: string;
  /** The ComputeHost's spec.maintenance.enabled. */
  maintenance: boolean;
}

/**
 * What fencing reported: power read back Off by a level of the host's HostFencing, a failure
 * with each device's result, or no HostFencing selects the host (only then may a policy's
 * unsafeSkipPowerFencing apply).
 */
export type FencingOutcome =
  | { kind: "PowerOff"; level: string; hostFencing: string; devices: IncidentFencingDevice[] }
  | { kind: "Failed"; message: string; hostFencing?: string; level?: string; devices: IncidentFencingDevice[] }
  | { kind: "NotConfigured"; message: string };

export interface WorkflowInput {
  nowIso: string;
  nowMs: number;
  incidentName: string;
  status: IncidentStatus;
  host: WorkflowHost;
  /** Protected instances whose home is the failed host (resolved once, then kept in status). */
  protectedInstances: ProtectedInstance[];
  nova: Map<string, InstanceNovaState>;
  settings: WorkflowSettings;
  /** Every reserved host named by the protected instances' policies (empty when none uses ReservedHost). */
  reservedHosts: ReservedHostState[];
}

/** One instance's evacuation within a batch: to the scheduler, or to a reserved host's service host. */
export interface EvacuationOrder {
  id: string;
  method: RecoveryMethod;
  targetHost?: string;
  /** Lock the instance first with this reason (recovery.lockInstances), right before its evacuation. */
  lockReason?: string;
}

/**
 * One side effect for the executor, recorded as intent before it is performed. Evacuations
 * (each with its lock first, when the policy locks) and unlocks come in batches: every
 * instance that may start in this pass (within the caps) is sent at once under one intent
 * naming them all, so a host's instances start together instead of one intent write, Nova
 * call and result write after another.
 */
export type WorkflowAction =
  | { kind: "Notify"; event: "detected" | "suppressed" }
  | { kind: "Fence" }
  | { kind: "ForceDown" }
  | { kind: "DisableService"; reason: string }
  | { kind: "EnableReservedHost"; host: string; serviceHost: string; serviceId: string }
  | { kind: "Evacuate"; orders: EvacuationOrder[] }
  | { kind: "UnlockInstances"; ids: string[] };

/** Most instances one batch names (the Incident's intent.targets holds at most 64). */
export const MAX_BATCH = 64;

export interface WorkflowStep {
  /** The status to write (with intent set when `action` is present). */
  status: IncidentStatus;
  action?: WorkflowAction;
  /** Re-check after this long when there is nothing to do now. */
  requeueAfterMs?: number;
  /** Human-readable reasons, one per decision taken in this step. */
  log: string[];
}

export type InstanceRecord = IncidentInstance;
