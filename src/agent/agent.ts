import { Gauge, type Registry } from "prom-client";
import { parseKeyFile, type Keyring } from "../heartbeat/heartbeat-keys.js";
import { HeartbeatReceiver } from "../heartbeat/heartbeat-receiver.js";
import { HeartbeatSender } from "../heartbeat/heartbeat-sender.js";
import { ResolvingTargets, type LookupFn } from "../heartbeat/heartbeat-targets.js";
import type { HostPort } from "../heartbeat/udp-address.js";
import type { DatagramTransport } from "../heartbeat/udp-transport.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { AgentConfig } from "./agent-config.js";
import { startAgentHttpServer, type AgentHttpServer } from "./agent-http-server.js";
import { parsePeerList, type PeerEntry } from "./peer-list.js";
import { PeerMonitor } from "./peer-monitor.js";
import { startHostMonitoring, type HostMonitoring } from "./monitoring/start-host-monitoring.js";
import { prometheusReportClientMetrics } from "./reports/report-client-metrics.js";
import { ResolvingReportClients } from "./reports/resolving-report-clients.js";
import { startNodeSgm } from "./server-group/start-sgm.js";

export interface AgentDeps {
  clock: Clock;
  log: Logger;
  registry: Registry;
  /** Keys read at start (the command fails fast on a bad file). */
  keyring: Keyring;
  transport: DatagramTransport;
  /** Reads the key and peers files again every refresh interval. */
  readText: (path: string) => Promise<string>;
  lookup?: LookupFn;
  agentVersion?: string;
}

export interface RunningAgent {
  /** The UDP port peers send to. */
  listenPort: number;
  healthPort: number;
  sender: HeartbeatSender;
  peerMonitor: PeerMonitor;
  /** Host monitoring (libvirt, guest heartbeat, processes) and its report clients, when configured. */
  monitoring: HostMonitoring | undefined;
  reports: ResolvingReportClients | undefined;
  healthy(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts the agent's parts: the peer receiver (same verification as the operator's), the
 * peer monitor, the sender (operator replicas + peers), the refresh loop (DNS, peers file,
 * key file) and the HTTP endpoint. `stop` ends them all and closes every socket.
 */
export async function startAgent(cfg: AgentConfig, deps: AgentDeps): Promise<RunningAgent> {
  const { clock, log } = deps;
  let peers: PeerEntry[] = cfg.peers ?? (cfg.peersFile === undefined ? [] : await loadPeers(cfg.peersFile, deps));
  const receiver = new HeartbeatReceiver({ bindAddress: cfg.listenAddress, keyring: deps.keyring, clock, log, registry: deps.registry });
  const bound = await receiver.start();
  const peerMonitor = new PeerMonitor({ cloud: cfg.cloud, self: cfg.host, clock, windowMs: cfg.peerWindowMs, seen: receiver });
  peerMonitor.setPeers(peers.map((p) => p.host));
  const specs = (): HostPort[] => [...cfg.operatorTargets, ...peers.filter((p) => p.host !== cfg.host).map((p) => p.endpoint)];
  const targets = new ResolvingTargets(specs, log, deps.lookup);
  await targets.refresh();
  const sender = new HeartbeatSender({
    cloud: cfg.cloud,
    host: cfg.host,
    intervalMs: cfg.intervalMs,
    keyring: deps.keyring,
    targets,
    transport: deps.transport,
    clock,
    log,
    peerReport: () => peerMonitor.report(),
    registry: deps.registry,
    ...(deps.agentVersion === undefined ? {} : { agentVersion: deps.agentVersion }),
  });
  registerPeerGauges(deps.registry, peerMonitor);
  const healthy = (): boolean => {
    const last = sender.lastSentMs();
    return last !== undefined && clock.monotonicMs() - last <= 3 * cfg.intervalMs;
  };
  let http: AgentHttpServer;
  try {
    http = await startAgentHttpServer(cfg.healthAddr, deps.registry, healthy);
  } catch (err: unknown) {
    await receiver.stop();
    throw err;
  }
  const stopping = new AbortController();
  const reports = cfg.reports ? reportClients(cfg.reports, deps) : undefined;
  await reports?.refresh();
  const r = cfg.reports;
  const sgm = r?.serverGroupMessaging && reports ? startNodeSgm({ host: cfg.host, tokenFile: r.tokenFile, caFile: r.caFile, clientCertFile: r.clientCertFile, clientKeyFile: r.clientKeyFile, clock, log, registry: deps.registry }) : undefined;
  const monitoring = r && reports ? startHostMonitoring({ host: cfg.host, ...r }, { sink: reports, registry: deps.registry, clock, log, ...(sgm ? { sgm: sgm.relay, guestControl: { onVote: (uuid, result) => sgm.control.vote(uuid, result), onChannels: () => sgm.control.announce() } } : {}) }) : undefined;
  sgm?.attachGuests(monitoring?.guests);
  sgm?.setEndpoints(reports?.resolved() ?? []);
  if (!monitoring) log.info("host monitoring off (no --report-endpoints): heartbeats and peer checks only");
  const refresh = async (): Promise<void> => {
    if (cfg.peersFile !== undefined) {
      peers = await reloadPeers(cfg.peersFile, peers, deps);
      peerMonitor.setPeers(peers.map((p) => p.host));
    }
    await reloadKeys(cfg.keyFile, deps);
    await targets.refresh();
    await reports?.refresh();
    sgm?.setEndpoints(reports?.resolved() ?? []);
  };
  const loops = [sender.run(stopping.signal), refreshLoop(clock, cfg.refreshIntervalMs, stopping.signal, refresh, log)];
  log.info({ cloud: cfg.cloud, host: cfg.host, bootId: sender.bootId, listen: `${bound.address}:${bound.port}`, targets: targets.current().length, peers: peers.length, intervalMs: cfg.intervalMs }, "agent started");
  return {
    listenPort: bound.port,
    healthPort: http.port,
    sender,
    peerMonitor,
    monitoring,
    reports,
    healthy,
    async stop(): Promise<void> {
      stopping.abort();
      await Promise.all(loops);
      await monitoring?.stop();
      await sgm?.close();
      await reports?.close();
      await Promise.all([receiver.stop(), http.close(), deps.transport.close()]);
      log.info({ host: cfg.host }, "agent stopped");
    },
  };
}

function reportClients(r: NonNullable<AgentConfig["reports"]>, deps: AgentDeps): ResolvingReportClients {
  return new ResolvingReportClients({
    endpoints: r.endpoints,
    tokenFile: r.tokenFile,
    ...(r.caFile ? { caFile: r.caFile } : {}),
    ...(r.clientCertFile && r.clientKeyFile ? { clientCertFile: r.clientCertFile, clientKeyFile: r.clientKeyFile } : {}),
    allowPlainHttp: r.allowHttp,
    clock: deps.clock,
    log: deps.log.child({ component: "reports" }),
    metrics: prometheusReportClientMetrics(deps.registry),
    ...(deps.lookup ? { lookup: deps.lookup } : {}),
  });
}

async function refreshLoop(clock: Clock, everyMs: number, signal: AbortSignal, refresh: () => Promise<void>, log: Logger): Promise<void> {
  while (!signal.aborted) {
    try {
      await clock.sleep(everyMs, signal);
    } catch {
      return;
    }
    try {
      await refresh();
    } catch (err: unknown) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, "agent refresh failed");
    }
  }
}

