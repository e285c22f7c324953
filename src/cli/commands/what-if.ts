import { parseArgs } from "node:util";
import type { ComputeHost, OpenStackCloud } from "../../api/v1alpha1/index.js";
import { cloudConfigFromSecret } from "../../controllers/openstack-cloud/cloud-config-from-secret.js";
import type { SecretObject } from "../../controllers/openstack-cloud/openstack-cloud-reconciler.js";
import { PolicyProtectionSource } from "../../controllers/incident/policy-protection-source.js";
import { toInstanceInventory } from "../../controllers/instance-ha-policy/instance-inventory.js";
import { ResourceClient } from "../../kube/resource-client.js";
import { SECRETS } from "../../kube/resource-type.js";
import { KeystoneSession } from "../../openstack/keystone-session.js";
import { mv } from "../../openstack/microversion.js";
import { NodeHttpTransport } from "../../openstack/node-http-transport.js";
import { NovaClient } from "../../openstack/nova-client.js";
import { SystemClock } from "../../util/clock.js";
import { silentLogger } from "../../util/logger.js";
import { whatIf, type WhatIfWorld } from "../../what-if/what-if.js";
import type { CliIO } from "../cli-io.js";
import { formatWhatIf } from "../view/format-what-if.js";
import { startProgress, type Progress } from "../view/progress.js";
import { styleFor } from "../view/style.js";
import { KUBE_FLAGS_HELP, KUBE_OPTIONS, kubeTarget, readLiveState, UsageError, usageFailure, type LiveState } from "./kube-target.js";

export const WHAT_IF_USAGE = `Usage: vmkeeper what-if --host HOST [--host HOST2 ...] [--cloud CLOUD] [flags]

Simulates the failure of the given hosts against live state without changing anything:
whether an Incident would open or which safety gate would hold it back, which protected
instances would be evacuated, in what order (batches as the executor sends them), where
Nova's scheduler would likely put them (or which reserved host), and what would not fit.
It runs the operator's own detection gates and incident planner; Nova is only read (GET),
with the OpenStackCloud's credentials from its Secret.

Flags:
  --host HOST                  ComputeHost name (<cloud>.<host>) or Nova service host; repeatable
  --cloud CLOUD                the OpenStackCloud (needed when service host names are ambiguous)
  --cpu-allocation-ratio R     Nova's cpu_allocation_ratio (default 1: capacity never overstated)
  --ram-allocation-ratio R     Nova's ram_allocation_ratio (default 1)
  --disk-allocation-ratio R    Nova's disk_allocation_ratio (default 1)

${KUBE_FLAGS_HELP}`;

/** Hypervisor capacity figures are reported up to this microversion (Placement only from 2.88). */
const CAPACITY_MICROVERSION = "2.87";

/** `vmkeeper what-if`. */
export async function runWhatIfCommand(args: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseWhatIfArgs(args, io);
  } catch (err: unknown) {
    return usageFailure(io, "what-if", err, WHAT_IF_USAGE);
  }
  if (!parsed) {
    io.stdout.write(WHAT_IF_USAGE);
    return 0;
  }
  const progress = startProgress(io.stderr);
  try {
    progress.update("reading vmkeeper resources");
    const state = await readLiveState(parsed.target);
    let resolved;
    try {
      resolved = resolveHosts(state, parsed.hosts, parsed.cloud);
    } catch (err: unknown) {
      progress.done();
      return usageFailure(io, "what-if", err, WHAT_IF_USAGE);
    }
    const world = await readWorld(state, resolved.cloud, resolved.hosts, parsed, progress);
    const report = whatIf(world, resolved.hosts.map((h) => h.metadata?.name ?? ""));
    progress.done();
    io.stdout.write(parsed.target.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatWhatIf(report, styleFor(io.stdout, io.env)));
    return 0;
  } finally {
    progress.done();
  }
}

interface WhatIfArgs {
  target: ReturnType<typeof kubeTarget>;
  hosts: string[];
  cloud?: string;
  ratios: { vcpu: number; memory: number; disk: number };
}

