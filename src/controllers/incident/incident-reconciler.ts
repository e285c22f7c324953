import type { ComputeHost, Incident, IncidentStatus } from "../../api/v1alpha1/index.js";
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { ResourceClient } from "../../kube/resource-client.js";
import type { NovaClient } from "../../openstack/nova-client.js";
import { NovaConflictError, NovaError, NovaNotFoundError, NovaServiceStillUpError } from "../../openstack/nova-errors.js";
import { planIncidentStep } from "../../recovery/workflow/plan-incident-step.js";
import type { InstanceNovaState, ProtectedInstance, WorkflowAction, WorkflowInput, WorkflowSettings } from "../../recovery/workflow/workflow-model.js";
import type { Clock } from "../../util/clock.js";
import type { FencingProvider } from "./fencing-provider.js";
import type { IncidentNotifier } from "./incident-notifier.js";
import type { ProtectionSource } from "./protection-source.js";

export interface IncidentReconcilerDeps {
  incidents: ResourceClient<Incident>;
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
}

const TERMINAL = new Set(["Recovered", "Failed", "Suppressed", "Notified"]);
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

async function readHost(nova: NovaClient, serviceHost: string): Promise<WorkflowInput["host"]> {
  const [service] = await nova.listServices({ binary: "nova-compute", host: serviceHost });
  return { serviceHost, ...(service ? { serviceId: service.id } : {}), forcedDown: service?.forcedDown ?? false, disabled: service?.status === "disabled", ...(service?.disabledReason ? { disabledReason: service.disabledReason } : {}) };
}

async function readInstances(nova: NovaClient, ids: string[]): Promise<Map<string, InstanceNovaState>> {
  const states = new Map<string, InstanceNovaState>();
  await Promise.all(
    ids.map(async (id) => {
      try {
        const s = await nova.getServer(id);
        states.set(id, { id, host: s.host ?? null, status: s.status, taskState: s.taskState, locked: s.locked ?? false, lockedReason: s.lockedReason ?? null });
      } catch (err: unknown) {
        if (!(err instanceof NovaNotFoundError)) throw err;
      }
    }),
  );
  return states;
}

export class IncidentReconciler implements Reconciler {
  private readonly protection = new Map<string, Protection>();

