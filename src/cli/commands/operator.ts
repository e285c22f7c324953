import { KubeConfig } from "@kubernetes/client-node";
import { Registry, collectDefaultMetrics } from "prom-client";
import { ConfigError, OPERATOR_USAGE, parseOperatorConfig } from "../../operator/operator-config.js";
import { runOperator } from "../../operator/operator.js";
import { SystemClock } from "../../util/clock.js";
import { createLogger } from "../../util/logger.js";
import type { CliIO } from "../cli-io.js";

/** `vmkeeper operator`: exit 0 after SIGTERM/SIGINT, 1 when leadership was lost, 2 on bad configuration. */
export async function runOperatorCommand(args: string[], io: CliIO): Promise<number> {
  let cfg;
  try {
    cfg = parseOperatorConfig(args, io.env);
  } catch (err: unknown) {
    io.stderr.write(`vmkeeper operator: ${err instanceof Error ? err.message : String(err)}\n\n${err instanceof ConfigError ? "" : OPERATOR_USAGE}`);
    return 2;
  }
  if (cfg === "help") {
    io.stdout.write(OPERATOR_USAGE);
    return 0;
  }
  const log = createLogger({ level: cfg.logLevel });
  const kubeConfig = new KubeConfig();
  try {
    if (cfg.kubeconfig) kubeConfig.loadFromFile(cfg.kubeconfig);
    else kubeConfig.loadFromDefault();
    if (!kubeConfig.getCurrentCluster()) throw new Error("no current cluster in the kubeconfig and not running in a cluster");
  } catch (err: unknown) {
    io.stderr.write(`vmkeeper operator: cannot load Kubernetes client configuration: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "vmkeeper_process_" });
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    log.info({ signal: sig }, "shutting down");
    stop.abort();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    const outcome = await runOperator(cfg, { kubeConfig, clock: new SystemClock(), log, registry }, stop.signal);
    return outcome === "lost" ? 1 : 0;
  } catch (err: unknown) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, "operator failed");
    return 1;
  } finally {
    process.removeListener("SIGTERM", onSignal);
    process.removeListener("SIGINT", onSignal);
  }
}
