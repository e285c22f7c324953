import type { HostObservation } from "../model.js";

/**
 * The hosts whose heartbeats tell something about the observer itself (the population of the
 * ObserverIsolated and HeartbeatCliff gates): hosts this replica has heard from at least once,
 * minus hosts whose silence is already explained — in maintenance, forced down in Nova, or with
 * an incident in progress (any phase but Suppressed). Without the exclusions, a cloud with a few
 * fenced or parked hosts would look like a half-deaf observer and block every later recovery.
 */
export function monitoredHosts(hosts: readonly HostObservation[]): HostObservation[] {
  return hosts.filter(
    (h) =>
      h.heartbeatLastSeenMs !== undefined &&
      !h.maintenance &&
      !h.nova.forcedDown &&
      (h.openIncident === undefined || h.openIncident.phase === SUPPRESSED_PHASE),
  );
}

/** The Incident phase of a failure held back by a gate. */
export const SUPPRESSED_PHASE = "Suppressed";
