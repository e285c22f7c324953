import type { ComputeHost, ComputeHostHostReturn, Incident, IncidentStatus } from "../../api/v1alpha1/index.js";
import type { ReconcileContext, ReconcileResult } from "../../kube/controller.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { NovaClient } from "../../openstack/nova-client.js";
import { NovaBadRequestError } from "../../openstack/nova-errors.js";
import { hostReturnPending, planHostReturn, type HostReturnAction } from "../../recovery/workflow/plan-host-return.js";
import type { WorkflowHost } from "../../recovery/workflow/workflow-model.js";
import type { Clock } from "../../util/clock.js";
import { hostFromInventory, readHost } from "./read-incident-world.js";

export interface HostReturnDeps {
  getHost: (namespace: string, name: string) => ComputeHost | undefined;
  listIncidents: (namespace: string) => Incident[];
  /** Status patches of the ComputeHost (only `status.hostReturn` is written). */
  patchHostStatus: (namespace: string, name: string, patch: Record<string, unknown>) => Promise<unknown>;
  events: EventRecorder;
  clock: Clock;
  leader: () => { identity: string; leaseEpoch: number };
  /** The Incident's compare-and-swap status write. */
  write: (incident: Incident, status: IncidentStatus) => Promise<Incident>;
}

const MAX_STEPS = 4;
const REFUSED_RETRY_MS = 10_000;

/**
 * Follows a finished incident's host back into service (planHostReturn decides): reads the
 * host's Nova service and ComputeHost, records the intent before lifting the force-down or
 * enabling the service (both idempotent, re-planned from Nova after a restart), and keeps
 * the ComputeHost's status.hostReturn a copy of the incident's.
 */
export class HostReturnFollower {
  constructor(private readonly d: HostReturnDeps) {}

  async follow(incident: Incident, nova: NovaClient, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const ns = incident.metadata?.namespace ?? "";
    for (let i = 0; i < MAX_STEPS && !ctx.signal.aborted; i++) {
      const host = this.d.getHost(ns, incident.spec.hostRef.name);
      const serviceHost = incident.spec.serviceHost ?? host?.spec.serviceHost ?? incident.spec.hostRef.name;
      const service = await this.service(incident, host, serviceHost, nova);
      const step = planHostReturn({
        nowIso: this.d.clock.now().toISOString(),
        status: incident.status ?? {},
        service,
        health: host?.status?.health?.state,
        hostExists: host !== undefined,
        maintenance: host?.spec.maintenance?.enabled ?? false,
        ...this.newer(incident, ns),
      });
      for (const line of step.log) ctx.log.info({ incident: incident.metadata?.name }, line);
      if (!step.action) {
        incident = await this.d.write(incident, step.status);
        await this.mirror(incident, host);
        return step.requeueAfterMs ? { requeueAfterMs: step.requeueAfterMs } : undefined;
      }
      incident = await this.d.write(incident, { ...step.status, intent: { action: step.action.kind, target: serviceHost, recordedAt: this.d.clock.now().toISOString() }, leader: this.d.leader() });
      const done = await this.perform(step.action, incident, serviceHost, nova);
      incident = await this.d.write(incident, { ...done.status, intent: undefined });
      if (done.retryAfterMs) return { requeueAfterMs: done.retryAfterMs };
    }
    return { requeueAfterMs: 1000 };
  }

  /**
   * Automatic acts, so it reads Nova itself; Manual only watches for a person's change, which
   * the inventory's copy on the ComputeHost shows soon enough (its changes queue this incident)
   * — but only a copy at least as new as the service vmkeeper left at the incident's end: an
   * older one still shows the host as it was before it failed (up, enabled), which is not a
   * person's doing.
   */
  private async service(incident: Incident, host: ComputeHost | undefined, serviceHost: string, nova: NovaClient): Promise<WorkflowHost | undefined> {
    const hr = incident.status?.hostReturn;
    const mirrored = hr?.mode === "Manual" ? hostFromInventory(host, serviceHost) : undefined;
    if (mirrored && notOlder(mirrored.updatedAt, hr?.serviceUpdatedAt)) return mirrored;
    const service = await readHost(nova, serviceHost);
    return service.serviceId ? service : undefined;
  }