async function loadPeers(path: string, deps: AgentDeps): Promise<PeerEntry[]> {
  return parsePeerList(await deps.readText(path), path);
}

/** A peers file that became unreadable or invalid keeps the previous list (and says so). */
async function reloadPeers(path: string, previous: PeerEntry[], deps: AgentDeps): Promise<PeerEntry[]> {
  try {
    return await loadPeers(path, deps);
  } catch (err: unknown) {
    deps.log.warn({ path, err: err instanceof Error ? err.message : String(err) }, "cannot re-read peers file; keeping the previous peers");
    return previous;
  }
}

/** Re-reads the key file so a rotated Secret takes effect without a restart; a bad file keeps the old keys. */
async function reloadKeys(path: string, deps: AgentDeps): Promise<void> {
  try {
    const keys = parseKeyFile(await deps.readText(path));
    const ids = keys.map((k) => k.id).join(",");
    if (ids !== deps.keyring.ids().join(",")) deps.log.info({ keyIds: keys.map((k) => k.id) }, "heartbeat keys changed");
    deps.keyring.replace(keys);
  } catch (err: unknown) {
    deps.log.warn({ path, err: err instanceof Error ? err.message : String(err) }, "cannot re-read key file; keeping the previous keys");
  }
}

function registerPeerGauges(registry: Registry, monitor: PeerMonitor): void {
  new Gauge({
    name: "vmkeeper_agent_peers",
    help: "Peers this agent watches, by state (heard within the window, or unreachable).",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const r = monitor.report();
      this.set({ state: "heard" }, r.heard);
      this.set({ state: "unreachable" }, r.unreachableTotal);
    },
  });
}