function parseWhatIfArgs(args: string[], io: CliIO): WhatIfArgs | undefined {
  const { values, positionals } = parseArgs({
    args,
    options: { ...KUBE_OPTIONS, host: { type: "string", multiple: true }, cloud: { type: "string" }, "cpu-allocation-ratio": { type: "string" }, "ram-allocation-ratio": { type: "string" }, "disk-allocation-ratio": { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return undefined;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0] ?? ""}" (hosts are given with --host)`);
  const hosts = values.host ?? [];
  if (hosts.length === 0) throw new UsageError("at least one --host is required");
  if (values["all-namespaces"]) throw new UsageError("what-if works on one namespace, not --all-namespaces");
  const ratio = (flag: string, v: string | undefined): number => {
    if (v === undefined) return 1;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number, not "${v}"`);
    return n;
  };
  const ratios = { vcpu: ratio("cpu-allocation-ratio", values["cpu-allocation-ratio"]), memory: ratio("ram-allocation-ratio", values["ram-allocation-ratio"]), disk: ratio("disk-allocation-ratio", values["disk-allocation-ratio"]) };
  return { target: kubeTarget(values, io, "vmkeeper-what-if"), hosts, ...(values.cloud !== undefined ? { cloud: values.cloud } : {}), ratios };
}

/** The ComputeHosts named by --host (ComputeHost or Nova service host names), all of one cloud. */
export function resolveHosts(state: LiveState, names: readonly string[], cloud: string | undefined): { cloud: OpenStackCloud; hosts: ComputeHost[] } {
  const hosts = names.map((n) => {
    const exact = state.hosts.find((h) => h.metadata?.name === n && (!cloud || h.spec.cloudRef.name === cloud));
    if (exact) return exact;
    const bySvc = state.hosts.filter((h) => h.spec.serviceHost === n && (!cloud || h.spec.cloudRef.name === cloud));
    if (bySvc.length > 1) throw new UsageError(`host "${n}" is in several clouds (${bySvc.map((h) => h.spec.cloudRef.name).join(", ")}): add --cloud`);
    const [one] = bySvc;
    if (!one) throw new UsageError(`no ComputeHost "${n}"${cloud ? ` in cloud ${cloud}` : ""} in namespace ${state.namespace ?? ""} (known: ${state.hosts.map((h) => h.metadata?.name ?? "").slice(0, 8).join(", ") || "none"})`);
    return one;
  });
  const clouds = [...new Set(hosts.map((h) => h.spec.cloudRef.name))];
  if (clouds.length > 1) throw new UsageError(`the hosts belong to several clouds (${clouds.join(", ")}); what-if simulates one cloud at a time`);
  const name = cloud ?? clouds[0] ?? "";
  const c = state.clouds.find((x) => x.metadata?.name === name);
  if (!c) throw new UsageError(`no OpenStackCloud "${name}" in namespace ${state.namespace ?? ""}`);
  return { cloud: c, hosts: [...new Map(hosts.map((h) => [h.metadata?.name ?? "", h])).values()] };
}

/** Reads Nova (GET only) through the cloud's credentials and resolves protection like the incident executor. */
async function readWorld(state: LiveState, cloud: OpenStackCloud, failing: ComputeHost[], a: WhatIfArgs, progress: Progress): Promise<WhatIfWorld> {
  const ns = cloud.metadata?.namespace ?? state.namespace ?? "";
  const cloudName = cloud.metadata?.name ?? "";
  const secrets = new ResourceClient<SecretObject>(a.target.rest, SECRETS);
  progress.update(`reading the credentials of OpenStackCloud ${cloudName}`);
  const secret = await secrets.get(ns, cloud.spec.secretRef.name);
  if (!secret) throw new Error(`Secret "${cloud.spec.secretRef.name}" of OpenStackCloud ${cloudName} not found in namespace ${ns}`);
  const ca = cloud.spec.caBundleSecretRef ? await secrets.get(ns, cloud.spec.caBundleSecretRef.name) : undefined;
  const config = cloudConfigFromSecret(cloud.spec, secret, ca);
  const clock = new SystemClock();
  const transport = new NodeHttpTransport({});
  try {
    const session = new KeystoneSession({ cloud: config, transport, clock, logger: silentLogger(), userAgent: "vmkeeper-what-if" });
    const timeoutMs = (cloud.spec.requestTimeoutSeconds ?? 30) * 1000;
    const nova = new NovaClient({ session, clock, logger: silentLogger(), timeoutMs, ...(cloud.spec.maxNovaMicroversion ? { maxMicroversion: mv(cloud.spec.maxNovaMicroversion) } : {}) });
    const capacity = new NovaClient({ session, clock, logger: silentLogger(), timeoutMs, maxMicroversion: mv(CAPACITY_MICROVERSION) });
    progress.update(`reading Nova of ${cloudName}: services, servers, flavors, server groups, hypervisors`);
    const [services, servers, groups, flavors, hypervisors] = await Promise.all([
      nova.listServices({ binary: "nova-compute" }),
      nova.listServers({}),
      nova.listServerGroups({ allProjects: true }),
      nova.listFlavors({ includePrivate: true }),
      capacity.listHypervisors({}),
    ]);
    const inCloud = <T extends { metadata?: { namespace?: string } }>(list: T[], cloudOf: (t: T) => string): T[] => list.filter((x) => x.metadata?.namespace === ns && cloudOf(x) === cloudName);
    const hosts = inCloud(state.hosts, (h) => h.spec.cloudRef.name);
    const policies = inCloud(state.policies, (p) => p.spec.cloudRef.name);
    const incidents = inCloud(state.incidents, (i) => i.spec.cloudRef.name);
    const source = new PolicyProtectionSource({ listPolicies: () => policies, listHosts: () => hosts, listIncidents: () => incidents, novaFor: () => nova, clock });
    const protection = new Map<string, Awaited<ReturnType<PolicyProtectionSource["resolve"]>>>();
    for (const h of failing) {
      progress.update(`resolving the protected instances of ${h.metadata?.name ?? ""}`);
      protection.set(h.metadata?.name ?? "", await source.resolve({ namespace: ns, cloud: cloudName, serviceHost: h.spec.serviceHost, servers: servers.filter((s) => s.host === h.spec.serviceHost) }));
    }
    return {
      cloud: cloudName,
      nowMs: clock.now().getTime(),
      hosts,
      policies,
      incidents,
      services,
      hostFencings: state.hostFencings.filter((hf) => hf.metadata?.namespace === ns),
      instances: toInstanceInventory(servers, groups, flavors, undefined).instances,
      serverGroups: groups,
      hypervisors,
      allocationRatios: a.ratios,
      protection,
    };
  } finally {
    transport.close();
  }
}
