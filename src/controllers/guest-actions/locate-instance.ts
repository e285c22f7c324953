import type { ComputeHost, InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import type { CallOptions, NovaClient } from "../../openstack/nova-client.js";
import { NovaNotFoundError } from "../../openstack/nova-errors.js";
import type { Server } from "../../openstack/nova-types.js";
import { toInstanceInventory } from "../instance-ha-policy/instance-inventory.js";
import { resolveProtection } from "../instance-ha-policy/resolve-protection.js";

/** The Nova calls guest-level actions make (NovaClient provides them). */
export type GuestActionsNova = Pick<NovaClient, "getServer" | "listServerGroups" | "listFlavors" | "listInstanceActions" | "hardRebootServer" | "stopServer">;

export interface LocatedInstance {
  namespace: string;
  cloud: string;
  nova: GuestActionsNova;
  server: Server;
  /** The protecting policy (undefined: no policy of the cloud claims it). */
  policy: InstanceHAPolicy | undefined;
  computeHost: ComputeHost;
}

export interface LocateDeps {
  /** Every ComputeHost the operator watches. */
  allHosts: () => ComputeHost[];
  listHosts: (namespace: string) => ComputeHost[];
  listPolicies: (namespace: string) => InstanceHAPolicy[];
  novaFor: (namespace: string, cloud: string) => GuestActionsNova | undefined;
}

export type LocateResult = { found: LocatedInstance } | { notFound: string } | { notConnected: string };

/**
 * Finds the instance a host agent reported on: the clouds that have a ComputeHost with the
 * reporting agent's service host, the server in that cloud's Nova, and the policy that
 * protects it — by the same rules as the InstanceHAPolicy controller (resolveProtection:
 * selectors, exclusions, priority, specificity), evaluated for this one server.
 */
export async function locateInstance(d: LocateDeps, instanceUuid: string, serviceHost: string, opts: CallOptions): Promise<LocateResult> {
  const hosts = d.allHosts().filter((h) => h.spec.serviceHost === serviceHost && !h.metadata?.deletionTimestamp);
  if (hosts.length === 0) return { notFound: `no ComputeHost has service host ${serviceHost}` };
  const unconnected: string[] = [];
  for (const computeHost of hosts) {
    const namespace = computeHost.metadata?.namespace ?? "";
    const cloud = computeHost.spec.cloudRef.name;
    const nova = d.novaFor(namespace, cloud);
    if (!nova) {
      unconnected.push(`${namespace}/${cloud}`);
      continue;
    }
    let server: Server;
    try {
      server = await nova.getServer(instanceUuid, opts);
    } catch (err: unknown) {
      if (err instanceof NovaNotFoundError) continue;
      throw err;
    }
    const policies = d.listPolicies(namespace).filter((p) => p.spec.cloudRef.name === cloud && !p.metadata?.deletionTimestamp);
    const policy = policies.length === 0 ? undefined : await protectingPolicy(nova, server, policies, d.listHosts(namespace).filter((h) => h.spec.cloudRef.name === cloud), opts);
    return { found: { namespace, cloud, nova, server, policy, computeHost } };
  }
  if (unconnected.length > 0) return { notConnected: `cloud ${unconnected.join(", ")} not connected yet` };
  return { notFound: `instance ${instanceUuid} not found in the clouds of host ${serviceHost}` };
}

async function protectingPolicy(nova: GuestActionsNova, server: Server, policies: InstanceHAPolicy[], hosts: ComputeHost[], opts: CallOptions): Promise<InstanceHAPolicy | undefined> {
  const [groups, flavors] = await Promise.all([nova.listServerGroups({ allProjects: true }, opts), nova.listFlavors({ includePrivate: true }, opts)]);
  const { owners } = resolveProtection({ policies, instances: toInstanceInventory([server], groups, flavors, undefined).instances, hosts });
  const key = owners[server.id];
  return key === undefined ? undefined : policies.find((p) => `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}` === key);
}
