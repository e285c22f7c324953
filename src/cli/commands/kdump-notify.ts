import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { signKdumpNotice } from "../../kdump/kdump-notice.js";
import { parseHostPort, ipFamily } from "../../heartbeat/udp-address.js";
import { UdpTransport } from "../../heartbeat/udp-transport.js";
import type { CliIO } from "../cli-io.js";

export const KDUMP_NOTIFY_USAGE = `Usage: vmkeeper kdump-notify --host SERVICE_HOST --key-file FILE --to HOST:PORT [--phase started|done] [--count N] [--interval-ms MS]

Sends authenticated kdump notices (docs/protocols/kdump-notice.md) to the operator's kdump
receiver, so a HostFencing Kdump device delays the power-off while this host writes its
crash dump. For testing and for kdump environments that have Node.js; the shell sender in
deploy/kdump/vmkeeper-kdump-notify.sh needs only sh and openssl.
`;

export async function runKdumpNotify(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { host: { type: "string" }, "key-file": { type: "string" }, to: { type: "string" }, phase: { type: "string" }, count: { type: "string" }, "interval-ms": { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) {
    io.stdout.write(KDUMP_NOTIFY_USAGE);
    return 0;
  }
  const to = values.to ? parseHostPort(values.to) : undefined;
  const family = to ? ipFamily(to.host) : undefined;
  const phase = values.phase ?? "started";
  const count = Number(values.count ?? "1");
  const intervalMs = Number(values["interval-ms"] ?? "1000");
  const problems = [
    !values.host && "--host is required",
    !values["key-file"] && "--key-file is required",
    (!to || !family) && "--to must be IP:PORT",
    phase !== "started" && phase !== "done" && "--phase must be started or done",
    !(Number.isInteger(count) && count >= 1 && count <= 1000) && "--count must be 1..1000",
    !(Number.isInteger(intervalMs) && intervalMs >= 10) && "--interval-ms must be ≥ 10",
  ].filter((p): p is string => typeof p === "string");
  if (problems.length > 0 || !to || !family || !values.host || !values["key-file"]) {
    io.stderr.write(`${problems.join("\n")}\n\n${KDUMP_NOTIFY_USAGE}`);
    return 2;
  }
  const key = readFileSync(values["key-file"]);
  const transport = new UdpTransport((err) => io.stderr.write(`kdump-notify: ${err.message}\n`));
  try {
    for (let i = 0; i < count; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
      transport.send(Buffer.from(signKdumpNotice(values.host, phase as "started" | "done", Date.now(), key.subarray(0, key.length - (key.at(-1) === 10 ? 1 : 0)))), { address: to.host, port: to.port, family });
    }
  } finally {
    await new Promise((r) => setTimeout(r, 50));
    await transport.close();
  }
  return 0;
}
