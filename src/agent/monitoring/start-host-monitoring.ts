import type { Registry } from "prom-client";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import { GuestChannelManager, type GuestChannelManagerOptions, type GuestSgmHooks } from "../guest-channels/guest-channel-manager.js";
import { DomainInventory } from "../libvirt/domain-inventory.js";
import { LibvirtEventWatcher } from "../libvirt/libvirt-event-watcher.js";
import { HeartbeatChannelAttacher } from "../libvirt/heartbeat-channel-attacher.js";
import { VirshClient } from "../libvirt/virsh-client.js";
import { followGuestChannelsFile } from "./static-guest-channels.js";
import { ProcessChecker } from "../process-checks/process-checker.js";
import { processChecks } from "../process-checks/process-check.js";
import type { AgentReportSink } from "../reports/agent-report.js";

export interface HostMonitoringConfig {
  host: string;
  /** libvirt connection URI, or undefined to leave libvirt (and so the guest heartbeat) off. */
  libvirtUri: string | undefined;
  /** Process names (or `a|b` alternatives) checked besides nova-compute and libvirtd|virtqemud. */
  extraProcessChecks: string[];
  processCheckIntervalMs: number;
  guestIntervalMs: number;
  guestThreshold: number;
  /** Static guest channels (`UUID SOCKET` lines, re-read every 2 s), instead of or besides libvirt's. */
  guestChannelsFile?: string | undefined;
  /** Plug the heartbeat channel into running Nova domains that lack it (see HeartbeatChannelAttacher). */
  attachHeartbeatChannels?: boolean;
  /** Where libvirt's channel directory is seen from here, when not at libvirt's own path (`FROM=TO`). */
  channelPathMap?: { from: string; to: string } | undefined;
}

export interface HostMonitoringDeps {
  sink: AgentReportSink;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** Server-group messaging: guest sessions announce the `sgm` group and its lines go here. */
  sgm?: GuestSgmHooks;
  /** Guest control over the operator link: channel list changes and guests' votes go here. */
  guestControl?: Pick<GuestChannelManagerOptions, "onVote" | "onChannels">;
  /** Test seams: the libvirt reader and procfs root. */
  virshPath?: string;
  procRoot?: string;
}

export interface HostMonitoring {
  inventory: DomainInventory | undefined;
  guests: GuestChannelManager | undefined;
  processes: ProcessChecker;
  stop(): Promise<void>;
}

/**
 * The agent's eyes on its host beyond heartbeats, wired together: the libvirt domain
 * inventory and event stream (VM-layer failures), one guest heartbeat session per domain
 * that has the vmkeeper channel (guest-OS and application layers; the inventory's channel
 * list drives the channel manager), and host process checks. Everything they see goes to
 * `sink` (the buffered report clients); none of it acts on the host.
 */
export function startHostMonitoring(cfg: HostMonitoringConfig, deps: HostMonitoringDeps): HostMonitoring {
  const { sink, registry, clock, log } = deps;
  const stopping = new AbortController();
  const runs: Promise<void>[] = [];
  const processes = new ProcessChecker({ host: cfg.host, sink, registry, clock, log: log.child({ component: "process-checks" }), checks: processChecks(cfg.extraProcessChecks), intervalMs: cfg.processCheckIntervalMs, ...(deps.procRoot ? { procRoot: deps.procRoot } : {}) });
  runs.push(processes.run(stopping.signal));
  let inventory: DomainInventory | undefined;
  let guests: GuestChannelManager | undefined;
  if (cfg.libvirtUri !== undefined || cfg.guestChannelsFile !== undefined) {
    guests = new GuestChannelManager({ host: cfg.host, sink, registry, clock, log: log.child({ component: "guest-heartbeat" }), session: { intervalMs: cfg.guestIntervalMs, threshold: cfg.guestThreshold }, ...(deps.sgm ? { sgm: deps.sgm } : {}), ...deps.guestControl });
  }
  if (cfg.guestChannelsFile !== undefined && guests) {
    const g = guests;
    runs.push(followGuestChannelsFile(cfg.guestChannelsFile, 2000, clock, log, (channels) => g.setChannels(channels), stopping.signal));
  }
  if (cfg.libvirtUri !== undefined && guests) {
    const uri = cfg.libvirtUri;
    const g = guests;
    const virsh = new VirshClient({ uri, ...(deps.virshPath ? { virshPath: deps.virshPath } : {}) });
    const attacher = cfg.attachHeartbeatChannels ? new HeartbeatChannelAttacher({ writer: virsh, registry, clock, log: log.child({ component: "libvirt" }) }) : undefined;
    const inv: DomainInventory = new DomainInventory({
      reader: virsh,
      registry,
      clock,
      log: log.child({ component: "libvirt" }),
      onChange: (domains) => {
        g.setChannels(inv.heartbeatChannels().map((c) => ({ ...c, socketPath: mapChannelPath(c.socketPath, cfg.channelPathMap) })));
        void attacher?.reconcile(domains).then((attached) => attached && inv.requestRefresh());
      },
    });
    inventory = inv;
    const watcher = new LibvirtEventWatcher({ host: cfg.host, sink, inventory: inv, registry, clock, log: log.child({ component: "libvirt" }), uri, ...(deps.virshPath ? { virshPath: deps.virshPath } : {}) });
    runs.push(inv.run(stopping.signal), watcher.run(stopping.signal));
    if (attacher) runs.push(retryAttaches(attacher, inv, clock, stopping.signal));
  }
  log.info({ libvirt: cfg.libvirtUri ?? "off", attachHeartbeatChannels: cfg.attachHeartbeatChannels ?? false, guestIntervalMs: cfg.guestIntervalMs, guestThreshold: cfg.guestThreshold, processChecks: processChecks(cfg.extraProcessChecks).length }, "host monitoring started");
  return {
    inventory,
    guests,
    processes,
    async stop(): Promise<void> {
      stopping.abort();
      await Promise.allSettled(runs);
      await guests?.close();
    },
  };
}

/** Domains whose attach failed get another try once a minute (an inventory change tries at once). */
async function retryAttaches(attacher: HeartbeatChannelAttacher, inv: DomainInventory, clock: Clock, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      await clock.sleep(60_000, signal);
    } catch {
      return;
    }
    if (await attacher.reconcile(inv.list())) inv.requestRefresh();
  }
}

/**
 * A channel socket path as libvirt reports it, seen from the agent: under `to` instead of
 * `from` when the agent sees libvirt's directory elsewhere (a container mounting it at
 * another path, a libvirtd in its own mount namespace). Other paths are kept.
 */
export function mapChannelPath(path: string, map: { from: string; to: string } | undefined): string {
  if (!map) return path;
  const from = map.from.replace(/\/+$/, "");
  return path === from || path.startsWith(`${from}/`) ? `${map.to.replace(/\/+$/, "")}${path.slice(from.length)}` : path;
}
