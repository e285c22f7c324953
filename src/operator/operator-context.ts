import type { KubeConfig } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import type { ComputeHost, HostFencing, Incident, InstanceHAPolicy, OpenStackCloud } from "../api/v1alpha1/index.js";
import { CloudConnectionCache } from "../controllers/openstack-cloud/cloud-connection-cache.js";
import type { SecretObject } from "../controllers/openstack-cloud/openstack-cloud-reconciler.js";
import { KubeEventRecorder, type EventObject } from "../kube/event-recorder.js";
import { Informer } from "../kube/informer.js";
import { ResourceClient } from "../kube/resource-client.js";
import { EVENTS, SECRETS, type KubeObject } from "../kube/resource-type.js";
import { KubeRestClient } from "../kube/rest-client.js";
import { NodeHttpTransport } from "../openstack/node-http-transport.js";
import type { NovaClient } from "../openstack/nova-client.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { OperatorConfig } from "./operator-config.js";
import { VMKEEPER_RESOURCES } from "./vmkeeper-resources.js";

/** What the process needs of every informer, whatever its object type. */
export interface InformerLike {
  readonly name: string;
  isHealthy(): boolean;
  run(signal: AbortSignal): Promise<void>;
}

/**
 * The clients, caches and shared connections of one operator process, built once at the
 * composition root and handed to the controllers.
 */
export interface OperatorContext {
  cfg: OperatorConfig;
  clock: Clock;
  log: Logger;
  registry: Registry;
  rest: KubeRestClient;
  transport: NodeHttpTransport;
  connector: CloudConnectionCache;
  events: KubeEventRecorder;
  clients: {
    clouds: ResourceClient<OpenStackCloud>;
    hosts: ResourceClient<ComputeHost>;
    policies: ResourceClient<InstanceHAPolicy>;
    incidents: ResourceClient<Incident>;
    hostFencings: ResourceClient<HostFencing>;
    secrets: ResourceClient<SecretObject>;
  };
  informers: {
    clouds: Informer<OpenStackCloud>;
    hosts: Informer<ComputeHost>;
    policies: Informer<InstanceHAPolicy>;
    incidents: Informer<Incident>;
    hostFencings: Informer<HostFencing>;
    secrets: Informer<KubeObject>;
  };
  all: InformerLike[];
  inNamespace: <T extends KubeObject>(informer: Informer<T>, namespace: string) => T[];
  novaFor: (namespace: string, cloud: string) => NovaClient | undefined;
}

export function buildOperatorContext(cfg: OperatorConfig, kubeConfig: KubeConfig, clock: Clock, log: Logger, registry: Registry): OperatorContext {
  const rest = new KubeRestClient(kubeConfig, { userAgent: `vmkeeper/${cfg.identity}`, defaultTimeoutMs: 30_000 });
  const transport = new NodeHttpTransport({});
  const connector = new CloudConnectionCache(transport, clock, log.child({ component: "openstack" }));
  const client = <T extends KubeObject>(type: (typeof VMKEEPER_RESOURCES)[keyof typeof VMKEEPER_RESOURCES]): ResourceClient<T> => new ResourceClient<T>(rest, type);
  const informer = <T extends KubeObject>(type: (typeof VMKEEPER_RESOURCES)[keyof typeof VMKEEPER_RESOURCES]): Informer<T> => new Informer<T>({ client: rest, type, namespace: cfg.namespace, clock, log });
  const informers = {
    clouds: informer<OpenStackCloud>(VMKEEPER_RESOURCES.OpenStackCloud),
    hosts: informer<ComputeHost>(VMKEEPER_RESOURCES.ComputeHost),
    policies: informer<InstanceHAPolicy>(VMKEEPER_RESOURCES.InstanceHAPolicy),
    incidents: informer<Incident>(VMKEEPER_RESOURCES.Incident),
    hostFencings: informer<HostFencing>(VMKEEPER_RESOURCES.HostFencing),
    // Metadata only: Secret data never sits in the cache; reconcilers read the one they need.
    secrets: new Informer<KubeObject>({ client: rest, type: SECRETS, namespace: cfg.namespace, metadataOnly: true, clock, log }),
  };
  return {
    cfg,
    clock,
    log,
    registry,
    rest,
    transport,
    connector,
    events: new KubeEventRecorder(new ResourceClient<EventObject>(rest, EVENTS), cfg.identity, clock, log.child({ component: "events" })),
    clients: {
      clouds: client<OpenStackCloud>(VMKEEPER_RESOURCES.OpenStackCloud),
      hosts: client<ComputeHost>(VMKEEPER_RESOURCES.ComputeHost),
      policies: client<InstanceHAPolicy>(VMKEEPER_RESOURCES.InstanceHAPolicy),
      incidents: client<Incident>(VMKEEPER_RESOURCES.Incident),
      hostFencings: client<HostFencing>(VMKEEPER_RESOURCES.HostFencing),
      secrets: new ResourceClient<SecretObject>(rest, SECRETS),
    },
    informers,
    all: [informers.clouds, informers.hosts, informers.policies, informers.incidents, informers.hostFencings, informers.secrets],
    inNamespace: (inf, ns) => inf.items().filter((o) => o.metadata?.namespace === ns),
    novaFor: (ns, cloud) => connector.current(`${ns}/${cloud}`)?.nova,
  };
}
