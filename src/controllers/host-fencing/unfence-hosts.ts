import type { ComputeHost, HostFencing, Incident } from "../../api/v1alpha1/index.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { FenceDeviceFactory } from "../../fencing/fence-device-factory.js";
import { powerOnHost } from "../../fencing/fence-host.js";
import { resolveHostDevices, type SecretReader } from "../../fencing/resolve-host-devices.js";
import type { Clock } from "../../util/clock.js";

export interface UnfenceDeps {
  patchIncidentStatus: (namespace: string, name: string, patch: unknown) => Promise<unknown>;
  secrets: SecretReader;
  devices: FenceDeviceFactory;
  events: EventRecorder;
  clock: Clock;
}

const RETRY_BASE_MS = 30_000;
const FINISHED = new Set(["Recovered", "Failed", "Suppressed", "Notified"]);
const RETRY_MAX_MS = 600_000;

/** The Incident that last fenced the host through this HostFencing, if it is Recovered and the host is still off. */
export function incidentAwaitingPowerOn(host: string, hostFencing: string, incidents: readonly Incident[]): Incident | undefined {
  const latest = incidents
    .filter((i) => i.spec.hostRef.name === host && i.status?.fencing?.hostFencingRef?.name === hostFencing && i.status.fencing.powerReadBackOff === true)
    .sort((a, b) => (a.spec.detectedAt < b.spec.detectedAt ? 1 : -1))[0];
  if (!latest || latest.status?.phase !== "Recovered" || latest.status.fencing?.unfence?.poweredOnAt) return undefined;
  // A newer failure epoch of the same host that is still open owns the host.
  const open = incidents.some((i) => i !== latest && i.spec.hostRef.name === host && i.spec.detectedAt > latest.spec.detectedAt && !FINISHED.has(i.status?.phase ?? ""));
  return open ? undefined : latest;
}

/**
 * `unfence: Automatic`: once a host's Incident is Recovered, power it back on through the
 * level that fenced it, read power back On, and record it in the Incident (retried with
 * back-off). Nova's force-down and disable stay until the host re-enable step sees
 * nova-compute report again, so a host that boots is never given work while its Incident
 * is open (F20). Returns the time until the next retry is due, if any.
 */
export async function unfenceHosts(hf: HostFencing, selected: readonly ComputeHost[], incidents: readonly Incident[], d: UnfenceDeps, signal: AbortSignal): Promise<number | undefined> {
  if ((hf.spec.unfence ?? "Manual") !== "Automatic") return undefined;
  let next: number | undefined;
  for (const host of selected) {
    const incident = incidentAwaitingPowerOn(host.metadata?.name ?? "", hf.metadata?.name ?? "", incidents);
    if (!incident) continue;
    const u = incident.status?.fencing?.unfence ?? {};
    const waitMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, (u.attempts ?? 0) - 1));
    const sinceMs = u.lastAttemptAt ? d.clock.now().getTime() - Date.parse(u.lastAttemptAt) : Infinity;
    if (sinceMs < waitMs) {
      next = Math.min(next ?? Infinity, waitMs - sinceMs);
      continue;
    }
    await powerOn(hf, host, incident, d, signal);
    next = Math.min(next ?? Infinity, RETRY_BASE_MS);
  }
  return next;
}

async function powerOn(hf: HostFencing, host: ComputeHost, incident: Incident, d: UnfenceDeps, signal: AbortSignal): Promise<void> {
  const plan = await resolveHostDevices(hf, { name: host.metadata?.name ?? "", serviceHost: host.spec.serviceHost }, d.secrets);
  const result = await powerOnHost(plan, incident.status?.fencing?.level ?? "", { clock: d.clock, deviceFor: d.devices }, signal);
  const now = d.clock.now().toISOString();
  const attempts = (incident.status?.fencing?.unfence?.attempts ?? 0) + 1;
  const unfence = result.poweredOn ? { poweredOnAt: now, attempts, lastAttemptAt: now, lastError: null } : { attempts, lastAttemptAt: now, lastError: result.message.slice(0, 1024) };
  await d.patchIncidentStatus(incident.metadata?.namespace ?? "", incident.metadata?.name ?? "", { status: { fencing: { unfence } } });
  if (result.poweredOn) await d.events.record(incident, "Normal", "PoweredOn", "Unfence", `${host.spec.serviceHost} powered back on (${result.message}); Nova keeps it forced down and disabled until it is re-enabled`);
  else await d.events.record(incident, "Warning", "PowerOnFailed", "Unfence", `powering ${host.spec.serviceHost} back on failed (attempt ${attempts}): ${result.message}`);
}
