import { parseArgs } from "node:util";
import type { Incident } from "../../api/v1alpha1/index.js";
import { ResourceClient } from "../../kube/resource-client.js";
import { VMKEEPER_RESOURCES } from "../../operator/vmkeeper-resources.js";
import type { CliIO } from "../cli-io.js";
import { formatIncidentDescription, formatIncidents, incidentTimeline } from "../view/format-incident.js";
import { startProgress } from "../view/progress.js";
import { styleFor } from "../view/style.js";
import { KUBE_FLAGS_HELP, KUBE_OPTIONS, kubeTarget, usageFailure } from "./kube-target.js";

export const INCIDENTS_USAGE = `Usage: vmkeeper incidents [flags]

The Incidents, newest first: host, phase (and the gate holding a Suppressed one),
instances recovered, time to fence, duration and age.

${KUBE_FLAGS_HELP}`;

export const DESCRIBE_USAGE = `Usage: vmkeeper describe incident NAME [flags]

One Incident: what failed, the phase, fencing, and the timeline of its steps with
timestamps and durations (detection, notification, fencing devices, each evacuation,
recovery, host return), then every instance in recovery order.

${KUBE_FLAGS_HELP}`;

/** `vmkeeper incidents`. */
export async function runIncidentsCommand(args: string[], io: CliIO): Promise<number> {
  let target;
  try {
    const { values, positionals } = parseArgs({ args, options: KUBE_OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      io.stdout.write(INCIDENTS_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0] ?? ""}" (use 'describe incident NAME' for one incident)`);
    target = kubeTarget(values, io, "vmkeeper-incidents");
  } catch (err: unknown) {
    return usageFailure(io, "incidents", err, INCIDENTS_USAGE);
  }
  const progress = startProgress(io.stderr);
  progress.update("reading Incidents");
  const list = await new ResourceClient<Incident>(target.rest, VMKEEPER_RESOURCES.Incident).list(target.namespace).finally(() => progress.done());
  io.stdout.write(target.output === "json" ? `${JSON.stringify(list.items, null, 2)}\n` : formatIncidents(list.items, styleFor(io.stdout, io.env), Date.now(), target.namespace === undefined));
  return 0;
}

/** `vmkeeper describe incident NAME`. */
export async function runDescribeCommand(args: string[], io: CliIO): Promise<number> {
  let target;
  let name: string;
  try {
    const { values, positionals } = parseArgs({ args, options: KUBE_OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      io.stdout.write(DESCRIBE_USAGE);
      return 0;
    }
    const [kind, n, ...extra] = positionals;
    if (kind !== "incident" && kind !== "incidents") throw new Error(kind ? `cannot describe "${kind}": only "incident" is supported` : "missing what to describe: describe incident NAME");
    if (!n) throw new Error("missing the incident's NAME");
    if (extra.length > 0) throw new Error(`unexpected argument "${extra[0] ?? ""}"`);
    if (values["all-namespaces"]) throw new Error("describe needs one namespace, not --all-namespaces");
    name = n;
    target = kubeTarget(values, io, "vmkeeper-describe");
  } catch (err: unknown) {
    return usageFailure(io, "describe", err, DESCRIBE_USAGE);
  }
  const incident = await new ResourceClient<Incident>(target.rest, VMKEEPER_RESOURCES.Incident).get(target.namespace, name);
  if (!incident) {
    io.stderr.write(`vmkeeper describe: no Incident "${name}" in namespace ${target.namespace ?? ""}\n`);
    return 1;
  }
  io.stdout.write(target.output === "json" ? `${JSON.stringify({ incident, timeline: incidentTimeline(incident) }, null, 2)}\n` : formatIncidentDescription(incident, styleFor(io.stdout, io.env), Date.now()));
  return 0;
}
