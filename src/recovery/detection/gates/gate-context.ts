import type { DetectionSettings, HostHealthState, HostObservation, ObserverHealth, RecentFailure } from "../../model.js";
import type { DetectionTiming } from "../detection-timing.js";

/** Everything a gate may look at in one pass. Plain data; gates are pure functions of it. */
export interface GateContext {
  nowMs: number;
  /** Already normalized (normalizeDetectionSettings). */
  settings: DetectionSettings;
  timing: DetectionTiming;
  observer: ObserverHealth;
  /** Every host of the cloud, sorted by name. */
  hosts: readonly HostObservation[];
  states: ReadonlyMap<string, HostHealthState>;
  recentFailures: readonly RecentFailure[];
  /**
   * Failed hosts this pass would act on, sorted by name: new failures (no open incident) and
   * hosts whose incident is Suppressed. Hosts in maintenance are never candidates.
   */
  candidates: readonly HostObservation[];
}
