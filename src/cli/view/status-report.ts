import type { Condition, ComputeHost, Incident } from "../../api/v1alpha1/index.js";
import { isOpen } from "../../controllers/host-monitor/observe-hosts.js";
import { findCondition } from "../../kube/conditions.js";
import { fencingReadiness } from "../../what-if/fencing-readiness.js";
import { hypotheticalDetection } from "../../what-if/hypothetical-detection.js";
import type { LiveState } from "../commands/kube-target.js";

export interface StatusReport {
  namespace: string;
  clouds: { namespace: string; name: string; ready: string; reason: string; hosts: number }[];
  policies: { namespace: string; name: string; cloud: string; mode: string; paused: boolean; protected: number; unprotected: number; hostFailuresTolerated?: number; failoverCapacity: { status: string; reason: string; message: string } }[];
  hosts: { total: number; byState: Record<string, number>; notHealthy: { name: string; state: string; since?: string; evidence?: string; incident?: string }[] };
  incidents: { open: { namespace: string; name: string; host: string; phase: string; detectedAt: string; gate?: string }[]; finished: number };
  gates: { namespace: string; cloud: string; gate: string; reason: string; message: string }[];
  fencing: {
    hostFencings: { namespace: string; name: string; devicesReady: string; reason: string; selected: number; unfenceable: number }[];
    /** Hosts that cannot be power-fenced now (no ready level, conflict, or no HostFencing). */
    unfenceable: { name: string; state: string; message: string }[];
  };
}

const STATES = ["Healthy", "Degraded", "Suspect", "Failed", "Unknown"];

/**
 * The `vmkeeper status` overview from live state; pure. Safety gates closed are the ones
 * the detection chain would report now (evaluated like the host monitor does, from the
 * ComputeHosts' health: see hypotheticalDetection) plus the gate of every Suppressed incident.
 */
export function statusReport(s: LiveState, nowMs: number): StatusReport {
  const ns = (o: { metadata?: { namespace?: string } }): string => o.metadata?.namespace ?? "";
  const name = (o: { metadata?: { name?: string } }): string => o.metadata?.name ?? "";
  const byState: Record<string, number> = Object.fromEntries(STATES.map((st) => [st, 0]));
  for (const h of s.hosts) byState[h.status?.health?.state ?? "Unknown"] = (byState[h.status?.health?.state ?? "Unknown"] ?? 0) + 1;
  const open = s.incidents.filter(isOpen).sort((a, b) => a.spec.detectedAt.localeCompare(b.spec.detectedAt) || name(a).localeCompare(name(b)));
  return {
    namespace: s.namespace ?? "(all)",
    clouds: s.clouds.map((c) => {
      const ready = findCondition(c.status?.conditions, "Ready");
      return { namespace: ns(c), name: name(c), ready: ready?.status ?? "Unknown", reason: ready?.reason ?? "NotChecked", hosts: s.hosts.filter((h) => ns(h) === ns(c) && h.spec.cloudRef.name === name(c)).length };
    }),
    policies: s.policies.map((p) => {
      const fc = findCondition(p.status?.conditions, "FailoverCapacitySufficient");
      return {
        namespace: ns(p),
        name: name(p),
        cloud: p.spec.cloudRef.name,
        mode: p.spec.mode ?? "KeepRunning",
        paused: p.spec.paused ?? false,
        protected: p.status?.protectedCount ?? 0,
        unprotected: p.status?.unprotectedCount ?? 0,
        ...(p.status?.hostFailuresTolerated !== undefined ? { hostFailuresTolerated: p.status.hostFailuresTolerated } : {}),
        failoverCapacity: conditionView(fc),
      };
    }),
    hosts: {
      total: s.hosts.length,
      byState,
      notHealthy: s.hosts
        .filter((h) => (h.status?.health?.state ?? "Unknown") !== "Healthy")
        .map((h) => ({
          name: name(h),
          state: h.status?.health?.state ?? "Unknown",
          ...(h.status?.health?.since ? { since: h.status.health.since } : {}),
          ...(h.status?.health?.evidence?.[0] ? { evidence: `${h.status.health.evidence[0].source}: ${h.status.health.evidence[0].observation}` } : {}),
          ...(h.status?.currentIncidentRef?.name ? { incident: h.status.currentIncidentRef.name } : {}),
        })),
    },
    incidents: {
      open: open.map((i) => ({ namespace: ns(i), name: name(i), host: i.spec.hostRef.name, phase: i.status?.phase ?? "Detected", detectedAt: i.spec.detectedAt, ...(i.status?.gate?.name ? { gate: i.status.gate.name } : {}) })),
      finished: s.incidents.length - open.length,
    },
    gates: closedGates(s, nowMs),
    fencing: {
      hostFencings: s.hostFencings.map((hf) => {
        const c = findCondition(hf.status?.conditions, "DevicesReady");
        return { namespace: ns(hf), name: name(hf), devicesReady: c?.status ?? "Unknown", reason: c?.reason ?? "NotProbed", selected: hf.status?.selectedHostCount ?? 0, unfenceable: hf.status?.unfenceableHostCount ?? 0 };
      }),
      unfenceable: s.hosts.flatMap((h) => {
        const r = fencingReadiness(h, s.hostFencings.filter((hf) => ns(hf) === ns(h)));
        return r.state === "Ready" ? [] : [{ name: name(h), state: r.state, message: r.message }];
      }),
    },
  };
}

function conditionView(c: Condition | undefined): { status: string; reason: string; message: string } {
  return { status: c?.status ?? "Unknown", reason: c?.reason ?? "NotEvaluated", message: c?.message ?? "" };
}

function closedGates(s: LiveState, nowMs: number): StatusReport["gates"] {
  const out: StatusReport["gates"] = [];
  for (const c of s.clouds) {
    const inCloud = <T extends { metadata?: { namespace?: string } }>(list: T[], cloudOf: (t: T) => string): T[] => list.filter((x) => x.metadata?.namespace === c.metadata?.namespace && cloudOf(x) === c.metadata?.name);
    const hosts: ComputeHost[] = inCloud(s.hosts, (h) => h.spec.cloudRef.name);
    const incidents: Incident[] = inCloud(s.incidents, (i) => i.spec.cloudRef.name);
    const policies = inCloud(s.policies, (p) => p.spec.cloudRef.name);
    if (policies.length === 0) continue;
    const seen = new Set<string>();
    for (const g of hypotheticalDetection({ nowMs, hosts, policies, incidents }, []).gates.filter((x) => x.blocked)) {
      seen.add(g.gate);
      out.push({ namespace: c.metadata?.namespace ?? "", cloud: c.metadata?.name ?? "", gate: g.gate, reason: g.reason, message: g.message });
    }
    for (const i of incidents.filter((x) => x.status?.phase === "Suppressed" && isOpen(x))) {
      const g = i.status?.gate;
      if (!g?.name || seen.has(g.name)) continue;
      seen.add(g.name);
      out.push({ namespace: c.metadata?.namespace ?? "", cloud: c.metadata?.name ?? "", gate: g.name, reason: g.reason ?? "", message: `holds incident ${i.metadata?.name ?? ""}: ${g.message ?? ""}` });
    }
  }
  return out;
}