  constructor(private readonly d: IncidentReconcilerDeps) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    let incident = await this.d.incidents.get(req.namespace, req.name);
    if (!incident || TERMINAL.has(incident.status?.phase ?? "")) return;
    // The host monitor sets Confirmed or Suppressed right after creating a HostFailure incident;
    // acting before that could start a recovery a safety gate is about to hold back.
    if (!incident.status?.phase && incident.spec.trigger !== "Manual") return;
    const ns = req.namespace ?? "";
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
        if (TERMINAL.has(step.status.phase ?? "")) {
          this.forget(incident);
          await this.d.notifier.incidentFinished(incident);
          this.d.observe?.(incident);
          await this.d.events.record(incident, step.status.phase === "Recovered" || step.status.phase === "Notified" ? "Normal" : "Warning", step.status.phase ?? "Finished", "Recover", step.log.at(-1) ?? "");
          return;
        }
        return { requeueAfterMs: step.requeueAfterMs ?? 2000 };
      }
      // Intent first: the compare-and-swap write that every side effect hangs on.
      const withIntent: IncidentStatus = {
        ...step.status,
        intent: { action: intentAction(step.action), ...(targetOf(step.action) ? { target: targetOf(step.action) } : {}), recordedAt: this.d.clock.now().toISOString() },
        leader: this.d.leader(),
      };
      incident = await this.write(incident, withIntent);
      const resumed = pendingIntent && pendingIntent.action === withIntent.intent?.action && pendingIntent.target === withIntent.intent.target ? pendingIntent : undefined;
      pendingIntent = undefined;
      const after = await this.perform(step.action, incident, world, nova, ctx, resumed?.recordedAt);
      incident = await this.write(incident, { ...after, intent: undefined });
      if (after.phase === "FencingFailed") return { requeueAfterMs: FENCE_RETRY_MS };
      world = await this.refresh(world, step.action, incident, nova, protection);
    }
    return { requeueAfterMs: 1000 };
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

  private async readWorld(incident: Incident, ns: string, serviceHost: string, nova: NovaClient): Promise<WorkflowInput> {
    const protection = await this.protectionOf(incident, ns, serviceHost, nova);
    const tracked = incident.status?.instances?.map((i) => i.id) ?? protection.instances.map((p) => p.id);
    const [host, states] = await Promise.all([readHost(nova, serviceHost), readInstances(nova, tracked)]);
    return this.input(incident, host, states, protection);
  }

  /** After a side effect, re-reads only what it changed. */
  private async refresh(prev: WorkflowInput, action: WorkflowAction, incident: Incident, nova: NovaClient, protection: Protection): Promise<WorkflowInput> {
    let host = prev.host;
    const states = new Map(prev.nova);
    if (action.kind === "ForceDown" || action.kind === "DisableService") host = await readHost(nova, prev.host.serviceHost);
    if ("id" in action) {
      states.delete(action.id);
      for (const [id, st] of await readInstances(nova, [action.id])) states.set(id, st);
    }
    return this.input(incident, host, states, protection);
  }

  private input(incident: Incident, host: WorkflowInput["host"], states: Map<string, InstanceNovaState>, protection: Protection): WorkflowInput {
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
    };
  }

  /** Performs one side effect and returns the status with its result recorded. */
  private async perform(action: WorkflowAction, incident: Incident, input: WorkflowInput, nova: NovaClient, ctx: ReconcileContext, resumedSince?: string): Promise<IncidentStatus> {
    const status: IncidentStatus = structuredClone(incident.status ?? {});
    const now = (): string => this.d.clock.now().toISOString();
    switch (action.kind) {
      case "Notify":
        await this.d.notifier.incidentDetected(incident);
        status.notification = { ...status.notification, sentAt: now() };
        status.timestamps = { ...status.timestamps, confirmedAt: status.timestamps?.confirmedAt ?? now() };
        return status;
      case "Fence": {
        const outcome = await this.d.fencing.fence({ namespace: incident.metadata?.namespace ?? "", hostName: incident.spec.hostRef.name, serviceHost: input.host.serviceHost, epoch: incident.spec.epoch, signal: ctx.signal });
        status.fencing = { ...status.fencing, attempts: (status.fencing?.attempts ?? 0) + 1 };
        if (outcome.kind === "PowerOff") {
          status.fencing.powerReadBackOff = true;
          status.fencing.level = outcome.level;
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
      case "LockInstance":
        await nova.lockServer(action.id, action.reason);
        setInstance(status, action.id, { state: "Locked" });
        return status;
      case "UnlockInstance":
        await nova.unlockServer(action.id);
        return status;
      case "Evacuate":
        return this.evacuate(action.id, status, incident, nova, ctx, resumedSince);
    }
  }

  private async evacuate(id: string, status: IncidentStatus, incident: Incident, nova: NovaClient, ctx: ReconcileContext, resumedSince?: string): Promise<IncidentStatus> {
    const nowIso = this.d.clock.now().toISOString();
    const inst = status.instances?.find((i) => i.id === id);
    if (!inst) return status;
    // A previous process recorded this intent and died: did Nova accept it?
    if (resumedSince && (await nova.findInstanceActions(id, "evacuate", new Date(resumedSince))).length > 0) {
      ctx.log.info({ instance: id }, "evacuation accepted before the restart; not sending it again");
      Object.assign(inst, { state: "Evacuating", attempts: (inst.attempts ?? 0) + 1, startedAt: resumedSince });
      status.timestamps = { ...status.timestamps, firstEvacuationAt: status.timestamps?.firstEvacuationAt ?? resumedSince };
      return status;
    }
    try {
      await nova.evacuateServer(id);
      Object.assign(inst, { state: "Evacuating", attempts: (inst.attempts ?? 0) + 1, startedAt: nowIso, message: "evacuation accepted by Nova" });
      status.timestamps = { ...status.timestamps, firstEvacuationAt: status.timestamps?.firstEvacuationAt ?? nowIso };
      await this.d.events.record(incident, "Normal", "Evacuating", "Evacuate", `evacuating ${inst.name ?? id} from ${incident.spec.serviceHost ?? incident.spec.hostRef.name}`);
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
    return status;
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

function intentAction(a: WorkflowAction): "FenceLevel" | "ForceDown" | "DisableService" | "LockInstance" | "Evacuate" | "UnlockInstance" | "Notify" {
  switch (a.kind) {
    case "Fence":
      return "FenceLevel";
    default:
      return a.kind;
  }
}

function targetOf(a: WorkflowAction): string | undefined {
  return "id" in a ? a.id : undefined;
}

function setInstance(status: IncidentStatus, id: string, patch: Partial<NonNullable<IncidentStatus["instances"]>[number]>): void {
  const inst = status.instances?.find((i) => i.id === id);
  if (inst) Object.assign(inst, patch);
}
