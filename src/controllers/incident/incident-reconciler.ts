import type { ComputeHost, Incident, IncidentIntent, IncidentStatus } from "../../api/v1alpha1/index.js";
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { ResourceClient } from "../../kube/resource-client.js";
import type { NovaClient } from "../../openstack/nova-client.js";
import { NovaConflictError, NovaError, NovaServiceStillUpError } from "../../openstack/nova-errors.js";
import { withDeliveries } from "../../notify/notification-status.js";
import { hostReturnPending } from "../../recovery/workflow/plan-host-return.js";
import { planIncidentStep } from "../../recovery/workflow/plan-incident-step.js";
import type { EvacuationOrder, InstanceNovaState, ProtectedInstance, ReservedHostState, WorkflowAction, WorkflowInput, WorkflowSettings } from "../../recovery/workflow/workflow-model.js";
import type { Clock } from "../../util/clock.js";
import type { FencingProvider } from "./fencing-provider.js";
import { HostReturnFollower } from "./host-return-follower.js";
import type { IncidentNotifier } from "./incident-notifier.js";
import type { NotificationDeliveries } from "./notification-deliveries.js";
import type { ProtectionSource } from "./protection-source.js";
import { readEvacuationTargets, readHost, readInstances, readReservedHosts } from "./read-incident-world.js";

export interface IncidentReconcilerDeps {
  incidents: Pick<ResourceClient<Incident>, "get" | "updateStatus">;
  /** ComputeHost from the informer cache. */
  getHost: (namespace: string, name: string) => ComputeHost | undefined;
  novaFor: (namespace: string, cloud: string) => NovaClient | undefined;
  protection: ProtectionSource;
  fencing: FencingProvider;
  notifier: IncidentNotifier;
  events: EventRecorder;
  clock: Clock;
  leader: () => { identity: string; leaseEpoch: number };
  /** Records a finished incident and its durations (metrics). */
  observe?: (incident: Incident) => void;
  /** Incidents from the informer cache (a newer incident of a host takes over its return to service). */
  listIncidents: (namespace: string) => Incident[];
  /** Status merge-patch of a ComputeHost (its status.hostReturn). */
  patchHostStatus: (namespace: string, name: string, patch: Record<string, unknown>) => Promise<unknown>;
  /** Webhook delivery reports to fold into status.notification. */
  deliveries?: NotificationDeliveries;
}

/** Phases after which the recovery is over (the host's return to service may still be followed). */
const FINISHED = new Set(["Recovered", "Failed", "Notified"]);
const MAX_STEPS_PER_PASS = 200;
const FENCE_RETRY_MS = 30_000;

/**
 * Drives one Incident through its workflow. Each pass reads the world (the host's Nova
 * service, the tracked instances), asks the pure planner for the next step, and for a
 * side effect first writes the intent to the Incident's status with the resourceVersion it
 * read (compare-and-swap: a second writer, or a deposed leader, fails here) and only then
 * acts. A process killed between intent and result finds the intent on restart and checks
 * Nova (instance actions) before acting again, so nothing is done twice.
 */
interface Protection {
  instances: ProtectedInstance[];
  settings: WorkflowSettings;
}

const IN_FLIGHT = new Set(["Evacuating", "Verifying"]);

export class IncidentReconciler implements Reconciler {
  private readonly protection = new Map<string, Protection>();
  private readonly hostReturn: HostReturnFollower;

