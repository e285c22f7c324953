import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { MAX_CLOUD_BYTES } from "../heartbeat/heartbeat-codec.js";
import { ipFamily, parseHostPort, type HostPort } from "../heartbeat/udp-address.js";
import { isValidHostId, parsePeerList, PeerListError, type PeerEntry } from "./peer-list.js";

export interface AgentConfig {
  cloud: string;
  /** The nova-compute service host name of this machine. */
  host: string;
  operatorTargets: HostPort[];
  /** Static peers from --peers; undefined when --peers-file is used (or no peers). */
  peers: PeerEntry[] | undefined;
  peersFile: string | undefined;
  listenAddress: string;
  intervalMs: number;
  peerWindowMs: number;
  keyFile: string;
  healthAddr: string;
  refreshIntervalMs: number;
  logLevel: string;
  /** Host monitoring and its reports to the operator; undefined: heartbeats and peer checks only. */
  reports: AgentReportsConfig | undefined;
}

export interface AgentReportsConfig {
  endpoints: string[];
  tokenFile: string;
  caFile: string | undefined;
  clientCertFile: string | undefined;
  clientKeyFile: string | undefined;
  /** http:// endpoints accepted (tests and labs only). */
  allowHttp: boolean;
  /** undefined: libvirt monitoring (and with it the guest heartbeat) off. */
  libvirtUri: string | undefined;
  extraProcessChecks: string[];
  processCheckIntervalMs: number;
  guestIntervalMs: number;
  guestThreshold: number;
  /** Server-group messaging relay for the guests (docs/server-group-messaging.md); default on. */
  serverGroupMessaging: boolean;
  /** Static guest channels file (`UUID SOCKET` lines), besides libvirt's. */
  guestChannelsFile: string | undefined;
  /** Attach the heartbeat channel to running Nova domains that lack it (docs/agent-libvirt.md). */
  attachHeartbeatChannels: boolean;
  /** `--channel-path-map FROM=TO`: libvirt's channel sockets under FROM are reached under TO. */
  channelPathMap: { from: string; to: string } | undefined;
}

export class AgentConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid agent configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "AgentConfigError";
  }
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];

