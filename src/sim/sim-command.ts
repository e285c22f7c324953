import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { SystemClock } from "../util/clock.js";
import type { CliIO } from "../cli/cli-io.js";
import { cloudsYaml } from "./clouds-yaml.js";
import { createSimCloud } from "./sim-cloud.js";
import { SimServer } from "./sim-server.js";
import { seedCloud } from "./seed-cloud.js";

export const SIM_USAGE = `Usage: vmkeeper sim [flags]

Starts the Keystone + Nova simulator on 127.0.0.1 until SIGINT/SIGTERM.

Flags:
  --port N                 port to listen on (default 0: any free port)
  --hosts N                compute hosts to create (default 10)
  --servers-per-host N     servers placed on each host (default 5)
  --zones N                availability zones to split the hosts into (default 1)
  --aggregates N           host aggregates (rack-a, rack-b, ...) to split the hosts into (default 0)
  --reserved-hosts N       empty spare hosts (compute-spare-01, ...) with nova-compute disabled (default 0)
  --seed S                 seed for ids, placement of failures and faults (default vmkeeper)
  --max-microversion V     highest compute microversion, 2.1..2.96 (default 2.93)
  --service-down-time S    Nova's service_down_time in seconds (default 60)
  --report-interval S      Nova's report_interval in seconds (default 10)
  --evacuation-ms N        time an evacuation takes (default 3000)
  --evacuation-failure-rate P  probability an evacuation ends in ERROR (default 0)
  --token-lifetime S       Keystone token lifetime in seconds (default 3600)
  --clouds-yaml PATH       write a clouds.yaml for the simulator there
  --cloud-name NAME        entry name in clouds.yaml (default vmkeeper-sim)
`;

interface SimArgs {
  port: number;
  hosts: number;
  serversPerHost: number;
  zones: number;
  aggregates: number;
  reservedHosts: number;
  seed: string;
  maxMicroversion: string;
  serviceDownTime: number;
  reportInterval: number;
  evacuationMs: number;
  failureRate: number;
  tokenLifetime: number;
  cloudsYaml?: string;
  cloudName: string;
}

const NUMERIC: Record<string, keyof SimArgs> = {
  "--port": "port",
  "--hosts": "hosts",
  "--servers-per-host": "serversPerHost",
  "--zones": "zones",
  "--aggregates": "aggregates",
  "--reserved-hosts": "reservedHosts",
  "--service-down-time": "serviceDownTime",
  "--report-interval": "reportInterval",
  "--evacuation-ms": "evacuationMs",
  "--evacuation-failure-rate": "failureRate",
  "--token-lifetime": "tokenLifetime",
};

export function parseSimArgs(args: string[]): SimArgs | "help" {
  const out: SimArgs = { port: 0, hosts: 10, serversPerHost: 5, zones: 1, aggregates: 0, reservedHosts: 0, seed: "vmkeeper", maxMicroversion: "2.93", serviceDownTime: 60, reportInterval: 10, evacuationMs: 3000, failureRate: 0, tokenLifetime: 3600, cloudName: "vmkeeper-sim" };
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] ?? "";
    if (raw === "--help" || raw === "-h") return "help";
    const [flag = "", inline] = raw.split("=", 2);
    const value = inline ?? args[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const numKey = NUMERIC[flag];
    if (numKey) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${flag}: not a non-negative number: ${value}`);
      (out as unknown as Record<string, number>)[numKey] = n;
    } else if (flag === "--seed") out.seed = value;
    else if (flag === "--max-microversion") out.maxMicroversion = value;
    else if (flag === "--clouds-yaml") out.cloudsYaml = value;
    else if (flag === "--cloud-name") out.cloudName = value;
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!/^2\.\d+$/.test(out.maxMicroversion) || Number(out.maxMicroversion.split(".")[1]) > 96) throw new Error("--max-microversion must be 2.1 .. 2.96");
  return out;
}

/** `vmkeeper sim`: runs until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad flags. */
export async function runSimCommand(args: string[], io: CliIO): Promise<number> {
  let a: SimArgs | "help";
  try {
    a = parseSimArgs(args);
  } catch (err: unknown) {
    io.stderr.write(`vmkeeper sim: ${err instanceof Error ? err.message : String(err)}\n\n${SIM_USAGE}`);
    return 2;
  }
  if (a === "help") {
    io.stdout.write(SIM_USAGE);
    return 0;
  }
  const cloud = createSimCloud(new SystemClock(), {
    seed: a.seed,
    identity: { tokenLifetimeSeconds: a.tokenLifetime, region: "RegionOne" },
    nova: { maxMicroversion: a.maxMicroversion, serviceDownTimeSeconds: a.serviceDownTime, reportIntervalSeconds: a.reportInterval, evacuationDurationMs: a.evacuationMs, evacuationFailureRate: a.failureRate },
  });
  const seeded = seedCloud(cloud, { hosts: a.hosts, serversPerHost: a.serversPerHost, zones: a.zones, aggregates: a.aggregates, reservedHosts: a.reservedHosts, seed: a.seed });
  const server = new SimServer(cloud, { port: a.port });
  const url = await server.start();
  if (a.cloudsYaml) {
    const path = resolve(io.cwd, a.cloudsYaml);
    await writeFile(path, cloudsYaml({ cloudName: a.cloudName, authUrl: server.authUrl, region: cloud.keystone.region, auth: { kind: "password", username: "admin", password: "admin-secret", projectName: "admin" } }), { mode: 0o600 });
    io.stdout.write(`clouds.yaml written to ${path} (cloud ${a.cloudName})\n`);
  }
  io.stdout.write(`simulator listening on ${url} (Keystone ${server.authUrl}, Nova ${url}/v2.1, admin ${url}/_sim): ${seeded.hosts} hosts, ${seeded.servers} servers${a.reservedHosts ? `, ${a.reservedHosts} reserved hosts` : ""}${a.aggregates ? `, ${a.aggregates} aggregates` : ""}\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.removeListener("SIGINT", stop);
      process.removeListener("SIGTERM", stop);
      done();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.stop();
  return 0;
}
