import type { DetectionSettings } from "../model.js";

export interface DetectionTiming {
  /** Heartbeat silence after which a host is Suspect: interval × missed. */
  suspectAfterMs: number;
  /**
   * Heartbeat silence after which a host may be Failed (if corroborated): the confirmation
   * window, but never before it is Suspect, so Failed always refines Suspect.
   */
  failAfterMs: number;
}

export function detectionTiming(settings: DetectionSettings): DetectionTiming {
  const suspectAfterMs = settings.heartbeatIntervalMs * settings.missedHeartbeats;
  return { suspectAfterMs, failAfterMs: Math.max(suspectAfterMs, settings.confirmationWindowMs) };
}

/**
 * How long the heartbeat has been silent, on the monotonic clock; undefined = never heard.
 * A last-seen time in the future (it cannot happen on one monotonic clock, but a caller may
 * mix clocks, F17) counts as fresh: a clock error must never make a host look dead.
 */
export function heartbeatSilenceMs(nowMs: number, lastSeenMs: number | undefined): number | undefined {
  if (lastSeenMs === undefined) return undefined;
  return Math.max(0, nowMs - lastSeenMs);
}
