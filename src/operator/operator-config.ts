import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { parseHostPort } from "../heartbeat/udp-address.js";

export interface OperatorConfig {
  kubeconfig: string | undefined;
  /** Namespace to watch; undefined watches all namespaces. */
  namespace: string | undefined;
  leaderElect: boolean;
  leaderElectionId: string;
  leaderElectionNamespace: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  workers: number;
  logLevel: string;
  /** UDP address for agent heartbeats; "" disables the receiver. */
  heartbeatBindAddress: string;
  /** File of `keyid:base64key` lines (a mounted Secret); required when the receiver is on. */
  heartbeatKeyFile: string | undefined;
  /** How often the host monitor looks at every host. */
  monitorIntervalMs: number;
  /** ipmitool binary for IPMI fencing devices (default: ipmitool on PATH). */
  ipmitoolPath: string | undefined;
  /** Folder of the ClusterLabs fence_* agents (default: PATH). */
  fenceAgentDir: string | undefined;
  /** UDP address for kdump notices; "" (default) turns the receiver off. */
  kdumpBindAddress: string;
  /** HTTPS address of the agent report endpoint (`POST /v1/reports`); "" (default) turns it off. */
  agentReportsBindAddress: string;
  /** PEM serving certificate and key of the report endpoint (a mounted TLS Secret). */
  agentReportsTlsCertFile: string | undefined;
  agentReportsTlsKeyFile: string | undefined;
  /** File of accepted bearer tokens, one per line (a mounted Secret). */
  agentReportsTokenFile: string | undefined;
  /** Serve the report endpoint over plain HTTP (tests only). */
  agentReportsInsecureHttp: boolean;
  /** Server-group messaging on the report endpoint (`/v1/sgm/`); default on with the endpoint. */
  serverGroupMessaging: boolean;
  /** How often each ServerGroupMessaging's members are read from Nova. */
  sgmRefreshIntervalMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid operator configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const OPTIONS = {
  kubeconfig: { type: "string" },
  namespace: { type: "string" },
  "leader-elect": { type: "string" },
  "leader-election-id": { type: "string" },
  "leader-election-namespace": { type: "string" },
  identity: { type: "string" },
  "lease-duration-seconds": { type: "string" },
  "renew-deadline-seconds": { type: "string" },
  "retry-period-seconds": { type: "string" },
  "metrics-bind-address": { type: "string" },
  "health-probe-bind-address": { type: "string" },
  workers: { type: "string" },
  "log-level": { type: "string" },
  "heartbeat-bind-address": { type: "string" },
  "heartbeat-key-file": { type: "string" },
  "monitor-interval-ms": { type: "string" },
  "ipmitool-path": { type: "string" },
  "fence-agent-dir": { type: "string" },
  "kdump-bind-address": { type: "string" },
  "agent-reports-bind-address": { type: "string" },
  "agent-reports-tls-cert-file": { type: "string" },
  "server-group-messaging": { type: "string" },
  "sgm-refresh-interval-ms": { type: "string" },
  "agent-reports-tls-key-file": { type: "string" },
  "agent-reports-token-file": { type: "string" },
  "agent-reports-insecure-http": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export const OPERATOR_USAGE = `Usage: vmkeeper operator [flags]

Runs the vmkeeper controllers. Every flag can also be set through the environment as
VMKEEPER_<FLAG_IN_UPPER_SNAKE_CASE> (for example VMKEEPER_LOG_LEVEL=debug); flags win.

  --kubeconfig PATH                 kubeconfig to use (default: KUBECONFIG, then in-cluster)
  --namespace NS                    watch only this namespace (default: all namespaces)
  --leader-elect true|false         elect a leader through a Lease (default true)
  --leader-election-id NAME         Lease name (default vmkeeper-operator)
  --leader-election-namespace NS    Lease namespace (default: POD_NAMESPACE, else the watched namespace)
  --identity ID                     this replica's identity in the Lease (default: POD_NAME, else the host name)
  --lease-duration-seconds N        default 15
  --renew-deadline-seconds N        default 10 (must be < lease duration)
  --retry-period-seconds N          default 2 (must be < renew deadline / 1.2)
  --metrics-bind-address HOST:PORT  default 0.0.0.0:8080 (/metrics)
  --health-probe-bind-address HOST:PORT  default 0.0.0.0:8081 (/healthz, /readyz)
  --workers N                       concurrent reconciles per controller (default 2)
  --log-level LEVEL                 trace|debug|info|warn|error (default info)
  --heartbeat-bind-address HOST:PORT  UDP address for agent heartbeats (default 0.0.0.0:7946; "" turns it off)
  --heartbeat-key-file PATH         heartbeat keys, one "keyid:base64key" per line (a mounted Secret)
  --monitor-interval-ms N           how often every host's health is assessed (default 500)
  --ipmitool-path PATH              ipmitool for IPMI fencing devices (default: ipmitool on PATH)
  --fence-agent-dir DIR             folder of the fence_* agents (default: PATH)
  --kdump-bind-address HOST:PORT    UDP address for kdump notices of HostFencing Kdump devices (default "": off)
  --agent-reports-bind-address HOST:PORT  HTTPS address of the agent report endpoint POST /v1/reports (default "": off)
  --agent-reports-tls-cert-file PATH  serving certificate (PEM) of the report endpoint
  --agent-reports-tls-key-file PATH   its private key (PEM)
  --agent-reports-token-file PATH   accepted agent bearer tokens, one per line (a mounted Secret; re-read on change)
  --agent-reports-insecure-http true|false  serve the report endpoint over plain HTTP (tests only; default false)
  --server-group-messaging true|false  route server-group messages between node agents on the report
                                    endpoint (/v1/sgm/stream, /v1/sgm/messages; default true)
  --sgm-refresh-interval-ms N       how often server groups' members are read from Nova (default 5000)
`;

/** Parses flags with environment fallbacks and validates them all, reporting every problem at once. */
export function parseOperatorConfig(argv: string[], env: NodeJS.ProcessEnv): OperatorConfig | "help" {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) return "help";
  const pick = (flag: keyof typeof OPTIONS): string | undefined => {
    const v = values[flag];
    if (typeof v === "string") return v;
    const e = env[`VMKEEPER_${flag.toUpperCase().replace(/-/g, "_")}`];
    return e === undefined || e === "" ? undefined : e;
  };
  const problems: string[] = [];
  const int = (flag: keyof typeof OPTIONS, def: number, min: number, max: number): number => {
    const raw = pick(flag);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`--${flag}: "${raw}" is not an integer between ${min} and ${max}`);
      return def;
    }
    return n;
  };
  const namespace = pick("namespace");
  const cfg: OperatorConfig = {
    kubeconfig: pick("kubeconfig") ?? env.KUBECONFIG,
    namespace,
    leaderElect: parseBool(pick("leader-elect") ?? "true", "leader-elect", problems),
    leaderElectionId: pick("leader-election-id") ?? "vmkeeper-operator",
    leaderElectionNamespace: pick("leader-election-namespace") ?? env.POD_NAMESPACE ?? namespace ?? "",
    identity: pick("identity") ?? env.POD_NAME ?? `${hostname()}-${process.pid}`,
    leaseDurationSeconds: int("lease-duration-seconds", 15, 2, 3600),
    renewDeadlineSeconds: int("renew-deadline-seconds", 10, 1, 3600),
    retryPeriodSeconds: int("retry-period-seconds", 2, 1, 600),
    metricsBindAddress: pick("metrics-bind-address") ?? "0.0.0.0:8080",
    healthProbeBindAddress: pick("health-probe-bind-address") ?? "0.0.0.0:8081",
    workers: int("workers", 2, 1, 64),
    logLevel: pick("log-level") ?? "info",
    heartbeatBindAddress: values["heartbeat-bind-address"] ?? env.VMKEEPER_HEARTBEAT_BIND_ADDRESS ?? "0.0.0.0:7946",
    heartbeatKeyFile: pick("heartbeat-key-file"),
    monitorIntervalMs: int("monitor-interval-ms", 500, 100, 60_000),
    ipmitoolPath: pick("ipmitool-path"),
    fenceAgentDir: pick("fence-agent-dir"),
    kdumpBindAddress: values["kdump-bind-address"] ?? env.VMKEEPER_KDUMP_BIND_ADDRESS ?? "",
    agentReportsBindAddress: values["agent-reports-bind-address"] ?? env.VMKEEPER_AGENT_REPORTS_BIND_ADDRESS ?? "",
    agentReportsTlsCertFile: pick("agent-reports-tls-cert-file"),
    agentReportsTlsKeyFile: pick("agent-reports-tls-key-file"),
    agentReportsTokenFile: pick("agent-reports-token-file"),
    agentReportsInsecureHttp: parseBool(pick("agent-reports-insecure-http") ?? "false", "agent-reports-insecure-http", problems),
    serverGroupMessaging: parseBool(pick("server-group-messaging") ?? "true", "server-group-messaging", problems),
    sgmRefreshIntervalMs: int("sgm-refresh-interval-ms", 5000, 200, 600_000),
  };
  validate(cfg, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}

