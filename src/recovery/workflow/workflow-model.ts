import type { IncidentInstance, IncidentStatus } from "../../api/v1alpha1/index.js";

export type PolicyMode = "KeepRunning" | "NotifyOnly";

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
}

export interface WorkflowHost {
  serviceHost: string;
  serviceId?: string;
  forcedDown: boolean;
  disabled: boolean;
  disabledReason?: string;
}

/** What fencing reported (the HostFencing issue brings real devices; until then: none or unsafe skip). */
export type FencingOutcome =
  | { kind: "PowerOff"; level: string }
  | { kind: "Failed"; message: string }
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
}

/** One side effect for the executor, recorded as intent before it is performed. */
export type WorkflowAction =
  | { kind: "Notify" }
  | { kind: "Fence" }
  | { kind: "ForceDown" }
  | { kind: "DisableService"; reason: string }
  | { kind: "LockInstance"; id: string; reason: string }
  | { kind: "Evacuate"; id: string }
  | { kind: "UnlockInstance"; id: string };

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
