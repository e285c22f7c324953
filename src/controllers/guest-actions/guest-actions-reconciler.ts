import type { ComputeHost, Incident, InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import type { AgentReportTable } from "../../agent-reports/report-table.js";
import { errorMessage } from "../../kube/api-error.js";
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import { NovaError } from "../../openstack/nova-errors.js";
import type { GuestActionPlan, GuestHostFacts } from "../../recovery/guest/guest-action-model.js";
import { GuestEventReason } from "../../recovery/guest/guest-action-model.js";
import { planGuestAction } from "../../recovery/guest/plan-guest-action.js";
import type { Clock } from "../../util/clock.js";
import { classifyConnectionError } from "../openstack-cloud/classify-connection-error.js";
import { toRecord } from "../instance-recovery/instance-action-cache.js";
import { hostFacts } from "../instance-recovery/read-recovery-world.js";
import type { GuestActionMetrics } from "./guest-actions-metrics.js";
import { createHash } from "node:crypto";
import type { VoteOutcome } from "../../guest-heartbeat/host-session.js";
import { voteGate, type VoteAsk, type VoteDecision } from "../../recovery/guest/vote-gate.js";
import { guestSettings, voteTimeoutMs } from "./guest-action-settings.js";
import { locateInstance, type GuestActionsNova, type LocateDeps, type LocatedInstance } from "./locate-instance.js";
import { pendingTriggers, type EpochTrigger } from "./pending-triggers.js";

export interface GuestActionsDeps extends LocateDeps {
  table: AgentReportTable;
  listIncidents: (namespace: string) => Incident[];
  /** vmkeeper's Keystone user id for the cloud, once known (its reboots count against the restart budget). */
  selfUserId: (namespace: string, cloud: string) => string | undefined;
  events: EventRecorder;
  clock: Clock;
  /** Checked before every Nova action: a replica past its renew deadline sends nothing. */
  isLeader: () => boolean;
  metrics?: GuestActionMetrics;
  /** Guest votes over the node agents' links; without it no guest is asked. */
  votes?: GuestVotes;
}

/** How the controller asks a guest to vote and reads the answer (GuestControlHub provides it). */
export interface GuestVotes {
  /** False when no connected node agent has the instance's channel. */
  ask(instanceId: string, request: { actionId: string; action: string; deadlineMs: number; reason?: string }): boolean;
  vote(actionId: string): { outcome: VoteOutcome; reason?: string } | undefined;
}

/** Epochs remembered per instance at most (an instance's reports are state changes: few are live at once). */
const MAX_EPOCHS_PER_INSTANCE = 16;
/** Instances whose handled epochs are remembered at most (the oldest entry goes first; Nova's record still guards it). */
const MAX_INSTANCES = 50_000;
const RETRY_NOT_CONNECTED_MS = 5_000;
const MIN_REQUEUE_MS = 1_000;

/**
 * Corrective actions on what the host agents report (guest heartbeat health, libvirt
 * events), one key per instance UUID, fed by the report table. Per pending report epoch:
 * find the instance and its protecting policy, read Nova's record of it, let the pure
 * planner decide, apply once (a reboot or stop, Events on the policy, the metric). An
 * epoch is acted on once: remembered here, and — across restarts and leader changes —
 * recognised from Nova's instance actions (a power action after the report means it was
 * dealt with).
 */
export class GuestActionsReconciler implements Reconciler {
  private readonly done = new Map<string, string[]>();
  /** The current vote request per instance and report epoch (`id epoch`). */
  private readonly asks = new Map<string, VoteAsk>();
  /** Refusals already turned into an Event (by action id). */
  private readonly refusalsRecorded = new Set<string>();

  constructor(private readonly d: GuestActionsDeps) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const id = req.name.toLowerCase();
    const state = this.d.table.get(id);
    if (!state) {
      this.done.delete(id);
      this.forgetAsks(id, []);
      return;
    }
    const pending = pendingTriggers(state).filter((t) => !this.isDone(id, t.epoch));
    this.forgetAsks(id, pending.map((t) => t.epoch));
    const first = pending[0];
    if (!first) return;
    let located: Awaited<ReturnType<typeof locateInstance>>;
    try {
      located = await locateInstance(this.d, id, first.trigger.host, { signal: ctx.signal });
    } catch (err: unknown) {
      const failure = classifyConnectionError(err);
      if (!failure) throw err;
      ctx.log.info({ instance: id, failure: failure.kind, err: failure.message }, "guest actions: reading the cloud failed; trying again");
      return { requeueAfterMs: RETRY_NOT_CONNECTED_MS };
    }
    if ("notConnected" in located) return { requeueAfterMs: RETRY_NOT_CONNECTED_MS };
    if ("notFound" in located) {
      ctx.log.info({ instance: id, why: located.notFound }, "guest actions: reported instance not found; nothing to do");
      for (const t of pending) this.markDone(id, t.epoch);
      return;
    }
    const wakes: number[] = [];
    for (const t of pending) {
      const wake = await this.handle(located.found, t, state.lastStarted?.at, ctx);
      if (wake !== undefined) wakes.push(wake);
    }
    if (wakes.length === 0) return;
    return { requeueAfterMs: Math.max(MIN_REQUEUE_MS, Math.min(...wakes) - this.d.clock.now().getTime()) };
  }

  /** Plans and applies one epoch; returns when to look again (Wait), else undefined. */
  private async handle(f: LocatedInstance, t: EpochTrigger, startedAt: string | undefined, ctx: ReconcileContext): Promise<number | undefined> {
    const { server, policy } = f;
    const actions = policy ? (await f.nova.listInstanceActions(server.id, {}, { signal: ctx.signal })).map(toRecord).sort((a, b) => b.atMs - a.atMs) : [];
    const nowMs = this.d.clock.now().getTime();
    const selfUserId = this.d.selfUserId(f.namespace, f.cloud);
    const host = this.hostOf(f);
    const plan = planGuestAction({
      nowMs,
      trigger: t.trigger,
      instance: { id: server.id, name: server.name, status: server.status, taskState: server.taskState, locked: server.locked ?? false, ...(server.lockedReason ? { lockedReason: server.lockedReason } : {}), ...(server.host ? { host: server.host } : {}), actions },
      policy: policy ? guestSettings(policy) : undefined,
      ...(host ? { host } : {}),
      ...(startedAt ? { startedAtMs: Date.parse(startedAt) } : {}),
      ...(selfUserId ? { selfUserId } : {}),
    });
    const fields = { instance: server.id, name: server.name, epoch: t.epoch, policy: policy ? `${f.namespace}/${policy.metadata?.name ?? ""}` : undefined, decision: plan.kind };
    if (plan.kind === "Wait") {
      ctx.log.debug(fields, plan.line);
      return plan.untilMs;
    }
    if (plan.kind === "Done") {
      ctx.log.debug(fields, plan.line);
      this.markDone(server.id, t.epoch);
      return undefined;
    }
    if (!this.d.isLeader() || ctx.signal.aborted) {
      ctx.log.info(fields, "not leading any more: guest action left to the next leader");
      return undefined;
    }
    let note: string | undefined;
    if (plan.kind === "Act" && policy) {
      const gate = await this.voteFirst(plan, f, policy, t, nowMs, ctx);
      if ("wakeAtMs" in gate) return gate.wakeAtMs;
      note = gate.note;
    }
    ctx.log.info({ ...fields, ...(note ? { vote: note } : {}) }, plan.line);
    if (policy) await this.apply(plan, f, policy, ctx, note);
    this.markDone(server.id, t.epoch);
    return undefined;
  }

  /**
   * The guest's say before an action (vote-gate): asks it through its node agent, waits for
   * the vote or its deadline, records a refusal and asks again later. Returns when to look
   * again, or that the action may go ahead (with what the vote was).
   */
  private async voteFirst(plan: Extract<GuestActionPlan, { kind: "Act" }>, f: LocatedInstance, policy: InstanceHAPolicy, t: EpochTrigger, nowMs: number, ctx: ReconcileContext): Promise<{ wakeAtMs: number } | { note: string | undefined }> {
    const key = `${f.server.id} ${t.epoch}`;
    const ask = this.asks.get(key);
    const timeoutMs = voteTimeoutMs(policy);
    const vote = ask ? this.d.votes?.vote(ask.actionId) : undefined;
    const decision: VoteDecision = this.d.votes ? voteGate({ trigger: t.trigger, voteTimeoutMs: timeoutMs, nowMs, ask, vote }) : ({ kind: "Proceed" } as const);
    switch (decision.kind) {
      case "Proceed":
        return { note: decision.note };
      case "Wait":
        return { wakeAtMs: decision.untilMs };
      case "Refused": {
        if (ask && !this.refusalsRecorded.has(ask.actionId)) {
          this.refusalsRecorded.add(ask.actionId);
          this.d.metrics?.({ action: plan.metricAction, result: "RefusedByGuest" });
          ctx.log.info({ instance: f.server.id, actionId: ask.actionId, reason: decision.reason }, "guest refused the corrective action");
          await this.d.events.record(policy, "Normal", GuestEventReason.GuestActionRefused, plan.action, `${f.server.name} (${f.server.id}): the guest refused the ${verbOf(plan)}${decision.reason ? ` (${decision.reason})` : ""}; asking again at ${new Date(decision.reaskAtMs).toISOString()} while the report stands`);
        }
        return { wakeAtMs: decision.reaskAtMs };
      }
      case "Ask": {
        const actionId = `ga-${createHash("sha256").update(key).digest("hex").slice(0, 16)}-${decision.attempt}`;
        const sent = this.d.votes?.ask(f.server.id, { actionId, action: plan.action === "HardReboot" ? "reboot" : "stop", deadlineMs: timeoutMs, reason: plan.line.slice(0, 256) }) ?? false;
        this.asks.set(key, { actionId, attempt: decision.attempt, askedAtMs: nowMs, sent });
        ctx.log.info({ instance: f.server.id, actionId, sent }, sent ? "asked the guest to vote on the corrective action" : "guest vote not asked: no node agent link has its channel");
        // Decide again now: unsent goes ahead at once, sent waits for the vote.
        return this.voteFirst(plan, f, policy, t, nowMs, ctx);
      }
    }
  }

  private async apply(plan: Extract<GuestActionPlan, { kind: "Act" | "Report" }>, f: LocatedInstance, policy: InstanceHAPolicy, ctx: ReconcileContext, voteNote?: string): Promise<void> {
    for (const e of plan.events) await this.d.events.record(policy, e.type, e.reason, "Observe", e.message);
    if (plan.kind === "Report") {
      if (plan.metric) this.d.metrics?.(plan.metric);
      return;
    }
    const nova: GuestActionsNova = f.nova;
    const verb = verbOf(plan);
    try {
      const requestId = plan.action === "HardReboot" ? await nova.hardRebootServer(f.server.id, { signal: ctx.signal }) : await nova.stopServer(f.server.id, { signal: ctx.signal });
      this.d.metrics?.({ action: plan.metricAction, result: "Accepted" });
      ctx.log.info({ instance: f.server.id, action: plan.action, requestId }, `guest action: ${verb} accepted by Nova`);
      await this.d.events.record(policy, plan.actedEvent.type, plan.actedEvent.reason, plan.action, `${plan.actedEvent.message} (request ${requestId ?? "unknown"}${voteNote ? `; ${voteNote}` : ""})`);
    } catch (err: unknown) {
      const novaErr = err instanceof NovaError ? err : undefined;
      const unknown = novaErr ? novaErr.outcomeUnknown || novaErr.status === undefined : true;
      this.d.metrics?.({ action: plan.metricAction, result: unknown ? "Failed" : "Refused" });
      ctx.log.warn({ instance: f.server.id, action: plan.action, err: errorMessage(err) }, `guest action: ${verb} failed`);
      const why = unknown ? `no clear answer (${errorMessage(err)})` : `Nova refused it: ${novaErr?.message ?? errorMessage(err)}`;
      await this.d.events.record(policy, "Warning", GuestEventReason.GuestActionFailed, plan.action, `${f.server.name} (${f.server.id}): ${verb} failed: ${why}; not retried for this report`);
    }
  }

  private hostOf(f: LocatedInstance): GuestHostFacts | undefined {
    const serviceHost = f.server.host ?? f.computeHost.spec.serviceHost;
    const hosts: ComputeHost[] = this.d.listHosts(f.namespace).filter((h) => h.spec.cloudRef.name === f.cloud);
    const facts = hostFacts(hosts, this.d.listIncidents(f.namespace).filter((i) => i.spec.cloudRef.name === f.cloud)).find((h) => h.serviceHost === serviceHost);
    if (!facts) return undefined;
    return { maintenance: facts.maintenance, ...(facts.health ? { health: facts.health } : {}), ...(facts.openIncident ? { openIncident: facts.openIncident } : {}) };
  }

  /** Drops vote requests of the instance's reports that no longer call for an action (the guest recovered, a newer report came). */
  private forgetAsks(id: string, live: readonly string[]): void {
    for (const [key, ask] of this.asks) {
      if (!key.startsWith(`${id} `) || live.includes(key.slice(id.length + 1))) continue;
      this.asks.delete(key);
      this.refusalsRecorded.delete(ask.actionId);
    }
  }

  private isDone(id: string, epoch: string): boolean {
    return this.done.get(id)?.includes(epoch) ?? false;
  }

  private markDone(id: string, epoch: string): void {
    const ask = this.asks.get(`${id} ${epoch}`);
    if (ask) {
      this.asks.delete(`${id} ${epoch}`);
      this.refusalsRecorded.delete(ask.actionId);
    }
    const list = this.done.get(id) ?? [];
    if (!list.includes(epoch)) list.push(epoch);
    if (list.length > MAX_EPOCHS_PER_INSTANCE) list.splice(0, list.length - MAX_EPOCHS_PER_INSTANCE);
    this.done.delete(id);
    this.done.set(id, list);
    while (this.done.size > MAX_INSTANCES) {
      const oldest = this.done.keys().next();
      if (oldest.done) break;
      this.done.delete(oldest.value);
    }
  }
}

function verbOf(plan: Extract<GuestActionPlan, { kind: "Act" }>): string {
  return plan.action === "HardReboot" ? "hard reboot" : "stop";
}
