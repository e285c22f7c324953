import { parseArgs } from "node:util";
import type { CliIO } from "../cli-io.js";
import { formatStatus } from "../view/format-status.js";
import { startProgress } from "../view/progress.js";
import { statusReport } from "../view/status-report.js";
import { styleFor } from "../view/style.js";
import { KUBE_FLAGS_HELP, KUBE_OPTIONS, kubeTarget, readLiveState, usageFailure } from "./kube-target.js";

export const STATUS_USAGE = `Usage: vmkeeper status [flags]

A compact overview read from the Kubernetes API: clouds, policies (mode, protected
instances, failover capacity), hosts by health, open incidents, closed safety gates and
fencing readiness. Colour only on a terminal (NO_COLOR turns it off).

${KUBE_FLAGS_HELP}`;

/** `vmkeeper status`. */
export async function runStatusCommand(args: string[], io: CliIO): Promise<number> {
  let target;
  try {
    const { values, positionals } = parseArgs({ args, options: KUBE_OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      io.stdout.write(STATUS_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0] ?? ""}"`);
    target = kubeTarget(values, io, "vmkeeper-status");
  } catch (err: unknown) {
    return usageFailure(io, "status", err, STATUS_USAGE);
  }
  const progress = startProgress(io.stderr);
  progress.update("reading vmkeeper resources");
  const state = await readLiveState(target).finally(() => progress.done());
  const now = Date.now();
  const report = statusReport(state, now);
  io.stdout.write(target.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report, styleFor(io.stdout, io.env), now));
  return 0;
}
