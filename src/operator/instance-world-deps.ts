import type { OperatorContext } from "./operator-context.js";
import type { LeaderView } from "./start-controllers.js";

/**
 * What the per-instance controllers (instance recovery, guest actions) read the world
 * through: the informer caches of one namespace, the shared cloud connections, vmkeeper's own
 * Nova user (to tell its actions from a person's), Events, time and leadership.
 */
export function instanceWorldDeps(ctx: OperatorContext, leader: LeaderView) {
  const { informers: inf } = ctx;
  return {
    listPolicies: (ns: string) => ctx.inNamespace(inf.policies, ns),
    listHosts: (ns: string) => ctx.inNamespace(inf.hosts, ns),
    listIncidents: (ns: string) => ctx.inNamespace(inf.incidents, ns),
    novaFor: ctx.novaFor,
    selfUserId: (ns: string, cloud: string) => ctx.connector.current(`${ns}/${cloud}`)?.session.tokenInfo()?.userId,
    events: ctx.events,
    clock: ctx.clock,
    isLeader: () => leader.isLeader(),
  };
}
