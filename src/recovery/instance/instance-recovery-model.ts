/**
 * The vocabulary of VM-level recovery (a protected instance found SHUTOFF or in ERROR is
 * restarted in place). Plain data: the instance-recovery controller fills it from Nova and
 * Kubernetes, the pure planner decides. Times are wall-clock milliseconds (Nova's instance
 * actions carry wall-clock times), named `...Ms`.
 */

/** What a policy wants for one kind of downtime (`spec.vmMonitoring.*Action`). */
export type RecoveryChoice = "Restart" | "Notify" | "None";

export type PolicyMode = "KeepRunning" | "NotifyOnly" | "Disabled";

/** One policy's VM-level recovery settings, defaults applied. */
export interface InstanceRecoverySettings {
  /** `namespace/name`. */
  policy: string;
  mode: PolicyMode;
  paused: boolean;
  /** `vmMonitoring.enabled`. */
  enabled: boolean;
  /** SHUTOFF without a user request, cause unknown (Nova alone cannot tell a crash from an in-guest shutdown). */
  unrequestedStopAction: RecoveryChoice;
  /** The host agent reported a domain crash. */
  crashAction: RecoveryChoice;
  /** The host agent reported a shutdown from inside the guest. */
  guestShutdownAction: "Honour" | "Restart";
  /** ERROR that no failed operation explains. */
  errorAction: RecoveryChoice;
  /** `restartBudget`: automatic recoveries of one instance within a sliding window. */
  maxRecoveries: number;
  windowMs: number;
  minRestartIntervalMs: number;
  minUptimeMs: number;
}

/** One Nova instance action (`GET /servers/{id}/os-instance-actions`). */
export interface NovaActionRecord {
  /** Nova's action name: create, stop, start, reboot, shelve, evacuate, ... */
  action: string;
  requestId: string;
  /** `start_time`, wall-clock ms. */
  atMs: number;
  /** The requesting user; null when Nova acted by itself (an admin context without a user, e.g. its power-state sync). */
  userId: string | null;
  /** Nova's `message` is "Error": an event of the action failed. */
  failed: boolean;
}

/** A protected instance found SHUTOFF or in ERROR. */
export interface RecoveryCandidate {
  id: string;
  name: string;
  /** `namespace/name` of the policy that protects it. */
  policy: string;
  /** Priority of its restart tier (higher first); 0 for the last tier. */
  tierPriority: number;
  status: "SHUTOFF" | "ERROR";
  /** Nova's task_state; anything but null means an operation is in progress. */
  taskState: string | null;
  /** nova-compute service host; absent when the instance was never placed. */
  host?: string;
  /** Nova's host_status (2.16+): UP, DOWN, MAINTENANCE, UNKNOWN or "". */
  hostStatus?: string;
  locked: boolean;
  lockedReason?: string;
  /** Why the guest stopped, when the host agent saw it in libvirt's events (absent: unknown). */
  stopCause?: "GuestShutdown" | "Crash";
  /** Newest first. Absent when not read: an instance stopped by a gate needs no history. */
  actions?: NovaActionRecord[];
}

/** What the operator knows about a compute host, from its ComputeHost and Incidents. */
export interface HostFacts {
  serviceHost: string;
  /** ComputeHost status.health.state: Healthy, Degraded, Suspect, Failed, Unknown. */
  health?: string;
  maintenance: boolean;
  /** Name of an Incident still open on the host. */
  openIncident?: string;
}

export interface InstanceRecoveryInput {
  nowMs: number;
  /** vmkeeper's own Keystone user id: its start/reboot/evacuate actions count against the budget. Unknown: every start/reboot/evacuate counts. */
  selfUserId?: string;
  policies: readonly InstanceRecoverySettings[];
  hosts: readonly HostFacts[];
  candidates: readonly RecoveryCandidate[];
  /** Keys of the reports already made (each report is made once per cause). */
  reported: readonly string[];
  /**
   * Informational reports (a user's stop, an honoured shutdown) only for stops since then:
   * older ones were reported by an earlier leader or are history. Undefined: all.
   */
  announceSinceMs?: number;
  /** Restarts sent per pass at most (the rest wait for the next pass). */
  maxRestartsPerPass: number;
}

export type RestartKind = "Start" | "HardReboot";

export interface PlannedRestart {
  kind: RestartKind;
  instanceId: string;
  name: string;
  policy: string;
  /** One line for the Event and the log. */
  reason: string;
  /** vmkeeper's recoveries of the instance within the window before this one. */
  used: number;
  max: number;
}

export type ReportReason =
  | "StoppedByUser"
  | "GuestShutdownHonoured"
  | "InstanceDown"
  | "RestartSkipped"
  | "OperationFailed"
  | "RestartBudgetExhausted"
  | "InstanceRestartFailed";

export interface PlannedReport {
  /** `instanceId/reason/ref`: the same report is not made twice. */
  key: string;
  instanceId: string;
  name: string;
  policy: string;
  type: "Normal" | "Warning";
  reason: ReportReason;
  message: string;
  /** Counted in vmkeeper_instance_recoveries_total when set. */
  metric?: { action: string; result: string };
}

export interface InstanceRecoveryPlan {
  restarts: PlannedRestart[];
  /** New reports only (not made before). */
  reports: PlannedReport[];
  /** The report keys to remember for the next pass (those of instances still down). */
  reported: string[];
  /** One line per instance considered. */
  log: string[];
  /** One line for the whole pass. */
  summary: string;
  /** Look again after this long: a restart interval or a budget slot ends (undefined: nothing pending). */
  requeueAfterMs?: number;
}
