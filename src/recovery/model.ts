/**
 * The recovery core's vocabulary. Everything here is plain data: the host monitor and the
 * incident executor (side effects) translate between it and the Kubernetes/Nova world, and
 * the pure functions in src/recovery/ decide. Times are milliseconds on the controller's
 * monotonic clock unless named `...Iso`.
 */

/** How one host looks to the controller in one observation pass. */
export interface HostObservation {
  /** ComputeHost name, e.g. `lab.compute-1`. */
  name: string;
  serviceHost: string;
  aggregates: string[];
  availabilityZone?: string;
  /** spec.maintenance.enabled: no new fencing or recovery. */
  maintenance: boolean;
  /** Last authenticated heartbeat received by this replica; undefined = never seen. */
  heartbeatLastSeenMs?: number;
  /**
   * What the host's peers report about it within the confirmation window: how many peers
   * reported at all, and how many of those cannot reach it.
   */
  peers: { reporting: number; unreachable: number };
  /** Nova's view from the latest read (`unknown` when Nova could not be read). */
  nova: {
    state: "up" | "down" | "unknown";
    forcedDown: boolean;
    disabled: boolean;
    readAtMs?: number;
    /**
     * Since when (monotonic) this replica has seen the service down or forced down without a
     * break, carried by the caller. Optional: when it is earlier than the last heartbeat, Nova
     * already said "down" while the host was heartbeating, so its "down" says nothing about the
     * silence and does not corroborate it (see assessHost).
     */
    downSinceMs?: number;
  };
  /** The open incident on this host, if any. */
  openIncident?: { name: string; epoch: number; phase: string };
  /** The highest failure epoch ever used for this host (ComputeHost status.epoch). */
  lastEpoch: number;
}

/** Host monitoring and storm protection in force for one cloud (see mergeDetectionSettings). */
export interface DetectionSettings {
  heartbeatIntervalMs: number;
  missedHeartbeats: number;
  confirmationWindowMs: number;
  /**
   * `PeersAndNova` is never written in a policy: mergeDetectionSettings produces it when one
   * policy asks for Peers and another for Nova (both must then agree).
   */
  corroboration: "PeersOrNova" | "Peers" | "Nova" | "PeersAndNova";
  /** Count, or a percentage string like "33%", of the cloud's hosts. */
  maxUnhealthy: number | string;
  perAggregate: { aggregate: string; maxUnhealthy: number | string }[];
  heartbeatCliffPercent: number;
  cooldownMs: number;
  startupGraceMs: number;
  /** Every policy of the cloud is paused (or the operator is). */
  paused: boolean;
  /** How the settings were merged or repaired (for the decision log); optional. */
  notes?: string[];
}

export interface ObserverHealth {
  /** The controller's last Kubernetes API write/renew succeeded within the renew deadline. */
  kubeApiOk: boolean;
  /** When this replica started leading (startup grace counts from here). */
  leadingSinceMs: number;
}

/** A host failure confirmed earlier (open or finished incident), for the storm threshold. */
export interface RecentFailure {
  host: string;
  aggregates: string[];
  atMs: number;
}

export interface DetectionInput {
  nowMs: number;
  hosts: HostObservation[];
  settings: DetectionSettings;
  observer: ObserverHealth;
  recentFailures: RecentFailure[];
}

export type HostHealthState = "Healthy" | "Degraded" | "Suspect" | "Failed" | "Unknown";

export interface Evidence {
  source: "Heartbeat" | "Nova" | "Peers" | "Operator";
  observation: string;
}

export interface HostAssessment {
  name: string;
  state: HostHealthState;
  /** Monotonic time since which the host is in this state (carried by the caller between passes). */
  evidence: Evidence[];
}

/** One safety gate's verdict. Gates are evaluated in order; the first blocking one wins. */
export interface GateResult {
  gate: "KubeApiUnreachable" | "ObserverIsolated" | "HeartbeatCliff" | "StormThreshold" | "AggregateStormThreshold" | "StartupGrace" | "Paused" | "Maintenance";
  blocked: boolean;
  /** Why the gate fails closed or open, for the decision log and the Incident. */
  reason: string;
  message: string;
}

export interface DetectionDecision {
  assessments: HostAssessment[];
  /** Failed hosts for which an Incident must be opened now (epoch = lastEpoch + 1). */
  open: { host: string; epoch: number; evidence: Evidence[] }[];
  /** Failed hosts held back by a gate (an Incident is opened in phase Suppressed). */
  suppressed: { host: string; epoch: number; gate: GateResult; evidence: Evidence[] }[];
  /**
   * Hosts whose incident is in phase Suppressed, still Failed, and no longer blocked by any
   * gate: the same epoch proceeds (no new Incident).
   */
  release: { host: string; epoch: number; evidence: Evidence[] }[];
  /** Suppressed incidents still blocked: the gate blocking them now (it may have changed). */
  held: { host: string; epoch: number; gate: GateResult }[];
  /**
   * Suppressed incidents whose host has proved alive again (fresh heartbeat): the monitor
   * closes them; a later failure is a new epoch.
   */
  withdraw: { host: string; epoch: number; state: HostHealthState }[];
  /** Failed hosts that get no Incident at all because a per-host gate excludes them (Maintenance). */
  skipped: { host: string; gate: GateResult }[];
  /** Cloud-wide gates evaluated in this pass (for metrics: gates currently closed). */
  gates: GateResult[];
  /** The one summary line per pass: what was seen and decided. */
  log: string;
}
