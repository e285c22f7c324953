import type { ComputeHost, Incident, InstanceHAPolicy } from "../api/v1alpha1/index.js";
import { observeHosts, recentFailures, type HeartbeatView } from "../controllers/host-monitor/observe-hosts.js";
import type { ComputeService } from "../openstack/nova-types.js";
import { decideDetection, detectionTiming, mergeDetectionSettings } from "../recovery/detection/index.js";
import type { DetectionDecision, GateResult } from "../recovery/model.js";

export interface DetectionWorld {
  nowMs: number;
  /** ComputeHosts of the cloud. */
  hosts: ComputeHost[];
  /** InstanceHAPolicies of the cloud. */
  policies: InstanceHAPolicy[];
  /** Incidents of the cloud. */
  incidents: Incident[];
  /** Nova's nova-compute services (undefined when Nova was not read: the ComputeHosts' mirror is used). */
  services?: ComputeService[];
}

/** What the host monitor would decide for one host of the what-if. */
export type HostVerdict =
  | { kind: "open"; epoch: number }
  | { kind: "suppressed"; epoch: number; gate: GateResult }
  | { kind: "skipped"; gate: GateResult }
  | { kind: "inProgress"; incident: string; phase: string }
  | { kind: "notFailed"; state: string };

export interface HypotheticalDetection {
  verdicts: Map<string, HostVerdict>;
  /** Every gate of the chain as it would be evaluated in that pass, in chain order. */
  gates: GateResult[];
  decision: DetectionDecision;
}

/**
 * The detection pass the host monitor would run once `failing` (ComputeHost names) have
 * been silent for a whole confirmation window, at the same moment, with their peers and Nova
 * agreeing; pure. It feeds the operator's own observation builder (observeHosts) and
 * detection core (decideDetection, with its safety-gate chain) with that hypothetical view:
 * the other hosts heartbeat as their ComputeHost health says (Healthy and Degraded fresh,
 * Suspect and Failed silent since before their health.since, Failed ones unreachable for
 * their peers, Unknown never heard). Assumptions, because they are not
 * visible outside the leader: the Kubernetes API is reachable and the leader's startup grace
 * is over.
 */
export function hypotheticalDetection(world: DetectionWorld, failing: readonly string[]): HypotheticalDetection {
  const active = world.policies.filter((p) => (p.spec.mode ?? "KeepRunning") !== "Disabled");
  const settings = mergeDetectionSettings(active, world.hosts.length);
  const timing = detectionTiming(settings);
  const now = world.nowMs;
  const silentSince = now - timing.failAfterMs - 1;
  const failingSet = new Set(failing);
  const byService = new Map(world.hosts.map((h) => [h.spec.serviceHost, h]));
  const isFailing = (serviceHost: string): boolean => failingSet.has(byService.get(serviceHost)?.metadata?.name ?? "");
  const live = world.hosts.filter((h) => !failingSet.has(h.metadata?.name ?? "") && heardNow(h)).length;
  const heartbeats: HeartbeatView = {
    lastSeenMs: (serviceHost) => {
      if (isFailing(serviceHost)) return silentSince;
      const health = byService.get(serviceHost)?.status?.health;
      if (health?.state === "Healthy" || health?.state === "Degraded") return now;
      if (health?.state !== "Suspect" && health?.state !== "Failed") return undefined;
      // Silent since before it entered its state: its last heartbeat is that long before `since`.
      const since = health.since ? Date.parse(health.since) : NaN;
      const before = health.state === "Failed" ? timing.failAfterMs : timing.suspectAfterMs;
      return Number.isFinite(since) ? Math.min(silentSince, since - before) : silentSince;
    },
    // The failing hosts, and those the monitor already judged Failed, are unreachable for their peers.
    peers: (serviceHost) => (isFailing(serviceHost) || byService.get(serviceHost)?.status?.health?.state === "Failed" ? { reporting: live, unreachable: live } : { reporting: live, unreachable: 0 }),
  };
  const services = (world.services ?? world.hosts.map(serviceFromMirror)).map((s) => (isFailing(s.host) ? { ...s, state: "down" } : s));
  const observations = observeHosts(world.hosts, world.incidents, services, now, heartbeats, (iso) => Date.parse(iso));
  const decision = decideDetection({
    nowMs: now,
    hosts: observations,
    settings,
    observer: { kubeApiOk: true, leadingSinceMs: now - Math.max(settings.startupGraceMs, settings.confirmationWindowMs) - 1 },
    recentFailures: recentFailures(world.incidents, world.hosts, now, now, settings.cooldownMs),
  });
  const verdicts = new Map<string, HostVerdict>();
  for (const name of failing) verdicts.set(name, verdictFor(name, decision, observations.find((o) => o.name === name)?.openIncident));
  return { verdicts, gates: decision.gates, decision };
}

function verdictFor(name: string, d: DetectionDecision, open: { name: string; phase: string } | undefined): HostVerdict {
  const opened = d.open.find((o) => o.host === name) ?? d.release.find((o) => o.host === name);
  if (opened) return { kind: "open", epoch: opened.epoch };
  const held = d.suppressed.find((o) => o.host === name) ?? d.held.find((o) => o.host === name);
  if (held) return { kind: "suppressed", epoch: held.epoch, gate: held.gate };
  const skipped = d.skipped.find((o) => o.host === name);
  if (skipped) return { kind: "skipped", gate: skipped.gate };
  if (open) return { kind: "inProgress", incident: open.name, phase: open.phase };
  return { kind: "notFailed", state: d.assessments.find((a) => a.name === name)?.state ?? "Unknown" };
}

function heardNow(h: ComputeHost): boolean {
  const state = h.status?.health?.state;
  return state === "Healthy" || state === "Degraded";
}

/** The nova-compute service as the inventory mirrored it on the ComputeHost. */
function serviceFromMirror(h: ComputeHost): ComputeService {
  const n = h.status?.nova;
  return {
    id: n?.serviceId ?? "",
    binary: "nova-compute",
    host: h.spec.serviceHost,
    status: n?.status === "Disabled" ? "disabled" : "enabled",
    state: n?.state === "Up" ? "up" : "down",
    forcedDown: n?.forcedDown ?? false,
    disabledReason: n?.disabledReason ?? null,
    updatedAt: n?.updatedAt ?? null,
  };
}
