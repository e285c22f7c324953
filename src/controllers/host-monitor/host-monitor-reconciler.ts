import type { ComputeHost, ComputeHostStatus, Incident, InstanceHAPolicy, OpenStackCloud } from "../../api/v1alpha1/index.js";
import { isAlreadyExists } from "../../kube/api-error.js";
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { ResourceClient } from "../../kube/resource-client.js";
import type { NovaClient } from "../../openstack/nova-client.js";
import type { ComputeService } from "../../openstack/nova-types.js";
import { decideDetection, mergeDetectionSettings } from "../../recovery/detection/index.js";
import type { DetectionDecision, Evidence, HostAssessment } from "../../recovery/model.js";
import type { Clock } from "../../util/clock.js";
import { rfc3339 } from "../../util/time-format.js";
import { isOpen, observeHosts, recentFailures, type HeartbeatView } from "./observe-hosts.js";

export interface HostMonitorDeps {
  getCloud: (key: string) => OpenStackCloud | undefined;
  listHosts: (namespace: string) => ComputeHost[];
  listPolicies: (namespace: string) => InstanceHAPolicy[];
  listIncidents: (namespace: string) => Incident[];
  novaFor: (namespace: string, cloud: string) => NovaClient | undefined;
  heartbeats: (cloud: string, nowMs: number, windowMs: number) => HeartbeatView;
  incidents: ResourceClient<Incident>;
  hosts: ResourceClient<ComputeHost>;
  events: EventRecorder;
  clock: Clock;
  identity: string;
  /** The leader's view: its last lease renew is fresh, and when it started leading. */
  observer: () => { kubeApiOk: boolean; leadingSinceMs: number };
  intervalMs: number;
  metrics?: (cloud: string, decision: DetectionDecision) => void;
}

/** Nova's service list is re-read at most this often, or this often while a host looks bad. */
const NOVA_READ_MS = 10_000;
const NOVA_READ_SUSPECT_MS = 1_000;

/**
 * The host monitor: one pass per cloud every `intervalMs`, on the leader. It turns
 * heartbeats, peer reports and Nova's service states into observations, lets the pure
 * detection core decide, and applies the decision: Incidents named `<host>-<epoch>` (the
 * API server refuses a second one with the same name, F16), Suppressed ones released or
 * withdrawn, and each ComputeHost's health with its evidence.
 */
export class HostMonitorReconciler implements Reconciler {
  private readonly nova = new Map<string, { services: ComputeService[]; readAtMs: number }>();
  private readonly lastLog = new Map<string, string>();

