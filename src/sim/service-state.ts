import type { NovaService } from "./nova-types.js";

/** Heartbeat settings (Nova's report_interval and service_down_time), in milliseconds. */
export interface HeartbeatSettings {
  reportIntervalMs: number;
  serviceDownTimeMs: number;
}

/**
 * Monotonic time of the last heartbeat: a running service beats at its start and then every
 * report interval; a stopped one keeps the last beat before it stopped.
 */
export function lastHeartbeatMs(svc: Pick<NovaService, "startedAtMs" | "stoppedAtMs">, nowMs: number, reportIntervalMs: number): number {
  const end = Math.min(svc.stoppedAtMs ?? nowMs, nowMs);
  if (end <= svc.startedAtMs || reportIntervalMs <= 0) return svc.startedAtMs;
  return svc.startedAtMs + Math.floor((end - svc.startedAtMs) / reportIntervalMs) * reportIntervalMs;
}

/** Nova's servicegroup DB driver: up when the last heartbeat is within the down time and not forced down. */
export function serviceIsUp(svc: Pick<NovaService, "startedAtMs" | "stoppedAtMs" | "forcedDown">, nowMs: number, hb: HeartbeatSettings): boolean {
  if (svc.forcedDown) return false;
  return Math.abs(nowMs - lastHeartbeatMs(svc, nowMs, hb.reportIntervalMs)) <= hb.serviceDownTimeMs;
}

/** True when the process is running (heartbeating), whatever Nova currently concludes. */
export function serviceRunning(svc: Pick<NovaService, "stoppedAtMs">): boolean {
  return svc.stoppedAtMs === null;
}
