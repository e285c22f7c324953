import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import type { ParseArgsConfig } from "node:util";
import type { ComputeHost, HostFencing, Incident, InstanceHAPolicy, OpenStackCloud } from "../../api/v1alpha1/index.js";
import { ResourceClient } from "../../kube/resource-client.js";
import type { KubeObject, ResourceType } from "../../kube/resource-type.js";
import { KubeRestClient } from "../../kube/rest-client.js";
import { VMKEEPER_RESOURCES } from "../../operator/vmkeeper-resources.js";
import type { CliIO } from "../cli-io.js";

/** A usage error: the command prints it with its usage and exits 2. */
export class UsageError extends Error {}

/** The kubectl-like flags every live-state command takes. */
export const KUBE_OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  namespace: { type: "string", short: "n" },
  "all-namespaces": { type: "boolean", short: "A" },
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

export const KUBE_FLAGS_HELP = `Kubernetes flags (as kubectl):
  --kubeconfig PATH      kubeconfig file (default $KUBECONFIG, then ~/.kube/config)
  --context NAME         kubeconfig context to use
  -n, --namespace NS     namespace (default: the context's, else "default")
  -A, --all-namespaces   every namespace
  -o, --output FORMAT    table (default) or json
`;

export interface KubeTarget {
  rest: KubeRestClient;
  /** Undefined = all namespaces. */
  namespace: string | undefined;
  output: "table" | "json";
}

/** Loads the kubeconfig and context like kubectl and resolves the namespace. */
export function kubeTarget(values: { kubeconfig?: string; context?: string; namespace?: string; "all-namespaces"?: boolean; output?: string }, io: CliIO, userAgent: string): KubeTarget {
  const output = values.output ?? "table";
  if (output !== "table" && output !== "json") throw new UsageError(`unknown output format "${output}" (-o): use table or json`);
  if (values.namespace !== undefined && values["all-namespaces"]) throw new UsageError("--namespace and --all-namespaces cannot be used together");
  const kc = new KubeConfig();
  const path = values.kubeconfig ?? io.env.KUBECONFIG;
  const file = path?.split(":")[0] ?? path;
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err: unknown) {
    throw new UsageError(`cannot load the kubeconfig${file ? ` ${file}` : ""}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (values.context !== undefined) {
    if (!kc.getContextObject(values.context)) throw new UsageError(`context "${values.context}" is not in the kubeconfig (contexts: ${kc.getContexts().map((c) => c.name).join(", ") || "none"})`);
    kc.setCurrentContext(values.context);
  }
  if (!kc.getCurrentCluster()) throw new UsageError("no Kubernetes cluster configured: set --kubeconfig, KUBECONFIG or ~/.kube/config");
  const namespace = values["all-namespaces"] ? undefined : (values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default");
  return { rest: new KubeRestClient(kc, { userAgent, defaultTimeoutMs: 30_000 }), namespace, output };
}

/** Everything vmkeeper keeps in the namespace (or all namespaces), read once. */
export interface LiveState {
  namespace: string | undefined;
  clouds: OpenStackCloud[];
  policies: InstanceHAPolicy[];
  hosts: ComputeHost[];
  incidents: Incident[];
  hostFencings: HostFencing[];
}

export async function readLiveState(t: KubeTarget): Promise<LiveState> {
  const list = async <T extends KubeObject>(type: ResourceType): Promise<T[]> => (await new ResourceClient<T>(t.rest, type).list(t.namespace)).items;
  const [clouds, policies, hosts, incidents, hostFencings] = await Promise.all([
    list<OpenStackCloud>(VMKEEPER_RESOURCES.OpenStackCloud),
    list<InstanceHAPolicy>(VMKEEPER_RESOURCES.InstanceHAPolicy),
    list<ComputeHost>(VMKEEPER_RESOURCES.ComputeHost),
    list<Incident>(VMKEEPER_RESOURCES.Incident),
    list<HostFencing>(VMKEEPER_RESOURCES.HostFencing),
  ]);
  return { namespace: t.namespace, clouds, policies, hosts, incidents, hostFencings };
}

/** Writes a usage error the way every command does; returns exit status 2. */
/**
 * The target of a command that takes only the kubectl-style flags (`status`, `hosts`), or
 * the exit code when it stops here: 0 after --help, 2 after a usage error (said on stderr).
 */
export function kubeOnlyTarget(args: string[], io: CliIO, command: string, usage: string): KubeTarget | number {
  try {
    const { values, positionals } = parseArgs({ args, options: KUBE_OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      io.stdout.write(usage);
      return 0;
    }
    if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0] ?? ""}"`);
    return kubeTarget(values, io, `vmkeeper-${command}`);
  } catch (err: unknown) {
    return usageFailure(io, command, err, usage);
  }
}

export function usageFailure(io: CliIO, command: string, err: unknown, usage: string): number {
  io.stderr.write(`vmkeeper ${command}: ${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
  return 2;
}
