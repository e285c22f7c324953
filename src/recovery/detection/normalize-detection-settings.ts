import type { DetectionSettings } from "../model.js";
import { DETECTION_DEFAULTS, DETECTION_RANGES } from "./detection-defaults.js";
import { resolveMaxUnhealthy } from "./resolve-max-unhealthy.js";

export interface NormalizedDetectionSettings {
  settings: DetectionSettings;
  /** One line per repaired value, for the decision log. */
  problems: string[];
}

type RangedKey = keyof typeof DETECTION_RANGES;

const CORROBORATIONS: readonly DetectionSettings["corroboration"][] = ["PeersOrNova", "Peers", "Nova", "PeersAndNova"];

/**
 * Repairs settings that slipped past admission (F22) so detection never runs on nonsense:
 * a non-finite number takes the CRD default, a number outside the CRD range is clamped into
 * it, a confirmation window shorter than two heartbeat intervals is stretched to two (the
 * CRD's own rule), an unknown corroboration mode becomes the strictest, PeersAndNova.
 * maxUnhealthy values are kept as given and resolved by resolveMaxUnhealthy where they are
 * used, because a percentage needs the number of hosts; their problems are reported here.
 */
export function normalizeDetectionSettings(input: DetectionSettings): NormalizedDetectionSettings {
  const problems: string[] = [];
  const settings: DetectionSettings = { ...input, perAggregate: [...input.perAggregate] };
  for (const key of Object.keys(DETECTION_RANGES) as RangedKey[]) {
    settings[key] = clampSetting(key, input[key], problems);
  }
  settings.missedHeartbeats = Math.ceil(settings.missedHeartbeats);
  const minWindow = 2 * settings.heartbeatIntervalMs;
  if (settings.confirmationWindowMs < minWindow) {
    problems.push(`confirmationWindowMs ${settings.confirmationWindowMs} shorter than two heartbeat intervals; raised to ${minWindow}`);
    settings.confirmationWindowMs = minWindow;
  }
  if (!CORROBORATIONS.includes(settings.corroboration)) {
    problems.push(`corroboration ${JSON.stringify(settings.corroboration)} unknown; using PeersAndNova`);
    settings.corroboration = "PeersAndNova";
  }
  for (const [label, value] of [["maxUnhealthy", settings.maxUnhealthy] as const, ...settings.perAggregate.map((a) => [`perAggregate ${a.aggregate}`, a.maxUnhealthy] as const)]) {
    const problem = resolveMaxUnhealthy(value, 0).problem;
    if (problem !== undefined) problems.push(label === "maxUnhealthy" ? problem : `${label}: ${problem}`);
  }
  return { settings, problems };
}

function clampSetting(key: RangedKey, value: number, problems: string[]): number {
  const { min, max } = DETECTION_RANGES[key];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    problems.push(`${key} ${String(value)} unusable; default ${DETECTION_DEFAULTS[key]} used`);
    return DETECTION_DEFAULTS[key];
  }
  if (value < min || value > max) {
    const clamped = Math.min(max, Math.max(min, value));
    problems.push(`${key} ${value} outside ${min}..${max}; clamped to ${clamped}`);
    return clamped;
  }
  return value;
}
