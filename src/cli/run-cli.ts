import { createRequire } from "node:module";
import type { CliIO } from "./cli-io.js";
import { runOperatorCommand } from "./commands/operator.js";
import { runFenceCommand } from "./commands/fence.js";
import { runKdumpNotify } from "./commands/kdump-notify.js";
import { runValidate } from "./commands/validate.js";
import { runStatusCommand } from "./commands/status.js";
import { runDescribeCommand, runIncidentsCommand } from "./commands/incidents.js";
import { runHostsCommand } from "./commands/hosts.js";
import { runWhatIfCommand } from "./commands/what-if.js";
import { runSimCommand } from "../sim/sim-command.js";
import { runAgentCommand } from "../agent/agent-command.js";

type Command = (args: string[], io: CliIO) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  operator: { run: runOperatorCommand, summary: "run the controllers (in a cluster, or locally against a kubeconfig)" },
  validate: { run: runValidate, summary: "validate vmkeeper manifests offline (-f FILE|DIR|-)" },
  agent: { run: runAgentCommand, summary: "run the node agent on a compute host (heartbeats, peer checks)" },
  fence: { run: runFenceCommand, summary: "fence test HOST: check a host's fencing devices (power status only)" },
  "kdump-notify": { run: runKdumpNotify, summary: "send authenticated kdump notices (from a crashed host's kdump environment)" },
  status: { run: runStatusCommand, summary: "overview: policies, hosts by health, open incidents, safety gates, fencing readiness" },
  incidents: { run: runIncidentsCommand, summary: "list Incidents (phase, host, recovered, durations)" },
  describe: { run: runDescribeCommand, summary: "describe incident NAME: an Incident's timeline of steps with durations" },
  hosts: { run: runHostsCommand, summary: "list ComputeHosts (health, evidence, aggregates, fencing readiness)" },
  "what-if": { run: runWhatIfCommand, summary: "what-if --host H: simulate host failures against live state, changing nothing" },
  sim: { run: runSimCommand, summary: "run the Keystone + Nova simulator on loopback (for demos and scale tests)" },
  version: { run: printVersion, summary: "print the version" },
};

function usage(prog: string): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(13)} ${c.summary}`);
  return `Usage: ${prog} <command> [flags]\n\nvmkeeper keeps OpenStack VMs running.\n\nCommands:\n${lines.join("\n")}\n\nRun '${prog} <command> --help' for a command's flags.\n`;
}

function printVersion(_args: string[], io: CliIO): Promise<number> {
  const pkg = createRequire(import.meta.url)("../../../package.json") as { version: string };
  io.stdout.write(`vmkeeper ${pkg.version}\n`);
  return Promise.resolve(0);
}

/** Dispatches a subcommand; `prog` is how the user called us (vmkeeper or kubectl vmkeeper). */
export async function runCli(prog: string, argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(usage(prog));
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.stderr.write(`${prog}: unknown command "${name}"\n\n${usage(prog)}`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err: unknown) {
    io.stderr.write(`${prog} ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}
