import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ServerGroupMessaging } from "../api/v1alpha1/index.js";
import { ServerGroupMessagingReconciler } from "../controllers/server-group-messaging/server-group-messaging-reconciler.js";
import type { Controller, Reconciler } from "../kube/controller.js";
import { Informer } from "../kube/informer.js";
import { ResourceClient } from "../kube/resource-client.js";
import { objectKey } from "../kube/resource-type.js";
import { AgentLinks } from "../server-group-messaging/agent-links.js";
import { GuestControlHub } from "../guest-control/guest-control-hub.js";
import { SgmEndpoint } from "../server-group-messaging/sgm-endpoint.js";
import { SgmRouter, type RouterMetrics } from "../server-group-messaging/sgm-router.js";
import type { OperatorContext } from "./operator-context.js";
import { VMKEEPER_RESOURCES } from "./vmkeeper-resources.js";

const PING_MS = 10_000;

export interface OperatorSgm {
  links: AgentLinks;
  router: SgmRouter;
  endpoint: SgmEndpoint;
  /** Guest control over the same links (heartbeat settings per policy, votes). */
  control: GuestControlHub;
  informer: Informer<ServerGroupMessaging>;
  client: ResourceClient<ServerGroupMessaging>;
  /** Runs the informer and the keep-alive pings until `signal` aborts (every replica). */
  run(signal: AbortSignal): Promise<void>;
}

/**
 * Server-group messaging on every replica: the agents' streams and posts are served by all
 * (a standby's links are warm), the router routes only while this replica leads.
 */
export function buildServerGroupMessaging(ctx: OperatorContext): OperatorSgm {
  const { registry, clock, log, cfg } = ctx;
  const links = new AgentLinks();
  const router = new SgmRouter({ links, clock, log: log.child({ component: "sgm" }), metrics: routerMetrics(registry), identity: cfg.identity });
  const refused = new Counter({ name: "vmkeeper_sgm_requests_refused_total", help: "Server-group messaging requests of node agents refused, by reason.", labelNames: ["reason"], registers: [registry] });
  const invalid = new Counter({ name: "vmkeeper_sgm_agent_messages_invalid_total", help: "Messages in node agents' posts that were malformed and dropped.", registers: [registry] });
  new Gauge({ name: "vmkeeper_sgm_agent_streams", help: "Open server-group messaging streams of node agents on this replica.", registers: [registry], collect() { this.set(links.streamCount); } });
  const control = new GuestControlHub(links);
  const endpoint = new SgmEndpoint({ links, router, control, identity: cfg.identity, metrics: { refused: (r) => refused.labels({ reason: r }).inc(), invalidMessage: () => invalid.inc() } });
  const rest = ctx.rest;
  const type = VMKEEPER_RESOURCES.ServerGroupMessaging;
  const informer = new Informer<ServerGroupMessaging>({ client: rest, type, namespace: cfg.namespace, clock, log });
  return {
    links,
    router,
    endpoint,
    control,
    informer,
    client: new ResourceClient<ServerGroupMessaging>(rest, type),
    async run(signal: AbortSignal): Promise<void> {
      const ping = setInterval(() => links.broadcast({ t: "ping" }), PING_MS);
      try {
        await informer.run(signal);
      } finally {
        clearInterval(ping);
        links.closeAll();
      }
    },
  };
}

/** The ServerGroupMessaging controller (leader only); the router routes while it runs. */
export function sgmController(ctx: OperatorContext, sgm: OperatorSgm, make: (name: string, reconciler: Reconciler) => Controller, leading: AbortSignal): Controller {
  const { informers: inf, clock } = ctx;
  const controller = make("servergroupmessaging", new ServerGroupMessagingReconciler({
    client: sgm.client,
    get: (key) => sgm.informer.get(key),
    listIncidents: (ns) => ctx.inNamespace(inf.incidents, ns),
    novaFor: ctx.novaFor,
    connected: (id) => sgm.links.connected(id),
    router: sgm.router,
    events: ctx.events,
    clock,
    refreshMs: ctx.cfg.sgmRefreshIntervalMs,
  }));
  const all = (): string[] => sgm.informer.items().map((o) => objectKey(o));
  controller.watch(sgm.informer);
  controller.watch(inf.incidents, (i) => sgm.informer.items().filter((o) => o.metadata?.namespace === i.metadata?.namespace).map((o) => objectKey(o)));
  controller.watch(inf.clouds, (c) => sgm.informer.items().filter((o) => o.metadata?.namespace === c.metadata?.namespace && o.spec.cloudRef.name === c.metadata?.name).map((o) => objectKey(o)));
  const stop = sgm.links.onChange(() => {
    for (const k of all()) controller.enqueue(k);
  });
  sgm.router.active = true;
  leading.addEventListener("abort", () => {
    stop();
    sgm.router.reset();
  }, { once: true });
  for (const k of all()) controller.enqueue(k);
  return controller;
}

function routerMetrics(registry: Registry): RouterMetrics {
  const messages = new Counter({ name: "vmkeeper_sgm_messages_total", help: "Server-group messages from guests seen by the router, by type and result (accepted or the refusal code).", labelNames: ["type", "result"], registers: [registry] });
  const deliveries = new Counter({ name: "vmkeeper_sgm_deliveries_total", help: "Messages handed to node agents for guests, by kind (deliver, notify, status, error).", labelNames: ["kind"], registers: [registry] });
  const latency = new Histogram({ name: "vmkeeper_sgm_route_seconds", help: "Time the router took per message.", buckets: [0.0005, 0.001, 0.005, 0.01, 0.05], registers: [registry] });
  return {
    message: (type, result) => messages.labels({ type, result }).inc(),
    delivered: (kind, n) => deliveries.labels({ kind }).inc(n),
    latency: (s) => latency.observe(s),
  };
}
