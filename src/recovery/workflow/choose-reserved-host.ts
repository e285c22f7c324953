import type { IncidentReservedHost } from "../../api/v1alpha1/index.js";
import { isHostFailureReason } from "./host-failure-reason.js";
import type { ReservedHostState } from "./workflow-model.js";

export type UsableReservedHost = ReservedHostState & { serviceHost: string; serviceId: string };

export type ReservedHostChoice =
  /** Enabled in Nova already (by this incident or before): evacuate to it. */
  | { kind: "use"; host: UsableReservedHost }
  /** Disabled spare: enable it first. */
  | { kind: "enable"; host: UsableReservedHost }
  | { kind: "none"; reason: string };

/**
 * The reserved host an instance goes to, from its policy's `names`; pure. Usable: a
 * ComputeHost with a nova-compute service that Nova reports up and not forced down, not in
 * maintenance, not the failed host, not a host vmkeeper itself disabled after a failure, and
 * not found full by this incident. Preference keeps the spare pool small and the choice
 * stable across passes: the hosts this incident chose before (in order), then hosts already
 * enabled, then disabled spares, each in the order the policy lists them.
 */
export function chooseReservedHost(names: readonly string[], world: readonly ReservedHostState[], chosen: readonly IncidentReservedHost[], failedServiceHost: string): ReservedHostChoice {
  const byName = new Map(world.map((h) => [h.name, h]));
  const rank = (h: ReservedHostState): number[] => {
    const i = chosen.findIndex((c) => c.name === h.name);
    return [i < 0 ? chosen.length : i, h.disabled ? 1 : 0, names.indexOf(h.name)];
  };
  const usable: UsableReservedHost[] = [];
  const refused: string[] = [];
  for (const name of [...new Set(names)]) {
    const h = byName.get(name);
    const why = h ? unusable(h, chosen, failedServiceHost) : "not read";
    if (why || !h?.serviceHost || !h.serviceId) refused.push(`${name}: ${why ?? "no nova-compute service"}`);
    else usable.push({ ...h, serviceHost: h.serviceHost, serviceId: h.serviceId });
  }
  usable.sort((a, b) => compare(rank(a), rank(b)));
  const best = usable[0];
  if (!best) return { kind: "none", reason: refused.length ? refused.join("; ") : "the policy names no reserved host" };
  return best.disabled ? { kind: "enable", host: best } : { kind: "use", host: best };
}

function unusable(h: ReservedHostState, chosen: readonly IncidentReservedHost[], failedServiceHost: string): string | undefined {
  if (h.serviceHost === undefined) return "no such ComputeHost";
  if (h.serviceId === undefined) return "no nova-compute service in Nova";
  if (h.serviceHost === failedServiceHost) return "it is the failed host";
  if (h.maintenance) return "in maintenance";
  if (h.forcedDown) return "forced down";
  if (!h.up) return "nova-compute is down";
  if (h.disabled && isHostFailureReason(h.disabledReason)) return "disabled by vmkeeper after a failure of its own";
  if (chosen.some((c) => c.name === h.name && c.full)) return "found full by an earlier evacuation (NoValidHost)";
  return undefined;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}
