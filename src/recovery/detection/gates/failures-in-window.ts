import type { HostObservation, RecentFailure } from "../../model.js";

/**
 * The distinct hosts counted against a storm limit: failures recorded within the cooldown
 * window (a failure time in the future counts too: never less cautious because of a clock
 * error), hosts with an incident still open (in any phase, Suppressed included: they are
 * failed now, however long ago they failed), and this pass's candidates. `member` narrows
 * all three to one aggregate.
 */
export function failuresInWindow(
  nowMs: number,
  cooldownMs: number,
  recentFailures: readonly RecentFailure[],
  hosts: readonly HostObservation[],
  candidates: readonly HostObservation[],
  member: (aggregates: readonly string[]) => boolean = () => true,
): { known: Set<string>; total: Set<string> } {
  const known = new Set<string>();
  for (const f of recentFailures) if (nowMs - f.atMs < cooldownMs && member(f.aggregates)) known.add(f.host);
  for (const h of hosts) if (h.openIncident !== undefined && member(h.aggregates)) known.add(h.name);
  const total = new Set(known);
  for (const c of candidates) if (member(c.aggregates)) total.add(c.name);
  return { known, total };
}
