import type { ComputeHost, Incident, InstanceHAPolicy, OpenStackCloud } from "../../api/v1alpha1/index.js";
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { InstanceRecoveryPlan } from "../../recovery/instance/instance-recovery-model.js";
import { planInstanceRecovery } from "../../recovery/instance/plan-instance-recovery.js";
import type { Clock } from "../../util/clock.js";
import { classifyConnectionError } from "../openstack-cloud/classify-connection-error.js";
import { applyInstanceRecoveryPlan } from "./apply-instance-recovery-plan.js";
import { InstanceActionCache } from "./instance-action-cache.js";
import type { InstanceRecoveryMetrics } from "./instance-recovery-metrics.js";
import { readRecoveryWorld, type InstanceRecoveryNova } from "./read-recovery-world.js";
import { recoveryActive, recoverySettings } from "./recovery-settings.js";

export interface InstanceRecoveryDeps {
  /** The OpenStackCloud `namespace/name` from the informer cache. */
  getCloud: (key: string) => OpenStackCloud | undefined;
  listPolicies: (namespace: string) => InstanceHAPolicy[];
  listHosts: (namespace: string) => ComputeHost[];
  listIncidents: (namespace: string) => Incident[];
  /** The cloud's shared Nova connection; undefined until the OpenStackCloud controller connected it. */
  novaFor: (namespace: string, cloud: string) => InstanceRecoveryNova | undefined;
  /** vmkeeper's Keystone user id for the cloud (from the current token), once known. */
  selfUserId: (namespace: string, cloud: string) => string | undefined;
  events: EventRecorder;
  clock: Clock;
  /** The last lease renew is within the renew deadline (checked before every Nova action). */
  isLeader: () => boolean;
  /** Pass interval per cloud (default 10 s). */
  intervalMs?: number;
  /** Restarts sent per cloud and pass at most (default 10). */
  maxRestartsPerPass?: number;
  /** Instance histories read from Nova per cloud and pass at most (default 50). */
  maxHistoryReadsPerPass?: number;
  metrics?: InstanceRecoveryMetrics;
  /** Why an instance's guest stopped, when the host agent reported it (libvirt events); undefined: unknown. */
  stopCause?: (instanceId: string) => "Crash" | "GuestShutdown" | undefined;
}

const DEFAULT_INTERVAL_MS = 10_000;
/** After a start or a leader change, a user's stop older than this is history, not news. */
const ANNOUNCE_LOOKBACK_MS = 10 * 60_000;
/** Decision lines per summary log line at most. */
const MAX_LOGGED_DECISIONS = 50;
/** Never look again sooner than this, whatever deadline the plan names. */
const MIN_REQUEUE_MS = 1_000;

/**
 * VM-level recovery, one pass per OpenStackCloud (not per policy: one pair of filtered
 * server lists serves every policy of the cloud, and overlaps are resolved across them).
 * Level-triggered: each pass reads what is down now, lets the pure planner decide, sends the
 * restarts once and reports. The restart budget is counted from Nova's instance actions,
 * so nothing but the reports already made (kept here to make each report once) lives in
 * the controller, and a new leader carries on where the old one stopped.
 */
export class InstanceRecoveryReconciler implements Reconciler {
  private readonly caches = new Map<string, InstanceActionCache>();
  private readonly reported = new Map<string, string[]>();
  private readonly lastSummary = new Map<string, string>();
  private readonly announceSinceMs: number;

  constructor(private readonly d: InstanceRecoveryDeps) {
    this.announceSinceMs = d.clock.now().getTime() - ANNOUNCE_LOOKBACK_MS;
  }

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const interval = this.d.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (!this.d.getCloud(req.key)) return this.forget(req.key);
    const ns = req.namespace ?? "";
    const policies = this.d.listPolicies(ns).filter((p) => p.spec.cloudRef.name === req.name && !p.metadata?.deletionTimestamp);
    const settings = policies.map(recoverySettings);
    const nova = this.d.novaFor(ns, req.name);
    if (!settings.some(recoveryActive) || !nova) return { requeueAfterMs: interval };
    const cache = this.caches.get(req.key) ?? new InstanceActionCache();
    this.caches.set(req.key, cache);
    let world: Awaited<ReturnType<typeof readRecoveryWorld>>;
    try {
      world = await readRecoveryWorld({
        nova,
        policies,
        settings,
        computeHosts: this.d.listHosts(ns).filter((h) => h.spec.cloudRef.name === req.name),
        incidents: this.d.listIncidents(ns).filter((i) => i.spec.cloudRef.name === req.name),
        cache,
        nowMs: this.d.clock.monotonicMs(),
        maxHistoryReads: this.d.maxHistoryReadsPerPass ?? 50,
        opts: { signal: ctx.signal },
        ...(this.d.stopCause ? { stopCause: this.d.stopCause } : {}),
      });
    } catch (err: unknown) {
      const failure = classifyConnectionError(err);
      if (!failure) throw err;
      ctx.log.info({ cloud: req.name, failure: failure.kind, err: failure.message }, "instance recovery: reading the cloud failed; trying again next pass");
      return { requeueAfterMs: interval };
    }
    const plan = planInstanceRecovery({
      nowMs: this.d.clock.now().getTime(),
      // Read after the Nova calls: the token (and its user) is known by then.
      selfUserId: this.d.selfUserId(ns, req.name),
      policies: settings,
      hosts: world.hosts,
      candidates: world.candidates,
      reported: this.reported.get(req.key) ?? [],
      announceSinceMs: this.announceSinceMs,
      maxRestartsPerPass: this.d.maxRestartsPerPass ?? 10,
    });
    this.logPlan(req.key, plan, world.historiesRead, ctx);
    const byKey = new Map(policies.map((p) => [`${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`, p]));
    const applied = await applyInstanceRecoveryPlan(plan, { nova, policies: byKey, events: this.d.events, ...(this.d.metrics ? { metrics: this.d.metrics } : {}), isLeader: this.d.isLeader, signal: ctx.signal, log: ctx.log });
    // Reports are remembered only once made: a replica that lost its lease mid-pass makes them again later.
    if (!applied.stopped) this.reported.set(req.key, plan.reported);
    return { requeueAfterMs: Math.max(MIN_REQUEUE_MS, Math.min(interval, plan.requeueAfterMs ?? interval)) };
  }

  /** One summary line per pass: at info when something is done or changed, else at debug. */
  private logPlan(key: string, plan: InstanceRecoveryPlan, historiesRead: number, ctx: ReconcileContext): void {
    const acting = plan.restarts.length > 0 || plan.reports.length > 0;
    const changed = this.lastSummary.get(key) !== plan.log.join("\n");
    this.lastSummary.set(key, plan.log.join("\n"));
    const more = plan.log.length - MAX_LOGGED_DECISIONS;
    const fields = { cloud: key, restarts: plan.restarts.length, reports: plan.reports.length, historiesRead, decisions: plan.log.slice(0, MAX_LOGGED_DECISIONS), ...(more > 0 ? { moreDecisions: more } : {}) };
    if (acting || (changed && plan.log.length > 0)) ctx.log.info(fields, plan.summary);
    else ctx.log.debug(fields, plan.summary);
  }

  private forget(key: string): void {
    this.caches.delete(key);
    this.reported.delete(key);
    this.lastSummary.delete(key);
  }
}
