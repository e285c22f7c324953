import type { DetectionSettings } from "../model.js";

/**
 * The CRD defaults of InstanceHAPolicy.spec.hostMonitoring and .stormProtection
 * (crds/instancehapolicies.ha.vmkeeper.dev.yaml), in the recovery core's units (ms).
 */
export const DETECTION_DEFAULTS: DetectionSettings = {
  heartbeatIntervalMs: 1000,
  missedHeartbeats: 3,
  confirmationWindowMs: 5000,
  corroboration: "PeersOrNova",
  maxUnhealthy: "50%",
  perAggregate: [],
  heartbeatCliffPercent: 50,
  cooldownMs: 600_000,
  startupGraceMs: 30_000,
  paused: false,
};

/** The CRD's validation ranges; values outside are clamped into them (see normalizeDetectionSettings). */
export const DETECTION_RANGES = {
  heartbeatIntervalMs: { min: 100, max: 60_000 },
  missedHeartbeats: { min: 1, max: 60 },
  confirmationWindowMs: { min: 1000, max: 600_000 },
  heartbeatCliffPercent: { min: 1, max: 100 },
  cooldownMs: { min: 0, max: 86_400_000 },
  startupGraceMs: { min: 0, max: 3_600_000 },
} as const;
