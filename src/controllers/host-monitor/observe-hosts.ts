import type { ComputeHost, Incident } from "../../api/v1alpha1/index.js";
import type { ComputeService } from "../../openstack/nova-types.js";
import type { HostObservation, RecentFailure } from "../../recovery/model.js";

export const FINISHED_PHASES = new Set(["Recovered", "Failed", "Notified"]);

/** An incident that still concerns its host: in progress, or Suppressed and not withdrawn. */
export function isOpen(i: Incident): boolean {
  const phase = i.status?.phase ?? "Confirmed";
  if (FINISHED_PHASES.has(phase)) return false;
  return !(phase === "Suppressed" && i.status?.timestamps?.finishedAt);
}

export interface HeartbeatView {
  lastSeenMs(host: string): number | undefined;
  peers(host: string): { reporting: number; unreachable: number };
}

/**
 * Builds the detection core's observations for one cloud from what the operator holds:
 * ComputeHosts (maintenance, aggregates, epochs), heartbeats and peer reports, Nova's
 * service list, and the cloud's Incidents.
 */
export function observeHosts(hosts: ComputeHost[], incidents: Incident[], services: ComputeService[] | undefined, servicesReadAtMs: number | undefined, heartbeats: HeartbeatView, toMonotonic: (iso: string) => number): HostObservation[] {
  const byHost = new Map<string, Incident[]>();
  for (const inc of incidents) {
    const list = byHost.get(inc.spec.hostRef.name) ?? [];
    list.push(inc);
    byHost.set(inc.spec.hostRef.name, list);
  }
  const svcByHost = new Map((services ?? []).map((s) => [s.host, s]));
  return hosts.map((h): HostObservation => {
    const name = h.metadata?.name ?? "";
    const own = byHost.get(name) ?? [];
    const lastSeen = heartbeats.lastSeenMs(h.spec.serviceHost);
    const latest = [...own].sort((a, b) => b.spec.epoch - a.spec.epoch)[0];
    // A finished incident still covers its epoch until the host has been heard from again:
    // a host that stays dead after its recovery must not open a new epoch on every pass.
    const stillDown = latest !== undefined && (lastSeen === undefined || lastSeen < toMonotonic(latest.spec.detectedAt));
    const open = latest && (isOpen(latest) || stillDown) ? latest : own.filter(isOpen).sort((a, b) => b.spec.epoch - a.spec.epoch)[0];
    const lastEpoch = Math.max(h.status?.epoch ?? 0, ...own.map((i) => i.spec.epoch));
    const svc = svcByHost.get(h.spec.serviceHost);
    return {
      name,
      serviceHost: h.spec.serviceHost,
      aggregates: h.status?.aggregates ?? [],
      ...(h.status?.availabilityZone ? { availabilityZone: h.status.availabilityZone } : {}),
      maintenance: h.spec.maintenance?.enabled ?? false,
      ...(lastSeen !== undefined ? { heartbeatLastSeenMs: lastSeen } : {}),
      peers: heartbeats.peers(h.spec.serviceHost),
      nova: svc
        ? { state: svc.state === "up" ? "up" : "down", forcedDown: svc.forcedDown, disabled: svc.status === "disabled", ...(servicesReadAtMs !== undefined ? { readAtMs: servicesReadAtMs } : {}) }
        : { state: "unknown", forcedDown: false, disabled: false },
      ...(open ? { openIncident: { name: open.metadata?.name ?? "", epoch: open.spec.epoch, phase: open.status?.phase ?? "Confirmed" } } : {}),
      lastEpoch,
    };
  });
}

/** Failures within the storm window, converted from the Incidents' wall times to monotonic time. */
export function recentFailures(incidents: Incident[], hosts: ComputeHost[], nowWallMs: number, nowMonoMs: number, windowMs: number): RecentFailure[] {
  const aggregates = new Map(hosts.map((h) => [h.metadata?.name ?? "", h.status?.aggregates ?? []]));
  return incidents
    .filter((i) => i.spec.trigger === "HostFailure" && i.status?.phase !== "Suppressed")
    .map((i) => ({ i, at: Date.parse(i.spec.detectedAt) }))
    .filter(({ at }) => Number.isFinite(at) && nowWallMs - at <= windowMs)
    .map(({ i, at }) => ({ host: i.spec.hostRef.name, aggregates: aggregates.get(i.spec.hostRef.name) ?? [], atMs: nowMonoMs - (nowWallMs - at) }));
}
