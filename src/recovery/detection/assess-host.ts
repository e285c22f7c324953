import type { DetectionSettings, Evidence, HostAssessment, HostObservation } from "../model.js";
import { channelEvidence, corroborate } from "./corroborate.js";
import { detectionTiming, heartbeatSilenceMs } from "./detection-timing.js";

/**
 * One host's health in one pass, from the heartbeat silence (monotonic), the peers and Nova.
 *
 * - Unknown: this replica never received a heartbeat from the host. Whatever Nova or the peers
 *   say, it is never Failed: without a heartbeat history, Nova-down or peers-unreachable would
 *   be one channel condemning the host (safety rule 5), and "agent not installed" ≠ "dead".
 *   This holds in every corroboration mode, Nova-only included.
 * - Healthy: the heartbeat is fresh (silent for less than interval × missed).
 * - Degraded: the heartbeat is fresh but Nova says the service is down or forced down:
 *   nova-compute died on a live host (F3). Never Failed, whatever the peers say.
 * - Suspect: silent for at least interval × missed, and either not yet for the confirmation
 *   window or not corroborated by the second channel.
 * - Failed: silent for at least the confirmation window (and interval × missed) AND the second
 *   channel agrees per `corroboration` (see corroborate).
 *
 * Flapping (F15) needs no memory here: one fresh heartbeat moves `heartbeatLastSeenMs`, which
 * resets the silence, so a host is Failed only after a continuous silence of the full window.
 */
export function assessHost(host: HostObservation, settings: DetectionSettings, nowMs: number): HostAssessment {
  const timing = detectionTiming(settings);
  const silence = heartbeatSilenceMs(nowMs, host.heartbeatLastSeenMs);
  const second = corroborate(host, settings.corroboration);
  const operator: Evidence[] = host.maintenance ? [{ source: "Operator", observation: "in maintenance" }] : [];
  const evidence = (heartbeat: string, channels = second.evidence): Evidence[] => [{ source: "Heartbeat", observation: heartbeat }, ...channels, ...operator];

  if (silence === undefined) {
    return { name: host.name, state: "Unknown", evidence: evidence("never received by this replica", channelEvidence(host)) };
  }
  if (silence < timing.suspectAfterMs) {
    const novaDown = host.nova.state === "down" || host.nova.forcedDown;
    return { name: host.name, state: novaDown ? "Degraded" : "Healthy", evidence: evidence(`fresh (${silence} ms ago)`, channelEvidence(host)) };
  }
  const silent = `silent for ${Math.round(silence)} ms (Suspect after ${timing.suspectAfterMs} ms, confirmable after ${timing.failAfterMs} ms)`;
  if (silence < timing.failAfterMs) return { name: host.name, state: "Suspect", evidence: evidence(silent) };
  const verdict = `${second.agrees ? "corroborated" : "not corroborated"} (${settings.corroboration})`;
  return { name: host.name, state: second.agrees ? "Failed" : "Suspect", evidence: evidence(`${silent}; ${verdict}`) };
}
