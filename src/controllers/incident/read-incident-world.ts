import type { ComputeHost } from "../../api/v1alpha1/index.js";
import type { NovaClient } from "../../openstack/nova-client.js";
import { NovaNotFoundError } from "../../openstack/nova-errors.js";
import type { ComputeService, Migration } from "../../openstack/nova-types.js";
import type { InstanceNovaState, ReservedHostState, WorkflowHost } from "../../recovery/workflow/workflow-model.js";
import { novaTimeToRfc3339 } from "../compute-host-inventory/read-nova-inventory.js";

/** The failed host's nova-compute service as the workflow sees it (serviceId absent when Nova has none). */
export async function readHost(nova: NovaClient, serviceHost: string): Promise<WorkflowHost> {
  const [service] = await nova.listServices({ binary: "nova-compute", host: serviceHost });
  return toWorkflowHost(serviceHost, service);
}

export function toWorkflowHost(serviceHost: string, service: ComputeService | undefined): WorkflowHost {
  return {
    serviceHost,
    ...(service ? { serviceId: service.id } : {}),
    forcedDown: service?.forcedDown ?? false,
    disabled: service?.status === "disabled",
    ...(service?.disabledReason ? { disabledReason: service.disabledReason } : {}),
    up: service?.state === "up",
    ...(service?.updatedAt ? { updatedAt: novaTimeToRfc3339(service.updatedAt) } : {}),
  };
}

/** The tracked instances' Nova state (a deleted one is absent), with where their evacuation is going. */
export async function readInstances(nova: NovaClient, ids: string[], targets: ReadonlyMap<string, string> = new Map()): Promise<Map<string, InstanceNovaState>> {
  const states = new Map<string, InstanceNovaState>();
  await Promise.all(
    ids.map(async (id) => {
      try {
        const s = await nova.getServer(id);
        const target = targets.get(id);
        states.set(id, {
          id,
          host: s.host ?? null,
          status: s.status,
          taskState: s.taskState,
          locked: s.locked ?? false,
          lockedReason: s.lockedReason ?? null,
          ...(s.fault ? { fault: s.fault.message } : {}),
          ...(target ? { evacuationTarget: target } : {}),
        });
      } catch (err: unknown) {
        if (!(err instanceof NovaNotFoundError)) throw err;
      }
    }),
  );
  return states;
}

/**
 * Where the scheduler sent each instance's newest evacuation away from `sourceHost`: one
 * `os-migrations` read for the whole host (or for one instance), since the incident began.
 * Migrations that ended in error (no host found) or failed name no target.
 */
export async function readEvacuationTargets(nova: NovaClient, sourceHost: string, filter: { since?: string; instanceUuid?: string }): Promise<Map<string, string>> {
  const migrations = await nova.listMigrations({
    migrationType: "evacuation",
    ...(filter.instanceUuid ? { instanceUuid: filter.instanceUuid } : { host: sourceHost }),
    ...(filter.since ? { changesSince: filter.since } : {}),
  });
  const newest = new Map<string, Migration>();
  for (const m of migrations) {
    if (m.sourceCompute !== sourceHost) continue;
    const seen = newest.get(m.instanceUuid);
    if (!seen || newer(m, seen)) newest.set(m.instanceUuid, m);
  }
  const targets = new Map<string, string>();
  for (const [id, m] of newest) if (m.destCompute && m.status !== "error" && m.status !== "failed") targets.set(id, m.destCompute);
  return targets;
}

function newer(a: Migration, b: Migration): boolean {
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt;
  const [x, y] = [Number(a.id), Number(b.id)];
  return Number.isFinite(x) && Number.isFinite(y) ? x > y : a.id > b.id;
}

/** The reserved hosts named by the policies (ComputeHost names), with their nova-compute services: one Nova list call. */
export async function readReservedHosts(nova: NovaClient, names: readonly string[], getHost: (name: string) => ComputeHost | undefined): Promise<ReservedHostState[]> {
  if (names.length === 0) return [];
  return reservedHostStates(names, await nova.listServices({ binary: "nova-compute" }), getHost);
}

/** The reserved hosts (ComputeHost names, each once, sorted) as the workflow sees them, from nova-compute services already read. */
export function reservedHostStates(names: readonly string[], serviceList: readonly ComputeService[], getHost: (name: string) => ComputeHost | undefined): ReservedHostState[] {
  const services = new Map(serviceList.map((s) => [s.host, s]));
  return [...new Set(names)].sort().map((name): ReservedHostState => {
    const host = getHost(name);
    const svc = host ? services.get(host.spec.serviceHost) : undefined;
    const w = toWorkflowHost(host?.spec.serviceHost ?? "", svc);
    return {
      name,
      ...(host ? { serviceHost: host.spec.serviceHost } : {}),
      ...(w.serviceId ? { serviceId: w.serviceId } : {}),
      up: w.up ?? false,
      forcedDown: w.forcedDown,
      disabled: w.disabled,
      ...(w.disabledReason ? { disabledReason: w.disabledReason } : {}),
      maintenance: host?.spec.maintenance?.enabled ?? false,
    };
  });
}

/** The host's nova-compute service as the inventory last mirrored it on the ComputeHost (no Nova call). */
export function hostFromInventory(host: ComputeHost | undefined, serviceHost: string): WorkflowHost | undefined {
  const n = host?.status?.nova;
  if (!n?.serviceId) return undefined;
  return {
    serviceHost,
    serviceId: n.serviceId,
    forcedDown: n.forcedDown ?? false,
    disabled: n.status === "Disabled",
    ...(n.disabledReason ? { disabledReason: n.disabledReason } : {}),
    up: n.state === "Up",
    ...(n.updatedAt ? { updatedAt: n.updatedAt } : {}),
  };
}