const OPTIONS = {
  cloud: { type: "string" },
  host: { type: "string" },
  "operator-targets": { type: "string" },
  peers: { type: "string" },
  "peers-file": { type: "string" },
  "listen-address": { type: "string" },
  "interval-ms": { type: "string" },
  "peer-window-ms": { type: "string" },
  "key-file": { type: "string" },
  "health-addr": { type: "string" },
  "refresh-interval-ms": { type: "string" },
  "log-level": { type: "string" },
  "report-endpoints": { type: "string" },
  "report-token-file": { type: "string" },
  "report-ca-file": { type: "string" },
  "report-client-cert-file": { type: "string" },
  "report-client-key-file": { type: "string" },
  "report-allow-http": { type: "string" },
  "libvirt-uri": { type: "string" },
  "process-checks": { type: "string" },
  "process-check-interval-ms": { type: "string" },
  "guest-interval-ms": { type: "string" },
  "guest-threshold": { type: "string" },
  "server-group-messaging": { type: "string" },
  "attach-heartbeat-channels": { type: "string" },
  "channel-path-map": { type: "string" },
  "guest-channels-file": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Flag = Exclude<keyof typeof OPTIONS, "help">;

export const AGENT_USAGE = `Usage: vmkeeper agent [flags]

Runs on a compute host: sends signed UDP heartbeats to every operator replica and to its
peers, listens for the peers' heartbeats, and reports the peers it cannot hear. Every flag
can also be set as VMKEEPER_<FLAG_IN_UPPER_SNAKE_CASE> (e.g. VMKEEPER_KEY_FILE); flags win.

  --cloud NAME                      OpenStackCloud name this host belongs to (required)
  --host NAME                       nova-compute service host name (default: the machine's host name)
  --operator-targets H:P,...        operator heartbeat endpoints; names are re-resolved and every
                                    address is a target (e.g. a headless Service) (required)
  --peers HOST=ADDR:PORT,...        peer agents (other compute hosts of the cloud)
  --peers-file PATH                 the same, one per line, re-read every refresh interval
  --listen-address IP:PORT          UDP address for peer heartbeats (default 0.0.0.0:7947)
  --interval-ms N                   heartbeat interval, 100..60000 (default 1000)
  --peer-window-ms N                a peer not heard for this long is unreachable
                                    (default 3 × interval, at least 2 × interval)
  --key-file PATH                   keyid:base64key lines; the first signs, all verify (required)
  --health-addr IP:PORT             HTTP /healthz and /metrics (default 0.0.0.0:7948)
  --refresh-interval-ms N           re-resolve targets, re-read peers and key files (default 10000)
  --log-level LEVEL                 trace|debug|info|warn|error (default info)

Host monitoring (on when --report-endpoints is set), reported to the operator over HTTPS:
  --report-endpoints URL,...        operator report endpoints (https://NAME:PORT/v1/reports); a name
                                    that resolves to several addresses (a headless Service) means
                                    every replica, each with its own buffer (re-resolved)
  --report-token-file PATH          bearer token for the endpoints (required with them; re-read)
  --report-ca-file PATH             CA bundle that signed the operator's certificate
  --report-client-cert-file PATH    client certificate for mutual TLS (with --report-client-key-file)
  --report-client-key-file PATH
  --report-allow-http true|false    accept http:// endpoints (tests and labs only; default false)
  --libvirt-uri URI|off             libvirt connection for domain events, the domain inventory and
                                    the guest heartbeat channels (default qemu:///system)
  --process-checks NAME[|ALT],...   host processes to check besides nova-compute, libvirtd|virtqemud
  --process-check-interval-ms N     default 10000
  --guest-interval-ms N             guest heartbeat challenge interval, 400..60000 (default 1000)
  --guest-threshold N               missed challenges before Unresponsive, 1..20 (default 3)
  --server-group-messaging true|false
                                    relay server-group messages between the guests here and the
                                    operator (GET /v1/sgm/stream, POST /v1/sgm/messages on the report
                                    endpoints' replicas; default true)
  --guest-channels-file PATH        static guest channels, "INSTANCE_UUID SOCKET_PATH" per line,
                                    re-read every 2 s (hosts without libvirt, tests)
  --attach-heartbeat-channels true|false
                                    attach the org.vmkeeper.heartbeat.0 channel live to running Nova
                                    domains that have a virtio-serial controller but not the channel
                                    (e.g. images with hw_qemu_guest_agent=yes; default false)
  --channel-path-map FROM=TO        reach libvirt's channel sockets under TO where libvirt says FROM
                                    (an agent container mounting /var/lib/libvirt elsewhere)
`;

/** Parses flags with VMKEEPER_* fallbacks and reports every problem at once. */
export function parseAgentConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig | "help" {
  let values: ReturnType<typeof parseFlags>;
  try {
    values = parseFlags(argv);
  } catch (err: unknown) {
    throw new AgentConfigError([err instanceof Error ? err.message : String(err)]);
  }
  if (values.help) return "help";
  const pick = (flag: Flag): string | undefined => {
    const v = values[flag];
    if (typeof v === "string") return v;
    const e = env[`VMKEEPER_${flag.toUpperCase().replace(/-/g, "_")}`];
    return e === undefined || e === "" ? undefined : e;
  };
  const problems: string[] = [];
  const int = (flag: Flag, def: number, min: number, max: number): number => {
    const raw = pick(flag);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`--${flag}: "${raw}" is not an integer between ${min} and ${max}`);
      return def;
    }
    return n;
  };
  const intervalMs = int("interval-ms", 1000, 100, 60_000);
  const cfg: AgentConfig = {
    cloud: pick("cloud") ?? "",
    host: pick("host") ?? hostname(),
    operatorTargets: parseTargets(pick("operator-targets"), problems),
    peers: parsePeersFlag(pick("peers"), problems),
    peersFile: pick("peers-file"),
    listenAddress: pick("listen-address") ?? "0.0.0.0:7947",
    intervalMs,
    peerWindowMs: int("peer-window-ms", 3 * intervalMs, 2 * intervalMs, 3_600_000),
    keyFile: pick("key-file") ?? "",
    healthAddr: pick("health-addr") ?? "0.0.0.0:7948",
    refreshIntervalMs: int("refresh-interval-ms", 10_000, 1000, 3_600_000),
    logLevel: pick("log-level") ?? "info",
    reports: parseReports(pick, int, problems),
  };
  validate(cfg, problems);
  if (problems.length > 0) throw new AgentConfigError(problems);
  return cfg;
}

