import type { ComputeHost } from "../../api/v1alpha1/index.js";
import { isAlreadyExists } from "../../kube/api-error.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import { controllerReference } from "../../kube/owner-references.js";
import type { ResourceClient } from "../../kube/resource-client.js";
import type { KubeObject } from "../../kube/resource-type.js";
import type { ComputeHostPlan } from "./plan-compute-hosts.js";

/** The status fields the inventory owns; health, fencing and incidents belong to others. */
const INVENTORY_FIELDS = ["nova", "aggregates", "availabilityZone", "instanceCount", "capacity"] as const;

/**
 * Applies an inventory plan idempotently. Creates carry the cloud as controlling owner (the
 * garbage collector removes hosts with their cloud); a create that meets an existing object
 * (a stale cache) is fine thanks to deterministic names. Status is merge-patched with only
 * the inventory's own fields, so concurrent writers of health or fencing are not undone.
 */
export async function applyComputeHostPlan(
  plan: ComputeHostPlan,
  cloud: KubeObject,
  existing: ComputeHost[],
  hosts: ResourceClient<ComputeHost>,
  events: EventRecorder,
): Promise<void> {
  const ns = cloud.metadata?.namespace;
  const byName = new Map(existing.map((h) => [h.metadata?.name ?? "", h]));
  for (const host of plan.create) {
    try {
      await hosts.create({ ...host, metadata: { ...host.metadata, ownerReferences: [controllerReference(cloud)] } });
      await events.record(cloud, "Normal", "HostDiscovered", "Inventory", `nova-compute service "${host.spec.serviceHost}" appeared; created ComputeHost ${host.metadata?.name ?? ""}`);
    } catch (err: unknown) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  for (const r of plan.relabel) {
    const current = byName.get(r.name)?.metadata?.labels ?? {};
    const patch: Record<string, string | null> = { ...r.labels };
    for (const k of Object.keys(current)) if (!(k in r.labels)) patch[k] = null;
    await hosts.mergePatch(ns, r.name, { metadata: { labels: patch } });
  }
  for (const s of plan.status) {
    const patch: Record<string, unknown> = {};
    for (const f of INVENTORY_FIELDS) patch[f] = s.status[f] ?? null;
    await hosts.mergePatch(ns, s.name, { status: patch }, "status");
  }
  for (const name of plan.delete) {
    await hosts.delete(ns, name, byName.get(name)?.metadata?.uid);
    await events.record(cloud, "Normal", "HostRemoved", "Inventory", `nova-compute service of ComputeHost ${name} is gone from Nova; deleted it`);
  }
  for (const name of plan.keptGone) {
    await events.record(cloud, "Warning", "HostGoneDuringIncident", "Inventory", `nova-compute service of ComputeHost ${name} is gone from Nova, but a recovery is in progress on it; keeping it until the incident ends`);
  }
}
