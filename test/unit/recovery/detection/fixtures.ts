import { DETECTION_DEFAULTS } from "../../../../src/recovery/detection/detection-defaults.js";
import { detectionTiming } from "../../../../src/recovery/detection/detection-timing.js";
import type { GateContext } from "../../../../src/recovery/detection/gates/gate-context.js";
import type { DetectionSettings, HostHealthState, HostObservation } from "../../../../src/recovery/model.js";

export const NOW = 1_000_000;

/** A healthy, heartbeating host; override what the test is about. */
export function host(name: string, over: Partial<HostObservation> = {}): HostObservation {
  return {
    name,
    serviceHost: name,
    aggregates: [],
    maintenance: false,
    heartbeatLastSeenMs: NOW,
    peers: { reporting: 2, unreachable: 0 },
    nova: { state: "up", forcedDown: false, disabled: false, readAtMs: NOW },
    lastEpoch: 0,
    ...over,
  };
}

/** A host dead for `silentMs` with its peers unable to reach it. */
export function deadHost(name: string, silentMs = 10_000, over: Partial<HostObservation> = {}): HostObservation {
  return host(name, { heartbeatLastSeenMs: NOW - silentMs, peers: { reporting: 2, unreachable: 2 }, ...over });
}

export function context(hosts: HostObservation[], over: Partial<Omit<GateContext, "hosts" | "settings">> & { settings?: Partial<DetectionSettings> } = {}): GateContext {
  const settings = { ...DETECTION_DEFAULTS, ...over.settings };
  const states = new Map<string, HostHealthState>(hosts.map((h) => [h.name, (h.heartbeatLastSeenMs ?? 0) < NOW - 5000 ? "Failed" : "Healthy"]));
  return {
    nowMs: NOW,
    timing: detectionTiming(settings),
    observer: { kubeApiOk: true, leadingSinceMs: 0 },
    states,
    recentFailures: [],
    candidates: hosts.filter((h) => states.get(h.name) === "Failed" && h.openIncident === undefined && !h.maintenance),
    ...over,
    settings,
    hosts,
  };
}