function parseReports(pick: (flag: Flag) => string | undefined, int: (flag: Flag, def: number, min: number, max: number) => number, problems: string[]): AgentReportsConfig | undefined {
  const raw = pick("report-endpoints");
  const dependent: Flag[] = ["report-token-file", "report-ca-file", "report-client-cert-file", "report-client-key-file", "libvirt-uri", "process-checks", "guest-interval-ms", "guest-threshold", "server-group-messaging", "guest-channels-file", "attach-heartbeat-channels", "channel-path-map"];
  if (raw === undefined) {
    const stray = dependent.filter((f) => pick(f) !== undefined);
    if (stray.length > 0) problems.push(`${stray.map((f) => `--${f}`).join(", ")}: only with --report-endpoints (host monitoring reports to the operator)`);
    return undefined;
  }
  const allowHttpRaw = pick("report-allow-http") ?? "false";
  if (allowHttpRaw !== "true" && allowHttpRaw !== "false") problems.push(`--report-allow-http: "${allowHttpRaw}" must be true or false`);
  const allowHttp = allowHttpRaw === "true";
  const endpoints = raw.split(",").map((e) => e.trim()).filter((e) => e !== "");
  if (endpoints.length === 0) problems.push("--report-endpoints: no endpoints given");
  for (const e of endpoints) {
    let url: URL | undefined;
    try {
      url = new URL(e);
    } catch {
      problems.push(`--report-endpoints: "${e}" is not a URL`);
      continue;
    }
    if (url.protocol !== "https:" && !(allowHttp && url.protocol === "http:")) problems.push(`--report-endpoints: "${e}" must be https:// (http:// only with --report-allow-http=true)`);
    if (url.username || url.password) problems.push(`--report-endpoints: "${e}" must not carry credentials; use --report-token-file`);
  }
  const tokenFile = pick("report-token-file") ?? "";
  if (tokenFile === "") problems.push("--report-token-file: required with --report-endpoints");
  const clientCertFile = pick("report-client-cert-file");
  const clientKeyFile = pick("report-client-key-file");
  if ((clientCertFile === undefined) !== (clientKeyFile === undefined)) problems.push("--report-client-cert-file and --report-client-key-file go together");
  const sgmRaw = pick("server-group-messaging") ?? "true";
  if (sgmRaw !== "true" && sgmRaw !== "false") problems.push(`--server-group-messaging: "${sgmRaw}" must be true or false`);
  const attachRaw = pick("attach-heartbeat-channels") ?? "false";
  if (attachRaw !== "true" && attachRaw !== "false") problems.push(`--attach-heartbeat-channels: "${attachRaw}" must be true or false`);
  const libvirt = pick("libvirt-uri") ?? "qemu:///system";
  if (attachRaw === "true" && libvirt === "off") problems.push("--attach-heartbeat-channels: needs libvirt (--libvirt-uri is off)");
  const mapRaw = pick("channel-path-map");
  const mapParts = mapRaw?.split("=");
  const channelPathMap = mapParts && mapParts.length === 2 && mapParts[0]?.startsWith("/") && mapParts[1]?.startsWith("/") ? { from: mapParts[0], to: mapParts[1] } : undefined;
  if (mapRaw !== undefined && !channelPathMap) problems.push(`--channel-path-map: "${mapRaw}" must be FROM=TO, two absolute paths`);
  const checks = (pick("process-checks") ?? "").split(",").map((c) => c.trim()).filter((c) => c !== "");
  for (const c of checks) if (!/^[A-Za-z0-9._+-]+(\|[A-Za-z0-9._+-]+)*$/.test(c)) problems.push(`--process-checks: "${c}" is not a process name (or names joined by |)`);
  return {
    endpoints,
    tokenFile,
    caFile: pick("report-ca-file"),
    clientCertFile,
    clientKeyFile,
    allowHttp,
    libvirtUri: libvirt === "off" ? undefined : libvirt,
    extraProcessChecks: checks,
    processCheckIntervalMs: int("process-check-interval-ms", 10_000, 1000, 3_600_000),
    guestIntervalMs: int("guest-interval-ms", 1000, 400, 60_000),
    guestThreshold: int("guest-threshold", 3, 1, 20),
    serverGroupMessaging: sgmRaw !== "false",
    guestChannelsFile: pick("guest-channels-file"),
    attachHeartbeatChannels: attachRaw === "true",
    channelPathMap,
  };
}