function validate(cfg: OperatorConfig, problems: string[]): void {
  if (cfg.namespace !== undefined && !DNS_LABEL.test(cfg.namespace)) problems.push(`--namespace: "${cfg.namespace}" is not a valid namespace name`);
  if (!LOG_LEVELS.includes(cfg.logLevel)) problems.push(`--log-level: "${cfg.logLevel}" must be one of ${LOG_LEVELS.join(", ")}`);
  if (!DNS_SUBDOMAIN.test(cfg.leaderElectionId)) problems.push(`--leader-election-id: "${cfg.leaderElectionId}" is not a valid Lease name`);
  if (cfg.leaderElect) {
    if (!cfg.leaderElectionNamespace) problems.push("--leader-election-namespace: required when leader election is on (or set POD_NAMESPACE or --namespace)");
    else if (!DNS_LABEL.test(cfg.leaderElectionNamespace)) problems.push(`--leader-election-namespace: "${cfg.leaderElectionNamespace}" is not a valid namespace name`);
    if (!(cfg.leaseDurationSeconds > cfg.renewDeadlineSeconds)) problems.push("--lease-duration-seconds must be greater than --renew-deadline-seconds");
    if (!(cfg.renewDeadlineSeconds > cfg.retryPeriodSeconds * 1.2)) problems.push("--renew-deadline-seconds must be greater than 1.2 × --retry-period-seconds");
  }
  if (cfg.identity.length === 0 || cfg.identity.length > 128) problems.push("--identity: must be 1..128 characters");
  if (cfg.heartbeatBindAddress !== "" && !parseBindAddress(cfg.heartbeatBindAddress)) problems.push(`--heartbeat-bind-address: "${cfg.heartbeatBindAddress}" is not HOST:PORT`);
  if (cfg.kdumpBindAddress !== "" && !parseHostPort(cfg.kdumpBindAddress)) problems.push(`--kdump-bind-address: "${cfg.kdumpBindAddress}" is not HOST:PORT`);
  if (cfg.heartbeatBindAddress !== "" && !cfg.heartbeatKeyFile) problems.push('--heartbeat-key-file: required while the heartbeat receiver is on (or pass --heartbeat-bind-address="" to turn it off)');
  validateAgentReports(cfg, problems);
  for (const [flag, addr] of [["metrics-bind-address", cfg.metricsBindAddress], ["health-probe-bind-address", cfg.healthProbeBindAddress]] as const) {
    if (!parseBindAddress(addr)) problems.push(`--${flag}: "${addr}" is not HOST:PORT with a port 0..65535`);
  }
}