  /** A newer incident of the same host (a withdrawn Suppressed one does not count). */
  private newer(incident: Incident, ns: string): { newerIncident?: { name: string; suppressed: boolean } } {
    const withdrawn = (i: Incident): boolean => i.status?.phase === "Suppressed" && !!i.status.timestamps?.finishedAt;
    const newer = this.d.listIncidents(ns).find((i) => i.spec.hostRef.name === incident.spec.hostRef.name && i.spec.epoch > incident.spec.epoch && !withdrawn(i));
    return newer?.metadata?.name ? { newerIncident: { name: newer.metadata.name, suppressed: newer.status?.phase === "Suppressed" } } : {};
  }

  private async perform(action: HostReturnAction, incident: Incident, serviceHost: string, nova: NovaClient): Promise<{ status: IncidentStatus; retryAfterMs?: number }> {
    const status: IncidentStatus = structuredClone(incident.status ?? {});
    const hr = status.hostReturn;
    if (!hr) return { status };
    const now = this.d.clock.now().toISOString();
    try {
      if (action.kind === "LiftForceDown") {
        await nova.forceDownService(action.serviceId, false);
        hr.forceDownLiftedAt = now;
        await this.d.events.record(incident, "Normal", "ForceDownLifted", "HostReturn", `${serviceHost} is back (agent heartbeats, nova-compute reports): its force-down is lifted`);
      } else {
        await nova.enableService(action.serviceId);
        hr.reenabledAt = now;
        await this.d.events.record(incident, "Normal", "HostReenabled", "HostReturn", `nova-compute on ${serviceHost} enabled again (recovery.hostReenable: Automatic)`);
      }
    } catch (err: unknown) {
      // Nova refuses to lift a force-down while evacuations from the host are `done` but not yet
      // cleaned up by its nova-compute: not yet, try again later.
      if (!(err instanceof NovaBadRequestError)) throw err;
      hr.message = `Nova refused for now (${err.novaMessage}); retrying`.slice(0, 1024);
      await this.d.events.record(incident, "Warning", "HostReturnRefused", "HostReturn", `${serviceHost}: ${err.novaMessage}`);
      return { status, retryAfterMs: REFUSED_RETRY_MS };
    }
    return { status };
  }

  /** Keeps the ComputeHost's status.hostReturn a copy of the incident's (unless a newer incident wrote it). */
  private async mirror(incident: Incident, host: ComputeHost | undefined): Promise<void> {
    const name = incident.metadata?.name ?? "";
    const hr = incident.status?.hostReturn;
    if (!host?.metadata?.name || !hr) return;
    const current = host.status?.hostReturn;
    if (current && current.incidentRef.name !== name) {
      // Never over a newer incident's copy (the informer may not show that incident yet here).
      const owner = this.d.listIncidents(host.metadata.namespace ?? "").find((i) => i.metadata?.name === current.incidentRef.name);
      if (hr.state === "Superseded" || (owner && owner.spec.epoch > incident.spec.epoch)) return;
    }
    const desired: ComputeHostHostReturn | null = hr.state === "Superseded" ? null : { incidentRef: { name }, mode: hr.mode, state: hr.state, ...(hr.message ? { message: hr.message } : {}) };
    if (jsonEqual(desired ?? undefined, current)) return;
    await this.d.patchHostStatus(host.metadata.namespace ?? "", host.metadata.name, { hostReturn: desired });
  }
}

/** Keys of the finished incidents of a ComputeHost whose return to service is still followed (for the hosts watch). */
export function incidentKeysAwaitingHost(incidents: readonly Incident[], host: ComputeHost): string[] {
  const ns = host.metadata?.namespace;
  return incidents.filter((i) => i.metadata?.namespace === ns && i.spec.hostRef.name === host.metadata?.name && hostReturnPending(i.status)).map((i) => `${ns ?? ""}/${i.metadata?.name ?? ""}`);
}

/** Whether an inventory copy's Nova updated_at is known and not before `mark` (both RFC 3339). */
function notOlder(updatedAt: string | undefined, mark: string | undefined): boolean {
  if (updatedAt === undefined || mark === undefined) return false;
  const [u, m] = [Date.parse(updatedAt), Date.parse(mark)];
  return Number.isFinite(u) && Number.isFinite(m) && u >= m;
}
