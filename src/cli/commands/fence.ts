import { KubeConfig } from "@kubernetes/client-node";
import { parseArgs } from "node:util";
import type { ComputeHost, HostFencing } from "../../api/v1alpha1/index.js";
import { secretReader } from "../../controllers/host-fencing/secret-reader.js";
import type { SecretObject } from "../../controllers/openstack-cloud/openstack-cloud-reconciler.js";
import { createDeviceFactory } from "../../fencing/fence-device-factory.js";
import { hostFenceable, probeHostDevices, type DeviceProbe } from "../../fencing/probe-host-devices.js";
import { resolveHostDevices } from "../../fencing/resolve-host-devices.js";
import { hostFencingsFor } from "../../fencing/select-fenced-hosts.js";
import { ResourceClient } from "../../kube/resource-client.js";
import { SECRETS } from "../../kube/resource-type.js";
import { KubeRestClient } from "../../kube/rest-client.js";
import { VMKEEPER_RESOURCES } from "../../operator/vmkeeper-resources.js";
import { SystemClock } from "../../util/clock.js";
import type { CliIO } from "../cli-io.js";

export const FENCE_USAGE = `Usage: vmkeeper fence test HOST [--namespace NS] [--kubeconfig PATH]

Checks the fencing devices of one host without powering anything off: reads the power
state through every device of every level of the HostFencing that selects the host and
prints the result per level. HOST is a ComputeHost name (<cloud>.<host>) or a Nova service
host name. Exit status 0 when some level can fence the host, 1 when none can, 2 on errors.
`;

/** `vmkeeper fence test HOST`: status-only probe of a host's fencing devices. */
export async function runFenceCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { namespace: { type: "string", short: "n" }, kubeconfig: { type: "string" }, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  if (values.help) {
    io.stdout.write(FENCE_USAGE);
    return 0;
  }
  const [verb, hostArg, ...extra] = positionals;
  if (verb !== "test" || !hostArg || extra.length > 0) {
    io.stderr.write(FENCE_USAGE);
    return 2;
  }
  const kc = new KubeConfig();
  const kubeconfig = values.kubeconfig ?? io.env.KUBECONFIG;
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  const namespace = values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  const rest = new KubeRestClient(kc, { userAgent: "vmkeeper-fence-test", defaultTimeoutMs: 30_000 });
  const hosts = (await new ResourceClient<ComputeHost>(rest, VMKEEPER_RESOURCES.ComputeHost).list(namespace)).items;
  const host = hosts.find((h) => h.metadata?.name === hostArg) ?? hosts.find((h) => h.spec.serviceHost === hostArg);
  if (!host) throw new Error(`no ComputeHost "${hostArg}" in namespace ${namespace}`);
  const all = (await new ResourceClient<HostFencing>(rest, VMKEEPER_RESOURCES.HostFencing).list(namespace)).items;
  const matches = hostFencingsFor(host, all);
  const hostName = host.metadata?.name ?? "";
  const [hf] = matches;
  if (!hf) {
    io.stdout.write(`host ${hostName} (${host.spec.serviceHost}): no HostFencing in namespace ${namespace} selects it; it cannot be fenced\n`);
    return 1;
  }
  if (matches.length > 1) {
    io.stdout.write(`host ${hostName}: selected by ${matches.map((m) => m.metadata?.name).join(", ")}; vmkeeper does not fence it until only one HostFencing selects it\n`);
    return 1;
  }
  const plan = await resolveHostDevices(hf, { name: hostName, serviceHost: host.spec.serviceHost }, secretReader(new ResourceClient<SecretObject>(rest, SECRETS), namespace));
  const clock = new SystemClock();
  const probes = await probeHostDevices(plan, createDeviceFactory({ clock }), clock, AbortSignal.timeout(600_000));
  io.stdout.write(formatFenceTest(hostName, host.spec.serviceHost, hf.metadata?.name ?? "", namespace, plan.levels.map((l) => l.name), probes));
  return hostFenceable(plan, probes) ? 0 : 1;
}

/** The per-level report `vmkeeper fence test` prints. */
export function formatFenceTest(host: string, serviceHost: string, hostFencing: string, namespace: string, levels: string[], probes: DeviceProbe[]): string {
  const lines = [`host ${host} (${serviceHost}) is fenced by HostFencing ${hostFencing} (namespace ${namespace}); power status only, nothing was switched`];
  let firstReady: string | undefined;
  for (const level of levels) {
    const mine = probes.filter((p) => p.level === level);
    const power = mine.filter((p) => p.kind !== "Kdump");
    const ready = power.length > 0 && power.every((p) => p.reachable);
    if (ready) firstReady ??= level;
    lines.push(`level ${level}: ${ready ? "READY" : "NOT READY"}`);
    for (const p of mine) {
      const state = p.kind === "Kdump" ? (p.reachable ? "key ok (delays power-off while the host dumps)" : `unusable: ${p.error ?? ""}`) : p.reachable ? `reachable, power ${p.powerState}` : `UNREACHABLE: ${p.error ?? ""}`;
      lines.push(`  ${p.device.padEnd(20)} ${p.kind.padEnd(10)} ${state}`);
    }
  }
  lines.push(firstReady ? `result: fenceable through level ${firstReady}` : "result: NOT fenceable: no level has all of its power devices reachable");
  return `${lines.join("\n")}\n`;
}
