import type { ComputeHost, Incident, InstanceHAPolicy } from "../api/v1alpha1/index.js";
import type { HeartbeatReceiver } from "../heartbeat/heartbeat-receiver.js";
import { EventIncidentNotifier } from "../controllers/incident/event-incident-notifier.js";
import { incidentKeysAwaitingHost } from "../controllers/incident/host-return-follower.js";
import type { NotificationDeliveries } from "../controllers/incident/notification-deliveries.js";
import type { FencingProvider } from "../controllers/incident/fencing-provider.js";
import { IncidentReconciler } from "../controllers/incident/incident-reconciler.js";
import { incidentMetrics } from "../controllers/incident/incident-metrics.js";
import { PolicyProtectionSource } from "../controllers/incident/policy-protection-source.js";
import { HostMonitorReconciler } from "../controllers/host-monitor/host-monitor-reconciler.js";
import { hostMonitorMetrics } from "../controllers/host-monitor/host-monitor-metrics.js";
import { InstanceHAPolicyReconciler, policyKeysForCloud } from "../controllers/instance-ha-policy/instance-ha-policy-reconciler.js";
import { policyMetrics } from "../controllers/instance-ha-policy/policy-metrics.js";
import { cloudsReferencingSecret, OpenStackCloudReconciler } from "../controllers/openstack-cloud/openstack-cloud-reconciler.js";
import { Controller, type Reconciler } from "../kube/controller.js";
import type { FencingMetrics } from "../controllers/host-fencing/fencing-metrics.js";
import { HostFencingReconciler, hostFencingKeysForHost, hostFencingKeysForSecret } from "../controllers/host-fencing/host-fencing-reconciler.js";
import { secretReader } from "../controllers/host-fencing/secret-reader.js";
import type { FenceDeviceFactory } from "../fencing/fence-device-factory.js";
import { prometheusControllerMetrics } from "../kube/controller-metrics.js";
import { prometheusWorkQueueMetrics, WorkQueue } from "../kube/queue/index.js";
import { objectKey } from "../kube/resource-type.js";
import type { NotifierRegistry } from "../notify/notifier-registry.js";
import type { OperatorContext } from "./operator-context.js";
import { WebhookIncidentSink } from "./webhook-incident-sink.js";
import { instanceRecoveryController } from "./instance-recovery-controller.js";
import { guestActionsController } from "./guest-actions-controller.js";
import { guestSettingsController } from "./guest-settings-controller.js";
import { ProtectionIndex } from "../controllers/instance-ha-policy/protection-index.js";
import type { AgentReportTable } from "../agent-reports/report-table.js";
import { sgmController, type OperatorSgm } from "./server-group-messaging.js";

export interface LeaderView {
  identity: string;
  leaseEpoch: () => number;
  /** The last lease renew is within the renew deadline (always true without leader election). */
  isLeader: () => boolean;
  leadingSinceMs: number;
}

export interface ControllerDeps {
  ctx: OperatorContext;
  leader: LeaderView;
  receiver: HeartbeatReceiver | undefined;
  /** What the node agents reported (undefined: the report endpoint is off). */
  reports?: AgentReportTable | undefined;
  notifiers: NotifierRegistry;
  /** Webhook delivery reports of `notifiers`, written back to the Incidents by the incident controller. */
  deliveries?: NotificationDeliveries;
  fencing: FencingProvider;
  fenceDevices: FenceDeviceFactory;
  fencingMetrics: FencingMetrics;
  /** Server-group messaging (with the report endpoint). */
  sgm?: OperatorSgm;
}

const cloudKey = (ns: string | undefined, name: string | undefined): string[] => (ns && name ? [`${ns}/${name}`] : []);

