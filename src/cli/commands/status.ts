import type { CliIO } from "../cli-io.js";
import { formatStatus } from "../view/format-status.js";
import { startProgress } from "../view/progress.js";
import { statusReport } from "../view/status-report.js";
import { styleFor } from "../view/style.js";
import { KUBE_FLAGS_HELP, kubeOnlyTarget, readLiveState } from "./kube-target.js";

export const STATUS_USAGE = `Usage: vmkeeper status [flags]

A compact overview read from the Kubernetes API: clouds, policies (mode, protected
instances, failover capacity), hosts by health, open incidents, closed safety gates and
fencing readiness. Colour only on a terminal (NO_COLOR turns it off).

${KUBE_FLAGS_HELP}`;

/** `vmkeeper status`. */
export async function runStatusCommand(args: string[], io: CliIO): Promise<number> {
  const target = kubeOnlyTarget(args, io, "status", STATUS_USAGE);
  if (typeof target === "number") return target;
  const progress = startProgress(io.stderr);
  progress.update("reading vmkeeper resources");
  const state = await readLiveState(target).finally(() => progress.done());
  const now = Date.now();
  const report = statusReport(state, now);
  io.stdout.write(target.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report, styleFor(io.stdout, io.env), now));
  return 0;
}
