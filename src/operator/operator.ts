import type { KubeConfig } from "@kubernetes/client-node";
import { Gauge, type Registry } from "prom-client";
import { HeartbeatReceiver } from "../heartbeat/heartbeat-receiver.js";
import { LeaderElector, type LeaseObject } from "../kube/leader-election.js";
import { ResourceClient } from "../kube/resource-client.js";
import { LEASES } from "../kube/resource-type.js";
import { TransportHttpPoster } from "../notify/http-poster.js";
import { prometheusNotificationMetrics } from "../notify/notification-metrics.js";
import { NotifierRegistry } from "../notify/notifier-registry.js";
import { NotificationDeliveries } from "../controllers/incident/notification-deliveries.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { registeredMetric } from "../util/registered-metric.js";
import { registerResourceMetrics } from "./resource-metrics.js";
import { loadKeyring, watchKeyFile } from "./heartbeat-key-file.js";
import type { OperatorConfig } from "./operator-config.js";
import { buildOperatorContext, type InformerLike } from "./operator-context.js";
import { startMetricsServer, startProbeServer, type ListeningServer } from "./probe-server.js";
import { parseHostPort } from "../heartbeat/udp-address.js";
import { buildFencing } from "./build-fencing.js";
import { startControllers, type LeaderView } from "./start-controllers.js";
import { startAgentReports } from "./agent-reports-receiver.js";
import { buildServerGroupMessaging } from "./server-group-messaging.js";

export interface OperatorDeps {
  kubeConfig: KubeConfig;
  clock: Clock;
  log: Logger;
  registry: Registry;
}

export type OperatorOutcome = "lost" | "stopped";

/**
 * The composition root: every side-effecting dependency is built here and handed down.
 * Every replica runs the informers, the heartbeat and agent report receivers, probes and metrics (a standby
 * is warm and ready); only the leader runs controllers, and the REST client refuses writes
 * from a replica whose lease has passed its renew deadline.
 */
