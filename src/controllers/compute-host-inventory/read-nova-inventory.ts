import type { NovaClient } from "../../openstack/nova-client.js";
import type { CallOptions } from "../../openstack/nova-http.js";
import type { Hypervisor } from "../../openstack/nova-types.js";
import { rfc3339 } from "../../util/time-format.js";
import type { InventoryHypervisor, NovaInventory } from "./nova-inventory.js";

/** The Nova calls the inventory needs, as a narrow interface (NovaClient provides it). */
export type InventoryNova = Pick<NovaClient, "listServices" | "listHypervisors" | "listAggregates">;

/**
 * Reads nova-compute services, hypervisors (with their servers) and aggregates: three
 * list calls per pass, paginated, whatever the cloud's size.
 */
export async function readNovaInventory(nova: InventoryNova, opts: CallOptions = {}): Promise<NovaInventory> {
  const [services, hypervisors, aggregates] = await Promise.all([
    nova.listServices({ binary: "nova-compute" }, opts),
    nova.listHypervisors({ withServers: true }, opts),
    nova.listAggregates(opts),
  ]);
  return {
    services: services.map((s) => ({
      id: s.id,
      host: s.host,
      ...(s.zone ? { zone: s.zone } : {}),
      state: s.state === "up" ? "up" : "down",
      status: s.status === "enabled" ? "enabled" : "disabled",
      forcedDown: s.forcedDown,
      ...(s.disabledReason ? { disabledReason: s.disabledReason } : {}),
      ...(s.updatedAt ? { updatedAt: novaTimeToRfc3339(s.updatedAt) } : {}),
    })),
    hypervisors: hypervisors.filter((h) => h.serviceHost).map(toInventoryHypervisor),
    aggregates: aggregates.map((a) => ({ name: a.name, hosts: a.hosts, ...(a.availabilityZone ? { availabilityZone: a.availabilityZone } : {}) })),
  };
}

function toInventoryHypervisor(h: Hypervisor): InventoryHypervisor {
  const pair = (used: number | undefined, total: number | undefined): { used: number; total: number } | undefined =>
    used !== undefined && total !== undefined ? { used, total } : undefined;
  const vcpus = pair(h.vcpusUsed, h.vcpus);
  const memoryMiB = pair(h.memoryMbUsed, h.memoryMb);
  const diskGiB = pair(h.localGbUsed, h.localGb);
  return {
    id: h.id,
    serviceHost: h.serviceHost ?? "",
    hypervisorHostname: h.hypervisorHostname,
    serverCount: h.servers?.length ?? h.runningVms ?? 0,
    // Nova reports capacity here only below microversion 2.88; newer clouds leave it to Placement.
    ...(vcpus ? { vcpus } : {}),
    ...(memoryMiB ? { memoryMiB } : {}),
    ...(diskGiB ? { diskGiB } : {}),
  };
}

/** Nova writes UTC times without a zone (`2026-01-01T00:00:00.000000`); status wants RFC 3339. */
export function novaTimeToRfc3339(t: string): string {
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`;
  const d = new Date(withZone);
  return Number.isNaN(d.getTime()) ? t : rfc3339(d);
}
