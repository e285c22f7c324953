import type { ComputeHost, ComputeHostStatus } from "../../api/v1alpha1/index.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import { computeHostName, labelValue } from "./compute-host-name.js";
import type { InventoryHypervisor, InventoryService, NovaInventory } from "./nova-inventory.js";

export const LABEL_CLOUD = "ha.vmkeeper.dev/cloud";
export const LABEL_AZ = "ha.vmkeeper.dev/availability-zone";
/** One label per aggregate: `aggregate.ha.vmkeeper.dev/<name>: "true"`. */
export const AGGREGATE_LABEL_PREFIX = "aggregate.ha.vmkeeper.dev/";

export interface CloudRef {
  name: string;
  namespace: string;
}

export interface ComputeHostPlan {
  create: ComputeHost[];
  /** Existing hosts whose operator-owned labels must change (the full desired label set). */
  relabel: { name: string; labels: Record<string, string> }[];
  /** Existing (or just created) hosts whose status must be written. */
  status: { name: string; status: ComputeHostStatus }[];
  delete: string[];
  /** Hosts gone from Nova but kept because a recovery is in progress on them. */
  keptGone: string[];
}

/**
 * Converges the cloud's ComputeHosts onto Nova's nova-compute services: one per service,
 * named deterministically, labelled with its cloud, AZ and aggregates, status mirroring
 * Nova. Only operator-owned fields are planned: spec.maintenance and other people's labels
 * are never touched, and the health/fencing parts of status are carried over.
 */
export function planComputeHosts(cloud: CloudRef, inv: NovaInventory, existing: ComputeHost[]): ComputeHostPlan {
  const plan: ComputeHostPlan = { create: [], relabel: [], status: [], delete: [], keptGone: [] };
  const byName = new Map(existing.filter((h) => h.spec.cloudRef.name === cloud.name).map((h) => [h.metadata?.name ?? "", h]));
  const hypervisors = new Map<string, InventoryHypervisor>();
  for (const hv of inv.hypervisors) if (!hypervisors.has(hv.serviceHost)) hypervisors.set(hv.serviceHost, hv);
  const seen = new Set<string>();
  for (const svc of [...inv.services].sort((a, b) => a.host.localeCompare(b.host))) {
    const name = computeHostName(cloud.name, svc.host);
    if (seen.has(name)) continue;
    seen.add(name);
    const hv = hypervisors.get(svc.host);
    const aggregates = inv.aggregates.filter((a) => a.hosts.includes(svc.host));
    const az = svc.zone ?? aggregates.find((a) => a.availabilityZone)?.availabilityZone;
    const labels = desiredLabels(cloud.name, az, aggregates.map((a) => a.name));
    const current = byName.get(name);
    const status = desiredStatus(current?.status, svc, hv, aggregates.map((a) => a.name).sort(), az);
    if (!current) {
      plan.create.push({
        apiVersion: "ha.vmkeeper.dev/v1alpha1",
        kind: "ComputeHost",
        metadata: { name, namespace: cloud.namespace, labels },
        spec: { cloudRef: { name: cloud.name }, serviceHost: svc.host, ...(hv && hv.hypervisorHostname !== svc.host ? { hypervisorHostname: hv.hypervisorHostname } : {}) },
      });
      plan.status.push({ name, status });
      continue;
    }
    const merged = mergeLabels(current.metadata?.labels ?? {}, labels);
    if (!jsonEqual(merged, current.metadata?.labels ?? {})) plan.relabel.push({ name, labels: merged });
    if (!jsonEqual(status, current.status ?? {})) plan.status.push({ name, status });
  }
  for (const [name, host] of byName) {
    if (seen.has(name)) continue;
    if (host.status?.currentIncidentRef) plan.keptGone.push(name);
    else plan.delete.push(name);
  }
  return plan;
}

function desiredLabels(cloud: string, az: string | undefined, aggregates: string[]): Record<string, string> {
  const labels: Record<string, string> = { [LABEL_CLOUD]: cloud };
  const azLabel = labelValue(az);
  if (azLabel) labels[LABEL_AZ] = azLabel;
  for (const agg of aggregates) {
    const key = labelValue(agg);
    if (key) labels[AGGREGATE_LABEL_PREFIX + key] = "true";
  }
  return labels;
}

/** Keeps labels set by people; replaces the ones vmkeeper owns. */
function mergeLabels(current: Record<string, string>, desired: Record<string, string>): Record<string, string> {
  const kept = Object.entries(current).filter(([k]) => k !== LABEL_CLOUD && k !== LABEL_AZ && !k.startsWith(AGGREGATE_LABEL_PREFIX));
  return Object.fromEntries([...kept, ...Object.entries(desired)].sort(([a], [b]) => a.localeCompare(b)));
}

function desiredStatus(current: ComputeHostStatus | undefined, svc: InventoryService, hv: InventoryHypervisor | undefined, aggregates: string[], az: string | undefined): ComputeHostStatus {
  const next: ComputeHostStatus = {
    ...current,
    nova: {
      serviceId: svc.id,
      ...(hv ? { hypervisorId: hv.id } : {}),
      state: svc.state === "up" ? "Up" : "Down",
      status: svc.status === "enabled" ? "Enabled" : "Disabled",
      forcedDown: svc.forcedDown,
      ...(svc.disabledReason ? { disabledReason: svc.disabledReason.slice(0, 255) } : {}),
      ...(svc.updatedAt ? { updatedAt: svc.updatedAt } : {}),
    },
    aggregates,
    instanceCount: hv?.serverCount ?? 0,
  };
  if (az) next.availabilityZone = az;
  else delete next.availabilityZone;
  if (hv?.vcpus || hv?.memoryMiB || hv?.diskGiB) {
    next.capacity = { ...(hv.vcpus ? { vcpus: hv.vcpus } : {}), ...(hv.memoryMiB ? { memoryMiB: hv.memoryMiB } : {}), ...(hv.diskGiB ? { diskGiB: hv.diskGiB } : {}) };
  }
  return next;
}