  constructor(private readonly d: IncidentReconcilerDeps) {
    this.hostReturn = new HostReturnFollower({ ...d, write: (incident, status) => this.write(incident, status) });
  }

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const ns = req.namespace ?? "";
    let incident = await this.d.incidents.get(req.namespace, req.name);
    if (!incident) return this.d.deliveries?.drop(`${ns}/${req.name}`);
    incident = await this.writeDeliveries(incident, `${ns}/${req.name}`);
    const phase = incident.status?.phase ?? "";
    if (FINISHED.has(phase)) return this.followHostReturn(incident, ns, ctx);
    if (phase === "Suppressed" && (incident.status?.timestamps?.finishedAt || incident.status?.notification?.suppressedSentAt)) return this.forget(incident);
    // The host monitor sets Confirmed or Suppressed right after creating a HostFailure incident;
    // acting before that could start a recovery a safety gate is about to hold back.
    if (!phase && incident.spec.trigger !== "Manual") return;
    const nova = this.d.novaFor(ns, incident.spec.cloudRef.name);
    if (!nova) {
      ctx.log.info({ cloud: incident.spec.cloudRef.name }, "cloud not connected yet; incident waits");
      return { requeueAfterMs: 2000 };
    }
    const host = this.d.getHost(ns, incident.spec.hostRef.name);
    const serviceHost = incident.spec.serviceHost ?? host?.spec.serviceHost ?? incident.spec.hostRef.name;
    // An intent left by a process that died between recording it and recording its result.
    let pendingIntent = incident.status?.intent;
    let world = await this.readWorld(incident, ns, serviceHost, nova);
    const protection = await this.protectionOf(incident, ns, serviceHost, nova);
    for (let i = 0; i < MAX_STEPS_PER_PASS; i++) {
      if (ctx.signal.aborted) return;
      const step = planIncidentStep(world);
      for (const line of step.log) ctx.log.info({ incident: req.name, phase: step.status.phase }, line);
      if (!step.action) {
        incident = await this.write(incident, step.status);
        if (FINISHED.has(step.status.phase ?? "")) return this.finished(incident, nova, ctx, step.log.find((l) => l.startsWith("incident ")) ?? "");
        if (step.status.phase === "Suppressed") return;
        return { requeueAfterMs: step.requeueAfterMs ?? 2000 };
      }
      // Intent first: the compare-and-swap write that every side effect hangs on.
      const intent = intentOf(step.action, this.d.clock.now().toISOString());
      incident = await this.write(incident, { ...step.status, intent, leader: this.d.leader() });
      const resumed = pendingIntent ? resumedTargets(pendingIntent, intent) : new Map<string, string>();
      pendingIntent = undefined;
      const done = await this.perform(step.action, incident, world, nova, ctx, resumed);
      // Results first, then the error of any part whose outcome is unknown: its intent stays
      // (narrowed to those parts) for the next pass to check against Nova.
      incident = await this.write(incident, { ...done.status, intent: done.unsettled ? { ...intent, targets: done.unsettled.targets } : undefined });
      if (done.unsettled) throw done.unsettled.error;
      const after = done.status;
      if (after.phase === "FencingFailed") return { requeueAfterMs: FENCE_RETRY_MS };
      world = await this.refresh(world, step.action, incident, nova, protection);
    }
    return { requeueAfterMs: 1000 };
  }

  private async finished(incident: Incident, nova: NovaClient, ctx: ReconcileContext, summary: string): Promise<ReconcileResult | void> {
    const phase = incident.status?.phase ?? "Finished";
    this.forget(incident);
    await this.d.notifier.incidentFinished(incident);
    this.d.observe?.(incident);
    await this.d.events.record(incident, phase === "Recovered" || phase === "Notified" ? "Normal" : "Warning", phase, "Recover", summary);
    return hostReturnPending(incident.status) ? this.hostReturn.follow(incident, nova, ctx) : undefined;
  }

  /** A finished incident whose host is still on its way back into service (see planHostReturn). */
  private async followHostReturn(incident: Incident, ns: string, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    if (!hostReturnPending(incident.status)) return;
    const nova = this.d.novaFor(ns, incident.spec.cloudRef.name);
    if (!nova) return { requeueAfterMs: 5000 };
    return this.hostReturn.follow(incident, nova, ctx);
  }

  /** Folds webhook delivery reports into status.notification with this reconciler's own CAS write. */
  private async writeDeliveries(incident: Incident, key: string): Promise<Incident> {
    const pending = this.d.deliveries?.take(key);
    if (!pending) return incident;
    const written = await this.write(incident, { ...incident.status, notification: withDeliveries(incident.status?.notification, pending.notification) });
    this.d.deliveries?.ack(key, pending.version);
    return written;
  }

  /**
   * Which instances the incident protects, and the settings in force, resolved once per
   * incident (three Nova list calls) and kept for the process's later passes: the protected
   * set of a failure epoch does not change, and re-resolving it after VMs have left the host
   * would lose their tiers.
   */
  private async protectionOf(incident: Incident, ns: string, serviceHost: string, nova: NovaClient): Promise<Protection> {
    const key = `${ns}/${incident.metadata?.name ?? ""}/${incident.metadata?.uid ?? ""}`;
    const cached = this.protection.get(key);
    if (cached) return cached;
    const servers = await nova.listServers({ host: serviceHost });
    const resolved = await this.d.protection.resolve({ namespace: ns, cloud: incident.spec.cloudRef.name, serviceHost, servers });
    const protection = { instances: resolved.instances, settings: resolved.settings };
    this.protection.set(key, protection);
    return protection;
  }

  /**
   * The host's service, the tracked instances, where their in-flight evacuations go (one
   * migration list, only while some are in flight) and the reserved hosts (one service
   * list, only while an unfinished instance may use one).
   */
  private async readWorld(incident: Incident, ns: string, serviceHost: string, nova: NovaClient): Promise<WorkflowInput> {
    const protection = await this.protectionOf(incident, ns, serviceHost, nova);
    // Notified and Skipped instances are never locked or moved by vmkeeper: nothing to read for them.
    const tracked = incident.status?.instances?.filter((i) => i.state !== "Notified" && i.state !== "Skipped").map((i) => i.id) ?? protection.instances.map((p) => p.id);
    const inFlight = incident.status?.instances?.some((i) => IN_FLIGHT.has(i.state)) ?? false;
    const [host, targets, reserved] = await Promise.all([
      readHost(nova, serviceHost),
      inFlight ? readEvacuationTargets(nova, serviceHost, { since: migrationsSince(incident.spec.detectedAt) }) : Promise.resolve(new Map<string, string>()),
      this.readReserved(incident, ns, nova, protection),
    ]);
    return this.input(incident, host, await readInstances(nova, tracked, targets), protection, reserved);
  }

  /** Reserved hosts named by the policies of instances not recovered yet that may use one. */
  private readReserved(incident: Incident, ns: string, nova: NovaClient, protection: Protection): Promise<ReservedHostState[]> {
    const open = new Set((incident.status?.instances ?? []).filter((i) => i.state === "Pending" || i.state === "Locked" || IN_FLIGHT.has(i.state)).map((i) => i.id));
    const names = protection.instances.filter((p) => p.methods.includes("ReservedHost") && (!incident.status?.instances || open.has(p.id))).flatMap((p) => p.reservedHosts);
    return readReservedHosts(nova, names, (name) => this.d.getHost(ns, name));
  }

  /** After a side effect, re-reads only what it changed. */
  private async refresh(prev: WorkflowInput, action: WorkflowAction, incident: Incident, nova: NovaClient, protection: Protection): Promise<WorkflowInput> {
    let host = prev.host;
    let reserved = prev.reservedHosts;
    const states = new Map(prev.nova);
    if (action.kind === "ForceDown" || action.kind === "DisableService") host = await readHost(nova, prev.host.serviceHost);
    if (action.kind === "EnableReservedHost") reserved = await this.readReserved(incident, incident.metadata?.namespace ?? "", nova, protection);
    const ids = instancesOf(action);
    if (ids.length > 0) {
      const since = migrationsSince(incident.spec.detectedAt);
      const targets = action.kind !== "Evacuate" ? new Map<string, string>() : ids.length === 1 ? await readEvacuationTargets(nova, prev.host.serviceHost, { instanceUuid: ids[0] }) : await readEvacuationTargets(nova, prev.host.serviceHost, since ? { since } : {});
      for (const id of ids) states.delete(id);
      for (const [id, st] of await readInstances(nova, ids, targets)) states.set(id, st);
    }
    return this.input(incident, host, states, protection, reserved);
  }

  private input(incident: Incident, host: WorkflowInput["host"], states: Map<string, InstanceNovaState>, protection: Protection, reservedHosts: ReservedHostState[]): WorkflowInput {
    const now = this.d.clock.now();
    return {
      nowIso: now.toISOString(),
      nowMs: now.getTime(),
      incidentName: incident.metadata?.name ?? "",
      status: incident.status ?? {},
      host,
      protectedInstances: protection.instances,
      nova: states,
      settings: protection.settings,
      reservedHosts,
    };
  }

  /** Performs one side effect (a batch: each part at once) and returns the status with the results recorded. */
  private async perform(action: WorkflowAction, incident: Incident, input: WorkflowInput, nova: NovaClient, ctx: ReconcileContext, resumed: ReadonlyMap<string, string>): Promise<Performed> {
    const status: IncidentStatus = structuredClone(incident.status ?? {});
    if (action.kind === "UnlockInstances" || action.kind === "Evacuate") {
      const parts =
        action.kind === "Evacuate"
          ? action.orders.map((o) => ({ id: o.id, run: () => this.evacuate(o, status, incident, nova, ctx, resumed.get(o.id)) }))
          : action.ids.map((id) => ({ id, run: () => nova.unlockServer(id) }));
      const results = await Promise.allSettled(parts.map((p) => p.run()));
      const failed = parts.filter((_, i) => results[i]?.status === "rejected");
      const first = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      return { status, ...(first ? { unsettled: { targets: failed.map((p) => p.id), error: first.reason as unknown } } : {}) };
    }
    return { status: await this.performOne(action, status, incident, input, nova, ctx) };
  }

  private async performOne(action: Exclude<WorkflowAction, { kind: "UnlockInstances" | "Evacuate" }>, status: IncidentStatus, incident: Incident, input: WorkflowInput, nova: NovaClient, ctx: ReconcileContext): Promise<IncidentStatus> {
    const now = (): string => this.d.clock.now().toISOString();
    switch (action.kind) {
      case "Notify":
        if (action.event === "suppressed") {
          await this.d.notifier.incidentSuppressed(incident);
          status.notification = { ...status.notification, suppressedSentAt: now() };
          return status;
        }
        await this.d.notifier.incidentDetected(incident);
        status.notification = { ...status.notification, sentAt: now() };
        status.timestamps = { ...status.timestamps, confirmedAt: status.timestamps?.confirmedAt ?? now() };
        return status;
      case "Fence": {
        const outcome = await this.d.fencing.fence({ namespace: incident.metadata?.namespace ?? "", hostName: incident.spec.hostRef.name, serviceHost: input.host.serviceHost, epoch: incident.spec.epoch, signal: ctx.signal });
        status.fencing = { ...status.fencing, attempts: (status.fencing?.attempts ?? 0) + 1 };
        if (outcome.kind !== "NotConfigured") {
          status.fencing.hostFencingRef = outcome.hostFencing ? { name: outcome.hostFencing } : undefined;
          status.fencing.devices = outcome.devices.slice(-64);
          if (outcome.level) status.fencing.level = outcome.level;
        }
        if (outcome.kind === "PowerOff") {
          status.fencing.powerReadBackOff = true;
          await this.d.events.record(incident, "Normal", "PowerOff", "Fence", `${input.host.serviceHost} fenced by HostFencing ${outcome.hostFencing} level ${outcome.level}: power read back Off`);
        } else if (outcome.kind === "NotConfigured" && input.settings.unsafeSkipPowerFencing) {
          status.fencing.unsafeSkipped = true;
          await this.d.events.record(incident, "Warning", "UnsafeFencingSkipped", "Fence", `${outcome.message}; the policy sets recovery.unsafeSkipPowerFencing, so only Nova force-down stands between the old host and a second copy of its instances`);
        } else {
          status.phase = "FencingFailed";
          await this.d.events.record(incident, "Warning", "FencingFailed", "Fence", `${outcome.message}; nothing will be evacuated until the host is fenced`);
        }
        return status;
      }
      case "ForceDown":
        if (!input.host.serviceId) throw new Error(`Nova has no nova-compute service on host ${input.host.serviceHost}`);
        await nova.forceDownService(input.host.serviceId, true);
        status.fencing = { ...status.fencing, forcedDown: true };
        await this.d.events.record(incident, "Normal", "ForcedDown", "ForceDown", `nova-compute on ${input.host.serviceHost} forced down in Nova`);
        return status;
      case "DisableService":
        if (!input.host.serviceId) throw new Error(`Nova has no nova-compute service on host ${input.host.serviceHost}`);
        await nova.disableService(input.host.serviceId, action.reason);
        status.fencing = { ...status.fencing, serviceDisabled: true };
        return status;
      case "EnableReservedHost":
        await nova.enableService(action.serviceId);
        for (const r of status.reservedHosts ?? []) if (r.name === action.host) r.enabledAt ??= now();
        await this.d.events.record(incident, "Normal", "ReservedHostEnabled", "Evacuate", `reserved host ${action.host} (${action.serviceHost}) enabled in Nova to take the instances of ${input.host.serviceHost}`);
        return status;
    }
  }


  /**
   * Sends one evacuation of a batch: to the scheduler, or to a reserved host (`host`, never
   * forced: Nova's scheduler still checks it). Records its result on its own instance entry;
   * throws when Nova's answer is unknown (the caller keeps the intent for that instance).
   */
  private async evacuate(action: EvacuationOrder, status: IncidentStatus, incident: Incident, nova: NovaClient, ctx: ReconcileContext, resumedSince?: string): Promise<void> {
    const { id } = action;
    const nowIso = this.d.clock.now().toISOString();
    const inst = status.instances?.find((i) => i.id === id);
    if (!inst) return;
    const sent = { state: "Evacuating" as const, method: action.method, ...(action.targetHost ? { targetHost: action.targetHost } : {}) };
    // A previous process recorded this intent and died, or an earlier attempt's answer was
    // refused or never came: did Nova accept it after all? (A refused one records no action.)
    const since = resumedSince ?? (inst.attempts && inst.startedAt ? inst.startedAt : undefined);
    if (since && (await nova.findInstanceActions(id, "evacuate", new Date(since))).length > 0) {
      ctx.log.info({ instance: id }, "evacuation already accepted by Nova; not sending it again");
      Object.assign(inst, { ...sent, attempts: (inst.attempts ?? 0) + 1, startedAt: since });
      status.timestamps = { ...status.timestamps, firstEvacuationAt: earliest(status.timestamps?.firstEvacuationAt, since) };
      return;
    }
    if (action.lockReason) {
      // Right before its evacuation; a lock that fails leaves this part's intent for the next pass.
      await nova.lockServer(id, action.lockReason);
      inst.state = "Locked";
    }
    try {
      await nova.evacuateServer(id, action.targetHost ? { host: action.targetHost } : {});
      Object.assign(inst, { ...sent, attempts: (inst.attempts ?? 0) + 1, startedAt: nowIso, message: `evacuation accepted by Nova${action.targetHost ? ` (to reserved host ${action.targetHost})` : ""}` });
      status.timestamps = { ...status.timestamps, firstEvacuationAt: status.timestamps?.firstEvacuationAt ?? nowIso };
      await this.d.events.record(incident, "Normal", "Evacuating", "Evacuate", `evacuating ${inst.name ?? id} from ${incident.spec.serviceHost ?? incident.spec.hostRef.name}${action.targetHost ? ` to reserved host ${action.targetHost}` : ""}`);
    } catch (err: unknown) {
      const attempts = (inst.attempts ?? 0) + 1;
      const message = err instanceof NovaError ? err.novaMessage || err.message : err instanceof Error ? err.message : String(err);
      if (err instanceof NovaError && err.outcomeUnknown) {
        // Nova may or may not have accepted it: leave the intent's answer to the next pass.
        Object.assign(inst, { attempts, startedAt: nowIso, message: `evacuate outcome unknown (${message}); checking Nova before any retry` });
        throw err;
      }
      const retryable = err instanceof NovaConflictError || err instanceof NovaServiceStillUpError;
      if (retryable && attempts < 5) {
        Object.assign(inst, { state: "Pending", attempts, startedAt: nowIso, message: `Nova refused the evacuation for now: ${message}` });
      } else {
        Object.assign(inst, { state: "Failed", attempts, finishedAt: nowIso, message: `Nova refused the evacuation: ${message}` });
        await this.d.events.record(incident, "Warning", "EvacuationFailed", "Evacuate", `${inst.name ?? id}: ${message}`);
      }
    }
  }

  private forget(incident: Incident): void {
    for (const key of this.protection.keys()) if (key.startsWith(`${incident.metadata?.namespace ?? ""}/${incident.metadata?.name ?? ""}/`)) this.protection.delete(key);
  }

  /** The compare-and-swap status write (PUT with the resourceVersion read); skipped when nothing changed. */
  private async write(incident: Incident, status: IncidentStatus): Promise<Incident> {
    if (jsonEqual(status, incident.status ?? {})) return incident;
    return this.d.incidents.updateStatus({ ...incident, status });
  }
}