function parseFlags(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
}

function parseTargets(raw: string | undefined, problems: string[]): HostPort[] {
  if (raw === undefined) {
    problems.push("--operator-targets: required (HOST:PORT,... of the operator replicas' heartbeat receivers)");
    return [];
  }
  const targets: HostPort[] = [];
  for (const item of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const t = parseHostPort(item);
    if (!t || t.port === 0) problems.push(`--operator-targets: "${item}" is not HOST:PORT with a port 1..65535`);
    else targets.push(t);
  }
  if (targets.length === 0 && !problems.some((p) => p.startsWith("--operator-targets"))) problems.push("--operator-targets: no targets given");
  return targets;
}

function parsePeersFlag(raw: string | undefined, problems: string[]): PeerEntry[] | undefined {
  if (raw === undefined) return undefined;
  try {
    return parsePeerList(raw, "--peers");
  } catch (err: unknown) {
    problems.push(err instanceof PeerListError ? err.message : String(err));
    return undefined;
  }
}

function validate(cfg: AgentConfig, problems: string[]): void {
  const cloudBytes = Buffer.byteLength(cfg.cloud, "utf8");
  if (cfg.cloud === "") problems.push("--cloud: required (the OpenStackCloud name)");
  else if (cloudBytes > MAX_CLOUD_BYTES || !isValidHostId(cfg.cloud)) problems.push(`--cloud: "${cfg.cloud}" must be 1..${MAX_CLOUD_BYTES} printable bytes without spaces`);
  if (!isValidHostId(cfg.host)) problems.push(`--host: "${cfg.host}" must be 1..255 printable bytes without spaces, "=", "," or "#"`);
  if (cfg.peers !== undefined && cfg.peersFile !== undefined) problems.push("--peers and --peers-file are mutually exclusive");
  if (cfg.keyFile === "") problems.push("--key-file: required (keyid:base64key lines)");
  const listen = parseHostPort(cfg.listenAddress);
  if (!listen || !ipFamily(listen.host)) problems.push(`--listen-address: "${cfg.listenAddress}" is not IP:PORT or [IPV6]:PORT`);
  const health = parseHostPort(cfg.healthAddr);
  if (!health || !ipFamily(health.host)) problems.push(`--health-addr: "${cfg.healthAddr}" is not IP:PORT or [IPV6]:PORT`);
  if (!LOG_LEVELS.includes(cfg.logLevel)) problems.push(`--log-level: "${cfg.logLevel}" must be one of ${LOG_LEVELS.join(", ")}`);
}
