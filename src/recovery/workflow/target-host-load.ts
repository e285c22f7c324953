import type { IncidentInstance } from "../../api/v1alpha1/index.js";
import type { InstanceNovaState } from "./workflow-model.js";

/** In-flight evacuations per target host (nova-compute service host), and those whose target is not known yet. */
export interface TargetHostLoad {
  byHost: Map<string, number>;
  unknown: number;
}

const IN_FLIGHT = new Set(["Evacuating", "Verifying"]);

/**
 * Where an evacuation is going as far as Nova has told: the instance's host once it left
 * the failed host, else the destination of its newest evacuation migration (the scheduler
 * has chosen), else nothing yet.
 */
export function observedTarget(nova: InstanceNovaState | undefined, failedHost: string): string | undefined {
  if (!nova) return undefined;
  if (nova.host && nova.host !== failedHost) return nova.host;
  return nova.evacuationTarget && nova.evacuationTarget !== failedHost ? nova.evacuationTarget : undefined;
}

/**
 * Counts the incident's in-flight evacuations per target host. A reserved-host evacuation
 * goes where it was sent (`targetHost`, set when it was sent); a scheduler evacuation goes
 * where Nova put it (see observedTarget) and is `unknown` until then.
 */
export function targetHostLoad(instances: readonly IncidentInstance[], nova: ReadonlyMap<string, InstanceNovaState>, failedHost: string): TargetHostLoad {
  const load: TargetHostLoad = { byHost: new Map(), unknown: 0 };
  for (const inst of instances) {
    if (!IN_FLIGHT.has(inst.state)) continue;
    const target = inst.targetHost ?? observedTarget(nova.get(inst.id), failedHost);
    if (target) load.byHost.set(target, (load.byHost.get(target) ?? 0) + 1);
    else load.unknown++;
  }
  return load;
}

/**
 * Whether one more evacuation keeps every target host within `cap` in the worst case: the
 * evacuations whose target is not known yet, and the new one, may all land on the same host.
 * `target` is the host the new evacuation is sent to (a reserved host); undefined means the
 * scheduler chooses, which may be the busiest known target. Returns why not, or undefined.
 */
export function targetHostBusy(load: TargetHostLoad, target: string | undefined, cap: number): string | undefined {
  const [host, known] = target !== undefined ? [target, load.byHost.get(target) ?? 0] : busiest(load);
  if (known + load.unknown + 1 <= cap) return undefined;
  const where = host ? `${known} on ${host}` : "none on a known host";
  return `${known + load.unknown} evacuation(s) in flight that may share a target host (${where}, ${load.unknown} not placed yet); at most ${cap} per target host`;
}

function busiest(load: TargetHostLoad): [string | undefined, number] {
  let best: [string | undefined, number] = [undefined, 0];
  for (const [host, n] of [...load.byHost].sort(([a], [b]) => a.localeCompare(b))) if (n > best[1]) best = [host, n];
  return best;
}
