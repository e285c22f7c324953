import type { Registry } from "prom-client";
import { prometheusReceiverMetrics } from "../agent-reports/receiver-metrics.js";
import { AgentReportServer, type ReportServerOptions } from "../agent-reports/report-server.js";
import { AgentReportTable } from "../agent-reports/report-table.js";
import { TokenSet } from "../agent-reports/token-set.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { OperatorConfig } from "./operator-config.js";
import { parseBindAddress } from "./operator-config.js";

export interface AgentReportsReceiver {
  table: AgentReportTable;
  stop: () => Promise<void>;
}

/**
 * The agent report endpoint runs on every replica, leader or not, so that a standby's
 * table is warm when it takes over. Undefined when the endpoint is off.
 */
export async function startAgentReports(cfg: OperatorConfig, clock: Clock, log: Logger, registry: Registry, signal: AbortSignal, sgm?: ReportServerOptions["sgm"]): Promise<AgentReportsReceiver | undefined> {
  const addr = cfg.agentReportsBindAddress ? parseBindAddress(cfg.agentReportsBindAddress) : undefined;
  if (!addr || !cfg.agentReportsTokenFile) return undefined;
  const table = new AgentReportTable();
  const rlog = log.child({ component: "agent-reports" });
  const server = new AgentReportServer({
    host: addr.host,
    port: addr.port,
    ...(cfg.agentReportsTlsCertFile ? { tlsCertFile: cfg.agentReportsTlsCertFile } : {}),
    ...(cfg.agentReportsTlsKeyFile ? { tlsKeyFile: cfg.agentReportsTlsKeyFile } : {}),
    insecureHttp: cfg.agentReportsInsecureHttp,
    tokens: new TokenSet(cfg.agentReportsTokenFile),
    table,
    clock,
    log: rlog,
    metrics: prometheusReceiverMetrics(registry),
    ...(sgm ? { sgm } : {}),
  });
  const bound = await server.start(signal);
  if (cfg.agentReportsInsecureHttp) rlog.warn({ port: bound.port }, "agent report endpoint serves PLAIN HTTP (--agent-reports-insecure-http): for tests only");
  rlog.info({ address: bound.address, port: bound.port, tls: !cfg.agentReportsInsecureHttp }, "agent report endpoint listening");
  return { table, stop: () => server.stop() };
}