/**
 * Bounds the migration list to this failure, with a margin: `changes-since` is compared with
 * Nova's clock, `detectedAt` comes from the controller's. A migration missed through skew
 * would only make a target unknown (more waiting), never allow more than the cap.
 */
function migrationsSince(detectedAt: string): string | undefined {
  const t = Date.parse(detectedAt);
  return Number.isFinite(t) ? new Date(t - 15 * 60_000).toISOString() : undefined;
}

/** What a pass performs: the status with every result, and the parts whose outcome is unknown. */
interface Performed {
  status: IncidentStatus;
  unsettled?: { targets: string[]; error: unknown };
}

/** The intent recorded before an action: a batch names all its instances in `targets`. */
function intentOf(a: WorkflowAction, recordedAt: string): IncidentIntent {
  switch (a.kind) {
    case "Fence":
      return { action: "FenceLevel", recordedAt };
    case "Evacuate":
      return { action: "Evacuate", targets: a.orders.map((o) => o.id), recordedAt };
    case "UnlockInstances":
      return { action: "UnlockInstance", targets: a.ids, recordedAt };
    case "EnableReservedHost":
      return { action: a.kind, target: a.host, recordedAt };
    case "Notify":
      return { action: a.kind, ...(a.event === "suppressed" ? { target: "suppressed" } : {}), recordedAt };
    default:
      return { action: a.kind, recordedAt };
  }
}

/**
 * The parts of the new intent that a dead process's intent already covered, with when that
 * was recorded: for those, Nova is asked (instance actions since then) before acting again.
 */
function resumedTargets(pending: IncidentIntent, next: IncidentIntent): Map<string, string> {
  const out = new Map<string, string>();
  if (pending.action !== next.action || !pending.recordedAt) return out;
  const before = new Set([...(pending.targets ?? []), ...(pending.target ? [pending.target] : [])]);
  for (const t of [...(next.targets ?? []), ...(next.target ? [next.target] : [])]) if (before.has(t)) out.set(t, pending.recordedAt);
  return out;
}

/** The instances an action touches (Nova state to re-read after it). */
function instancesOf(a: WorkflowAction): string[] {
  if (a.kind === "Evacuate") return a.orders.map((o) => o.id);
  return a.kind === "UnlockInstances" ? a.ids : [];
}

function earliest(a: string | undefined, b: string): string {
  return a !== undefined && Date.parse(a) <= Date.parse(b) ? a : b;
}