/** Registers every controller (leader only) and runs them until `leading` aborts. */
export function startControllers(d: ControllerDeps, leading: AbortSignal): Promise<void> {
  const { ctx } = d;
  const { informers: inf, clients, clock, log, registry, cfg } = ctx;
  const metrics = prometheusControllerMetrics(registry);
  const make = (name: string, reconciler: Reconciler): Controller =>
    new Controller({ name, reconciler, workers: cfg.workers, clock, log, metrics, queue: new WorkQueue({ name, clock, metrics: prometheusWorkQueueMetrics(registry, name) }) });
  const byNs = {
    hosts: (ns: string) => ctx.inNamespace(inf.hosts, ns),
    policies: (ns: string) => ctx.inNamespace(inf.policies, ns),
    incidents: (ns: string) => ctx.inNamespace(inf.incidents, ns),
  };

  const clouds = make("openstackcloud", new OpenStackCloudReconciler({ clouds: clients.clouds, secrets: clients.secrets, hosts: clients.hosts, listHosts: byNs.hosts, connector: ctx.connector, events: ctx.events, clock }));
  clouds.watch(inf.clouds);
  clouds.watch(inf.secrets, (s) => cloudsReferencingSecret(inf.clouds.items(), s.metadata?.namespace, s.metadata?.name));
  // A ComputeHost deleted by hand is put back by its cloud's next pass (status writes of the
  // host monitor must not trigger a Nova inventory read each).
  clouds.watch(inf.hosts, (h, deleted) => (deleted ? cloudKey(h.metadata?.namespace, h.spec?.cloudRef?.name) : []));

  const protection = new ProtectionIndex();
  const policies = policyController(d, make, byNs, protection);

  const monitor = make("hostmonitor", new HostMonitorReconciler({
    getCloud: (key) => inf.clouds.get(key),
    listHosts: byNs.hosts,
    listPolicies: byNs.policies,
    listIncidents: byNs.incidents,
    novaFor: ctx.novaFor,
    heartbeats: (cloud, nowMs, windowMs) => {
      const views = d.receiver?.peerViews(cloud, nowMs, windowMs);
      return {
        lastSeenMs: (host) => d.receiver?.lastSeenMs({ cloud, host }),
        peers: (host) => {
          const v = views?.of(host);
          return { reporting: v?.reporting ?? 0, unreachable: v?.unreachable ?? 0 };
        },
      };
    },
    incidents: clients.incidents,
    hosts: clients.hosts,
    events: ctx.events,
    clock,
    identity: cfg.identity,
    observer: () => ({ kubeApiOk: d.leader.isLeader(), leadingSinceMs: d.leader.leadingSinceMs }),
    intervalMs: cfg.monitorIntervalMs,
    metrics: hostMonitorMetrics(registry),
  }));
  monitor.watch(inf.clouds);
  const incidents = incidentController(d, make, byNs, leading);
  const fencings = make("hostfencing", new HostFencingReconciler({
    hostFencings: clients.hostFencings,
    listHostFencings: (ns) => ctx.inNamespace(inf.hostFencings, ns),
    listHosts: byNs.hosts,
    listIncidents: byNs.incidents,
    secrets: (ns) => secretReader(clients.secrets, ns),
    secretVersion: (ns, name) => inf.secrets.get(`${ns}/${name}`)?.metadata?.resourceVersion,
    devices: d.fenceDevices,
    patchIncidentStatus: (ns, name, patch) => clients.incidents.mergePatch(ns, name, patch, "status"),
    events: ctx.events,
    clock,
    metrics: d.fencingMetrics,
  }));
  // Every HostFencing of the namespace re-checks its selection when one changes (conflicts).
  fencings.watch(inf.hostFencings, (hf) => hostFencingKeysForHost(inf.hostFencings.items(), hf.metadata?.namespace, hf.spec?.cloudRef?.name));
  fencings.watch(inf.hosts, (h) => hostFencingKeysForHost(inf.hostFencings.items(), h.metadata?.namespace, h.spec?.cloudRef?.name));
  fencings.watch(inf.secrets, (s) => hostFencingKeysForSecret(inf.hostFencings.items(), s.metadata?.namespace, s.metadata?.name));
  fencings.watch(inf.incidents, (i) => (i.status?.fencing?.hostFencingRef?.name ? [`${i.metadata?.namespace ?? ""}/${i.status.fencing.hostFencingRef.name}`] : []));

  for (const c of inf.clouds.items()) {
    clouds.enqueue(objectKey(c));
    monitor.enqueue(objectKey(c));
  }
  for (const p of inf.policies.items()) policies.enqueue(objectKey(p));
  for (const hf of inf.hostFencings.items()) fencings.enqueue(objectKey(hf));
  const vmLevel = vmLevelControllers(d, protection, make, leading);
  return Promise.all([clouds, policies, monitor, incidents, fencings, ...vmLevel].map((c) => c.run(leading))).then(() => undefined);
}