export async function runOperator(cfg: OperatorConfig, deps: OperatorDeps, signal: AbortSignal): Promise<OperatorOutcome> {
  const { clock, log, registry } = deps;
  const ctx = buildOperatorContext(cfg, deps.kubeConfig, clock, log, registry);
  const leaderGauge = registeredMetric(registry, "leader_election_master_status", () =>
    new Gauge({ name: "leader_election_master_status", help: "1 if this replica is the leader for the named lease, else 0", labelNames: ["name"], registers: [registry] }));
  leaderGauge.set({ name: cfg.leaderElectionId }, 0);
  registerInformerGauge(registry, ctx.all);
  registerResourceMetrics(registry, clock, { incidents: () => ctx.informers.incidents.items(), policies: () => ctx.informers.policies.items() });

  const background = new AbortController();
  const receiver = await startHeartbeats(cfg, clock, log, registry, background.signal);
  const sgm = cfg.agentReportsBindAddress && cfg.serverGroupMessaging ? buildServerGroupMessaging(ctx) : undefined;
  const reports = await startAgentReports(cfg, clock, log, registry, background.signal, sgm?.endpoint);
  const deliveries = new NotificationDeliveries();
  const notifiers = new NotifierRegistry({ poster: new TransportHttpPoster(), clock, logger: log.child({ component: "notify" }), metrics: prometheusNotificationMetrics(registry), onReport: (policyKey, report) => deliveries.report(policyKey, report) });
  const probe = await startProbeServer(cfg.healthProbeBindAddress, ctx.all.map((i) => ({ name: `informer-${i.name}`, ready: () => i.isHealthy() })));
  const metrics = await startMetricsServer(cfg.metricsBindAddress, registry);
  log.info({ healthPort: probe.port, metricsPort: metrics.port, identity: cfg.identity, namespace: cfg.namespace ?? "(all)", heartbeats: cfg.heartbeatBindAddress || "off", agentReports: cfg.agentReportsBindAddress || "off" }, "vmkeeper operator started");
  const informerRuns = [...ctx.all.map((i) => i.run(background.signal)), ...(sgm ? [sgm.run(background.signal)] : [])];

  const leader: LeaderView = { identity: cfg.identity, leaseEpoch: () => 0, isLeader: () => true, leadingSinceMs: clock.monotonicMs() };
  const fencing = buildFencing(ctx);
  const kdumpAddress = cfg.kdumpBindAddress ? parseHostPort(cfg.kdumpBindAddress) : undefined;
  if (fencing.kdump && kdumpAddress) log.info({ port: await fencing.kdump.listen(kdumpAddress.host, kdumpAddress.port) }, "kdump notice receiver listening");
  const controllerDeps = { ctx, leader, receiver: receiver?.receiver, reports: reports?.table, notifiers, deliveries, fencing: fencing.provider, fenceDevices: fencing.devices, fencingMetrics: fencing.metrics, ...(sgm ? { sgm } : {}) };
  let outcome: OperatorOutcome = "stopped";
  let controllersDone: Promise<void> = Promise.resolve();
  if (cfg.leaderElect) {
    const elector = new LeaderElector(
      {
        leaseNamespace: cfg.leaderElectionNamespace,
        leaseName: cfg.leaderElectionId,
        identity: cfg.identity,
        leaseDurationMs: cfg.leaseDurationSeconds * 1000,
        renewDeadlineMs: cfg.renewDeadlineSeconds * 1000,
        retryPeriodMs: cfg.retryPeriodSeconds * 1000,
        releaseOnCancel: true,
      },
      new ResourceClient<LeaseObject>(ctx.rest, LEASES),
      clock,
      log.child({ component: "leader-election" }),
      {
        leading: (v) => leaderGauge.set({ name: cfg.leaderElectionId }, v ? 1 : 0),
        newLeader: (id) => log.info({ leader: id }, "observed a new leader"),
      },
    );
    ctx.rest.setWriteGuard(() => elector.assertLeader());
    leader.isLeader = () => elector.isLeader();
    leader.leaseEpoch = () => elector.leaseEpoch();
    outcome = await elector.run(signal, (leading) => {
      leader.leadingSinceMs = clock.monotonicMs();
      controllersDone = startControllers(controllerDeps, leading);
    });
  } else {
    controllersDone = startControllers(controllerDeps, signal);
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }

  await controllersDone;
  background.abort();
  await Promise.all([...informerRuns, receiver?.stop(), reports?.stop(), fencing.kdump?.close()]);
  await notifiers.close(2000);
  await closeAll([probe, metrics]);
  ctx.rest.close();
  ctx.transport.close();
  log.info({ outcome }, outcome === "lost" ? "leadership lost; exiting so that a fresh process campaigns again" : "vmkeeper operator stopped");
  return outcome;
}

/** The heartbeat receiver runs on every replica, leader or not, so a standby takes over warm. */
async function startHeartbeats(cfg: OperatorConfig, clock: Clock, log: Logger, registry: Registry, signal: AbortSignal): Promise<{ receiver: HeartbeatReceiver; stop: () => Promise<void> } | undefined> {
  if (!cfg.heartbeatBindAddress || !cfg.heartbeatKeyFile) return undefined;
  const keyring = await loadKeyring(cfg.heartbeatKeyFile);
  const receiver = new HeartbeatReceiver({ bindAddress: cfg.heartbeatBindAddress, keyring, clock, log: log.child({ component: "heartbeat" }), registry });
  const bound = await receiver.start();
  log.info({ address: bound.address, port: bound.port }, "heartbeat receiver listening");
  const watching = watchKeyFile(cfg.heartbeatKeyFile, keyring, clock, log, signal);
  return {
    receiver,
    stop: async () => {
      await watching;
      await receiver.stop();
    },
  };
}

function registerInformerGauge(registry: Registry, informers: InformerLike[]): void {
  if (registry.getSingleMetric("vmkeeper_informer_synced")) registry.removeSingleMetric("vmkeeper_informer_synced");
  new Gauge({
    name: "vmkeeper_informer_synced",
    help: "1 while the informer's cache is synced and its watch healthy, else 0",
    labelNames: ["resource"],
    registers: [registry],
    collect() {
      for (const i of informers) this.set({ resource: i.name }, i.isHealthy() ? 1 : 0);
    },
  });
}

async function closeAll(servers: ListeningServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.close()));
}