function validateAgentReports(cfg: OperatorConfig, problems: string[]): void {
  if (cfg.agentReportsBindAddress === "") {
    if (cfg.agentReportsInsecureHttp) problems.push("--agent-reports-insecure-http: needs --agent-reports-bind-address");
    return;
  }
  if (!parseBindAddress(cfg.agentReportsBindAddress)) problems.push(`--agent-reports-bind-address: "${cfg.agentReportsBindAddress}" is not HOST:PORT with a port 0..65535`);
  if (!cfg.agentReportsTokenFile) problems.push("--agent-reports-token-file: required while the report endpoint is on");
  if (cfg.agentReportsInsecureHttp) {
    if (cfg.agentReportsTlsCertFile || cfg.agentReportsTlsKeyFile) problems.push("--agent-reports-insecure-http: conflicts with --agent-reports-tls-cert-file/--agent-reports-tls-key-file");
    return;
  }
  if (!cfg.agentReportsTlsCertFile || !cfg.agentReportsTlsKeyFile) problems.push("--agent-reports-tls-cert-file and --agent-reports-tls-key-file: both required while the report endpoint is on (plain HTTP only with --agent-reports-insecure-http=true, for tests)");
}

function parseBool(raw: string, flag: string, problems: string[]): boolean {
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  problems.push(`--${flag}: "${raw}" must be true or false`);
  return true;
}

export function parseBindAddress(addr: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]*):(\d{1,5})$/.exec(addr);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const host = (m[1] ?? "").replace(/^\[|\]$/g, "");
  return { host: host === "" ? "0.0.0.0" : host, port };
}
