import type { KubeConfig } from "@kubernetes/client-node";
import { Gauge, type Registry } from "prom-client";
import type { ComputeHost, OpenStackCloud } from "../api/v1alpha1/index.js";
import { CloudConnectionCache } from "../controllers/openstack-cloud/cloud-connection-cache.js";
import { cloudsReferencingSecret, OpenStackCloudReconciler, type SecretObject } from "../controllers/openstack-cloud/openstack-cloud-reconciler.js";
import { NodeHttpTransport } from "../openstack/node-http-transport.js";
import { Controller } from "../kube/controller.js";
import { prometheusControllerMetrics } from "../kube/controller-metrics.js";
import { KubeEventRecorder, type EventObject } from "../kube/event-recorder.js";
import { Informer } from "../kube/informer.js";
import { LeaderElector, type LeaseObject } from "../kube/leader-election.js";
import { prometheusWorkQueueMetrics, WorkQueue } from "../kube/queue/index.js";
import { ResourceClient } from "../kube/resource-client.js";
import { EVENTS, LEASES, SECRETS, type KubeObject } from "../kube/resource-type.js";
import { KubeRestClient } from "../kube/rest-client.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { VMKEEPER_RESOURCES } from "./vmkeeper-resources.js";
import type { OperatorConfig } from "./operator-config.js";
import { startMetricsServer, startProbeServer, type ListeningServer } from "./probe-server.js";

export interface OperatorDeps {
  kubeConfig: KubeConfig;
  clock: Clock;
  log: Logger;
  registry: Registry;
}

export type OperatorOutcome = "lost" | "stopped";

/**
 * The composition root: every side-effecting dependency is built here and handed down.
 * Every replica runs the informers, probes and metrics (a standby is warm and ready);
 * only the leader runs controllers, and the REST client refuses writes from a replica
 * whose lease has passed its renew deadline.
 */
export async function runOperator(cfg: OperatorConfig, deps: OperatorDeps, signal: AbortSignal): Promise<OperatorOutcome> {
  const { clock, log, registry } = deps;
  const rest = new KubeRestClient(deps.kubeConfig, { userAgent: `vmkeeper/${cfg.identity}`, defaultTimeoutMs: 30_000 });
  const clouds = new ResourceClient<OpenStackCloud>(rest, VMKEEPER_RESOURCES.OpenStackCloud);
  const hosts = new ResourceClient<ComputeHost>(rest, VMKEEPER_RESOURCES.ComputeHost);
  const transport = new NodeHttpTransport({});
  const connector = new CloudConnectionCache(transport, clock, log.child({ component: "openstack" }));
  const secrets = new ResourceClient<SecretObject>(rest, SECRETS);
  const events = new KubeEventRecorder(new ResourceClient<EventObject>(rest, EVENTS), cfg.identity, clock, log.child({ component: "events" }));

  const cloudInformer = new Informer<OpenStackCloud>({ client: rest, type: VMKEEPER_RESOURCES.OpenStackCloud, namespace: cfg.namespace, clock, log });
  const hostInformer = new Informer<ComputeHost>({ client: rest, type: VMKEEPER_RESOURCES.ComputeHost, namespace: cfg.namespace, clock, log });
  const secretInformer = new Informer<KubeObject>({ client: rest, type: SECRETS, namespace: cfg.namespace, metadataOnly: true, clock, log });
  const informers: InformerLike[] = [cloudInformer, hostInformer, secretInformer];

  const controllerMetrics = prometheusControllerMetrics(registry);
  const makeController = (name: string, reconciler: OpenStackCloudReconciler): Controller =>
    new Controller({
      name,
      reconciler,
      workers: cfg.workers,
      clock,
      log,
      metrics: controllerMetrics,
      queue: new WorkQueue({ name, clock, metrics: prometheusWorkQueueMetrics(registry, name) }),
    });

  const leaderGauge = (registry.getSingleMetric("leader_election_master_status") as Gauge | undefined) ??
    new Gauge({ name: "leader_election_master_status", help: "1 if this replica is the leader for the named lease, else 0", labelNames: ["name"], registers: [registry] });
  leaderGauge.set({ name: cfg.leaderElectionId }, 0);
  registerInformerGauge(registry, informers);

  const probe = await startProbeServer(cfg.healthProbeBindAddress, informers.map((i) => ({ name: `informer-${i.name}`, ready: () => i.isHealthy() })));
  const metrics = await startMetricsServer(cfg.metricsBindAddress, registry);
  log.info({ healthPort: probe.port, metricsPort: metrics.port, identity: cfg.identity, namespace: cfg.namespace ?? "(all)" }, "vmkeeper operator started");

  const informersStop = new AbortController();
  const informerRuns = informers.map((i) => i.run(informersStop.signal));

  const startControllers = (leading: AbortSignal): Promise<void> => {
    const listHosts = (ns: string): ComputeHost[] => hostInformer.items().filter((h) => h.metadata?.namespace === ns);
    const cloudController = makeController("openstackcloud", new OpenStackCloudReconciler({ clouds, secrets, hosts, listHosts, connector, events, clock }));
    cloudController.watch(cloudInformer);
    cloudController.watch(secretInformer, (s) => cloudsReferencingSecret(cloudInformer.items(), s.metadata?.namespace, s.metadata?.name));
    // A ComputeHost deleted or edited by hand is put back by its cloud's next pass.
    cloudController.watch(hostInformer, (h) => (h.metadata?.namespace && h.spec?.cloudRef?.name ? [`${h.metadata.namespace}/${h.spec.cloudRef.name}`] : []));
    for (const c of cloudInformer.items()) cloudController.enqueue(`${c.metadata?.namespace}/${c.metadata?.name}`);
    return cloudController.run(leading);
  };

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
      new ResourceClient<LeaseObject>(rest, LEASES),
      clock,
      log.child({ component: "leader-election" }),
      {
        leading: (v) => leaderGauge.set({ name: cfg.leaderElectionId }, v ? 1 : 0),
        newLeader: (id) => log.info({ leader: id }, "observed a new leader"),
      },
    );
    rest.setWriteGuard(() => elector.assertLeader());
    outcome = await elector.run(signal, (leading) => {
      controllersDone = startControllers(leading);
    });
  } else {
    controllersDone = startControllers(signal);
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }

  await controllersDone;
  informersStop.abort();
  await Promise.all(informerRuns);
  await closeAll([probe, metrics]);
  rest.close();
  transport.close();
  log.info({ outcome }, outcome === "lost" ? "leadership lost; exiting so that a fresh process campaigns again" : "vmkeeper operator stopped");
  return outcome;
}

/** What the process needs of every informer, whatever its object type. */
interface InformerLike {
  readonly name: string;
  isHealthy(): boolean;
  run(signal: AbortSignal): Promise<void>;
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
