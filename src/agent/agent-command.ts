import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { CliIO } from "../cli/cli-io.js";
import { Keyring, parseKeyFile } from "../heartbeat/heartbeat-keys.js";
import { UdpTransport } from "../heartbeat/udp-transport.js";
import { formatTarget } from "../heartbeat/udp-address.js";
import { SystemClock } from "../util/clock.js";
import { createLogger } from "../util/logger.js";
import { AGENT_USAGE, AgentConfigError, parseAgentConfig, type AgentConfig } from "./agent-config.js";
import { startAgent } from "./agent.js";
import { parsePeerList } from "./peer-list.js";

/**
 * `vmkeeper agent`: exit 0 after SIGTERM/SIGINT (or `signal`, for in-process tests), 2 on
 * bad configuration or when it cannot start (key file, peers file, ports).
 */
export async function runAgentCommand(args: string[], io: CliIO, signal?: AbortSignal): Promise<number> {
  let cfg: AgentConfig | "help";
  try {
    cfg = parseAgentConfig(args, io.env);
  } catch (err: unknown) {
    io.stderr.write(`vmkeeper agent: ${err instanceof Error ? err.message : String(err)}\n\n${err instanceof AgentConfigError ? "Run 'vmkeeper agent --help' for the flags.\n" : AGENT_USAGE}`);
    return 2;
  }
  if (cfg === "help") {
    io.stdout.write(AGENT_USAGE);
    return 0;
  }
  const readText = (path: string): Promise<string> => readFile(isAbsolute(path) ? path : resolve(io.cwd, path), "utf8");
  let keyring: Keyring;
  try {
    keyring = new Keyring(parseKeyFile(await readText(cfg.keyFile)));
    if (cfg.peersFile !== undefined) parsePeerList(await readText(cfg.peersFile), cfg.peersFile);
  } catch (err: unknown) {
    io.stderr.write(`vmkeeper agent: ${errorText(err)}\n`);
    return 2;
  }
  const log = createLogger({ level: cfg.logLevel, destination: io.stdout });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "vmkeeper_process_" });
  const transport = new UdpTransport((err, target) => log.debug({ target: formatTarget(target), err: err.message }, "heartbeat send failed"));
  const pkg = createRequire(import.meta.url)("../../../package.json") as { version: string };
  let agent;
  try {
    agent = await startAgent(cfg, { clock: new SystemClock(), log, registry, keyring, transport, readText, agentVersion: pkg.version });
  } catch (err: unknown) {
    await transport.close();
    io.stderr.write(`vmkeeper agent: cannot start: ${errorText(err)}\n`);
    return 2;
  }
  await waitForStop(signal, (sig) => log.info({ signal: sig }, "shutting down"));
  await agent.stop();
  return 0;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function waitForStop(signal: AbortSignal | undefined, onSignal: (sig: string) => void): Promise<void> {
  return new Promise((done) => {
    const finish = (sig: string): void => {
      process.removeListener("SIGTERM", onTerm);
      process.removeListener("SIGINT", onInt);
      signal?.removeEventListener("abort", onAbort);
      onSignal(sig);
      done();
    };
    const onTerm = (): void => finish("SIGTERM");
    const onInt = (): void => finish("SIGINT");
    const onAbort = (): void => finish("abort");
    process.once("SIGTERM", onTerm);
    process.once("SIGINT", onInt);
    if (signal?.aborted) finish("abort");
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}
