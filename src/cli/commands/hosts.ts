import type { CliIO } from "../cli-io.js";
import { formatHosts, hostRows } from "../view/format-hosts.js";
import { startProgress } from "../view/progress.js";
import { styleFor } from "../view/style.js";
import { KUBE_FLAGS_HELP, kubeOnlyTarget, readLiveState } from "./kube-target.js";

export const HOSTS_USAGE = `Usage: vmkeeper hosts [flags]

The ComputeHosts with their health state and how long they have been in it, Nova's view
(state/status, forced down), maintenance, instances, aggregates, fencing readiness and the
open incident; the evidence behind every host that is not Healthy.

${KUBE_FLAGS_HELP}`;

/** `vmkeeper hosts`. */
export async function runHostsCommand(args: string[], io: CliIO): Promise<number> {
  const target = kubeOnlyTarget(args, io, "hosts", HOSTS_USAGE);
  if (typeof target === "number") return target;
  const progress = startProgress(io.stderr);
  progress.update("reading ComputeHosts and HostFencings");
  const state = await readLiveState(target).finally(() => progress.done());
  const rows = hostRows(state.hosts, state.hostFencings);
  io.stdout.write(target.output === "json" ? `${JSON.stringify(rows, null, 2)}\n` : formatHosts(rows, styleFor(io.stdout, io.env), Date.now(), target.namespace === undefined));
  return 0;
}