  constructor(private readonly d: HostMonitorDeps) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const cloud = this.d.getCloud(req.key);
    if (!cloud) {
      this.nova.delete(req.key);
      return;
    }
    const ns = req.namespace ?? "";
    const policies = this.d.listPolicies(ns).filter((p) => p.spec.cloudRef.name === req.name && (p.spec.mode ?? "KeepRunning") !== "Disabled");
    const hosts = this.d.listHosts(ns).filter((h) => h.spec.cloudRef.name === req.name);
    const incidents = this.d.listIncidents(ns).filter((i) => i.spec.cloudRef.name === req.name);
    const nowMs = this.d.clock.monotonicMs();
    const nowWall = this.d.clock.now();
    const settings = mergeDetectionSettings(policies, hosts.length);
    const heartbeats = this.d.heartbeats(req.name, nowMs, settings.confirmationWindowMs);
    const services = await this.readServices(req, hosts, heartbeats, nowMs, settings.heartbeatIntervalMs * settings.missedHeartbeats);
    const toMonotonic = (iso: string): number => nowMs - (nowWall.getTime() - Date.parse(iso));
    const observations = observeHosts(hosts, incidents, services?.services, services?.readAtMs, heartbeats, toMonotonic);
    const decision = decideDetection({
      nowMs,
      hosts: observations,
      // With no active policy the merged settings are paused: nothing is opened, only health is kept.
      settings,
      observer: this.d.observer(),
      recentFailures: recentFailures(incidents, hosts, nowWall.getTime(), nowMs, settings.cooldownMs),
    });
    this.logDecision(req.key, decision, ctx);
    this.d.metrics?.(req.name, decision);
    if (policies.length > 0) await this.apply(cloud, decision, hosts, incidents, ctx);
    await this.writeHealth(hosts, decision.assessments, incidents, ns);
    return { requeueAfterMs: this.d.intervalMs };
  }

  private async readServices(req: ReconcileRequest, hosts: ComputeHost[], hb: HeartbeatView, nowMs: number, suspectAfterMs: number): Promise<{ services: ComputeService[]; readAtMs: number } | undefined> {
    const nova = this.d.novaFor(req.namespace ?? "", req.name);
    const cached = this.nova.get(req.key);
    const anySuspect = hosts.some((h) => {
      const seen = hb.lastSeenMs(h.spec.serviceHost);
      return seen !== undefined && nowMs - seen > suspectAfterMs;
    });
    const maxAge = anySuspect ? NOVA_READ_SUSPECT_MS : NOVA_READ_MS;
    if (!nova || (cached && nowMs - cached.readAtMs < maxAge)) return cached;
    try {
      const services = await nova.listServices({ binary: "nova-compute" });
      const fresh = { services, readAtMs: this.d.clock.monotonicMs() };
      this.nova.set(req.key, fresh);
      return fresh;
    } catch {
      // Nova unreachable: its channel is "unknown" for this pass (corroboration falls back to peers).
      return cached && nowMs - cached.readAtMs < NOVA_READ_MS * 3 ? cached : undefined;
    }
  }

  private logDecision(key: string, decision: DetectionDecision, ctx: ReconcileContext): void {
    const acted = decision.open.length + decision.suppressed.length + decision.release.length + decision.withdraw.length > 0;
    if (acted || this.lastLog.get(key) !== decision.log) ctx.log.info({ cloud: key }, decision.log);
    else ctx.log.debug({ cloud: key }, decision.log);
    this.lastLog.set(key, decision.log);
  }

  private async apply(cloud: OpenStackCloud, decision: DetectionDecision, hosts: ComputeHost[], incidents: Incident[], ctx: ReconcileContext): Promise<void> {
    const hostByName = new Map(hosts.map((h) => [h.metadata?.name ?? "", h]));
    for (const o of decision.open) await this.openIncident(cloud, hostByName.get(o.host), o.epoch, o.evidence, undefined, ctx);
    for (const s of decision.suppressed) await this.openIncident(cloud, hostByName.get(s.host), s.epoch, s.evidence, s.gate, ctx);
    const byName = (host: string, epoch: number): Incident | undefined => incidents.find((i) => i.spec.hostRef.name === host && i.spec.epoch === epoch);
    for (const r of decision.release) {
      const inc = byName(r.host, r.epoch);
      if (!inc) continue;
      await this.d.incidents.updateStatus({ ...inc, status: { ...inc.status, phase: "Confirmed", gate: undefined } });
      await this.d.events.record(inc, "Normal", "Released", "Detect", `no safety gate blocks ${r.host} any more; recovery proceeds`);
    }
    for (const w of decision.withdraw) {
      const inc = byName(w.host, w.epoch);
      if (!inc) continue;
      await this.d.incidents.updateStatus({ ...inc, status: { ...inc.status, timestamps: { ...inc.status?.timestamps, finishedAt: this.d.clock.now().toISOString() } } });
      await this.d.events.record(inc, "Normal", "Withdrawn", "Detect", `${w.host} is ${w.state} again; the suppressed failure is closed`);
    }
  }

  private async openIncident(cloud: OpenStackCloud, host: ComputeHost | undefined, epoch: number, evidence: Evidence[], gate: DetectionDecision["suppressed"][number]["gate"] | undefined, ctx: ReconcileContext): Promise<void> {
    if (!host?.metadata?.name) return;
    const name = `${host.metadata.name}-${epoch}`;
    const reason = evidence.map((e) => `${e.source}: ${e.observation}`).join("; ").slice(0, 1000);
    try {
      const created = await this.d.incidents.create({
        apiVersion: "ha.vmkeeper.dev/v1alpha1",
        kind: "Incident",
        metadata: { name, namespace: host.metadata.namespace, labels: { "ha.vmkeeper.dev/cloud": cloud.metadata?.name ?? "", "ha.vmkeeper.dev/host": host.metadata.name.slice(0, 63).replace(/[^A-Za-z0-9]+$/, "") } },
        spec: {
          cloudRef: { name: cloud.metadata?.name ?? "" },
          hostRef: { name: host.metadata.name },
          serviceHost: host.spec.serviceHost,
          epoch,
          trigger: "HostFailure",
          ...(reason ? { reason } : {}),
          detectedAt: this.d.clock.now().toISOString(),
          detectedBy: this.d.identity,
        },
      });
      const status = gate ? { phase: "Suppressed" as const, gate: { name: gate.gate, reason: gate.reason, message: gate.message } } : { phase: "Confirmed" as const };
      await this.d.incidents.updateStatus({ ...created, status });
      ctx.log.info({ incident: name, phase: status.phase, gate: gate?.gate }, gate ? "host failure suppressed by a safety gate" : "host failure confirmed; incident opened");
      await this.d.events.record(created, "Warning", gate ? "Suppressed" : "HostFailureConfirmed", "Detect", gate ? `${host.spec.serviceHost} failed but ${gate.gate} blocks recovery: ${gate.message}` : `${host.spec.serviceHost} failed: ${reason}`);
    } catch (err: unknown) {
      if (!isAlreadyExists(err)) throw err;
      ctx.log.info({ incident: name }, "incident already exists (duplicate detection ignored)");
    }
  }

  /** Health goes to the ComputeHost only when the state or evidence changes (not every heartbeat). */
  private async writeHealth(hosts: ComputeHost[], assessments: HostAssessment[], incidents: Incident[], ns: string): Promise<void> {
    const byName = new Map(assessments.map((a) => [a.name, a]));
    const nowIso = rfc3339(this.d.clock.now());
    for (const h of hosts) {
      const name = h.metadata?.name ?? "";
      const a = byName.get(name);
      if (!a) continue;
      const own = incidents.filter((i) => i.spec.hostRef.name === name);
      const open = own.filter(isOpen).sort((x, y) => y.spec.epoch - x.spec.epoch)[0];
      const openRef = open ? { name: open.metadata?.name ?? "" } : undefined;
      const prev = h.status?.health;
      const evidence = a.evidence.slice(0, 16).map((e) => ({ source: e.source, observation: e.observation.slice(0, 512) }));
      const health: NonNullable<ComputeHostStatus["health"]> = {
        state: a.state,
        since: prev?.state === a.state && prev.since ? prev.since : nowIso,
        evidence,
      };
      const patch: Record<string, unknown> = {};
      const prevEvidence = (prev?.evidence ?? []).map((e) => ({ source: e.source, observation: e.observation }));
      if (prev?.state !== a.state || !jsonEqual(prevEvidence, evidence)) patch.health = health;
      const epoch = Math.max(h.status?.epoch ?? 0, ...own.map((i) => i.spec.epoch));
      if (epoch !== (h.status?.epoch ?? 0)) patch.epoch = epoch;
      if (!jsonEqual(openRef, h.status?.currentIncidentRef)) patch.currentIncidentRef = openRef ?? null;
      if (Object.keys(patch).length > 0) await this.d.hosts.mergePatch(ns, name, { status: patch }, "status");
    }
  }
}