/** The InstanceHAPolicy controller; every evaluation also refreshes `protection` (who protects what). */
function policyController(d: ControllerDeps, make: (name: string, reconciler: Reconciler) => Controller, byNs: ByNamespace, protection: ProtectionIndex): Controller {
  const { ctx } = d;
  const { informers: inf, clients, clock, registry } = ctx;
  const policies = make("instancehapolicy", new InstanceHAPolicyReconciler({
    protection,
    policies: clients.policies,
    getCloud: (ns, name) => Promise.resolve(inf.clouds.get(`${ns}/${name}`)),
    connectionFor: (ns, name) => Promise.resolve(ctx.novaFor(ns, name)),
    listPolicies: byNs.policies,
    listHosts: byNs.hosts,
    events: ctx.events,
    clock,
    metrics: policyMetrics(registry),
  }));
  policies.watch(inf.policies, (p) => policyKeysForCloud(inf.policies.items(), p.metadata?.namespace, p.spec?.cloudRef?.name));
  policies.watch(inf.clouds, (c) => policyKeysForCloud(inf.policies.items(), c.metadata?.namespace, c.metadata?.name));
  return policies;
}

/** Instance recovery, guest actions, server-group messaging and guest settings: the controllers below the host layer. */
function vmLevelControllers(d: ControllerDeps, protection: ProtectionIndex, make: (name: string, reconciler: Reconciler) => Controller, leading: AbortSignal): Controller[] {
  const { ctx } = d;
  return [
    instanceRecoveryController(ctx, d.leader, make, d.reports),
    ...(d.reports ? [guestActionsController(ctx, d.leader, d.reports, make, leading, d.sgm?.control)] : []),
    ...(d.sgm ? [sgmController(ctx, d.sgm, make, leading), guestSettingsController(ctx, d.sgm.control, protection, make, leading)] : []),
  ];
}

interface ByNamespace {
  hosts: (ns: string) => ComputeHost[];
  policies: (ns: string) => InstanceHAPolicy[];
  incidents: (ns: string) => Incident[];
}

/**
 * The incident controller: the recovery workflow of each Incident, then its host's return to
 * service (it looks again when the host changes), and webhook deliveries written back to
 * the Incident (it is queued on each delivery report).
 */
function incidentController(d: ControllerDeps, make: (name: string, reconciler: Reconciler) => Controller, byNs: ByNamespace, leading: AbortSignal): Controller {
  const { ctx } = d;
  const { informers: inf, clients, clock, log, registry } = ctx;
  const notifier = new EventIncidentNotifier(ctx.events, new WebhookIncidentSink({ registry: d.notifiers, getPolicy: (ns, name) => inf.policies.get(`${ns}/${name}`), secrets: clients.secrets, clock, log }));
  const incidents = make("incident", new IncidentReconciler({
    incidents: clients.incidents,
    getHost: (ns, name) => inf.hosts.get(`${ns}/${name}`),
    novaFor: ctx.novaFor,
    protection: new PolicyProtectionSource({ listPolicies: byNs.policies, listHosts: byNs.hosts, listIncidents: byNs.incidents, novaFor: ctx.novaFor, clock }),
    fencing: d.fencing,
    notifier,
    events: ctx.events,
    clock,
    leader: () => ({ identity: d.leader.identity, leaseEpoch: d.leader.leaseEpoch() }),
    observe: incidentMetrics(registry),
    listIncidents: byNs.incidents,
    patchHostStatus: (ns, name, patch) => clients.hosts.mergePatch(ns, name, { status: patch }, "status"),
    ...(d.deliveries ? { deliveries: d.deliveries } : {}),
  }));
  incidents.watch(inf.incidents);
  // A finished incident follows its host back into service: look again when the host changes.
  incidents.watch(inf.hosts, (h) => incidentKeysAwaitingHost(inf.incidents.items(), h));
  const stopDeliveries = d.deliveries?.onReport((key) => incidents.enqueue(key));
  leading.addEventListener("abort", () => stopDeliveries?.(), { once: true });
  for (const i of inf.incidents.items()) incidents.enqueue(objectKey(i));
  return incidents;
}
