import type { ComputeHost, HostFencing, HostFencingHostSelector } from "../api/v1alpha1/index.js";
import { globMatch } from "../controllers/instance-ha-policy/name-glob.js";

/**
 * Whether a HostFencing's selector picks a ComputeHost. Criteria that are set are ANDed;
 * the values of one criterion are alternatives; an empty selector selects nothing (fencing
 * every host by accident is worse than fencing none).
 */
export function hostSelected(sel: HostFencingHostSelector, host: ComputeHost): boolean {
  const name = host.metadata?.name ?? "";
  const labels = host.metadata?.labels ?? {};
  const aggregates = host.status?.aggregates ?? [];
  const checks: [unknown, () => boolean][] = [
    [sel.names, () => (sel.names ?? []).includes(name)],
    [sel.nameGlobs, () => (sel.nameGlobs ?? []).some((g) => globMatch(g, name))],
    [sel.matchLabels, () => Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v)],
    [sel.matchExpressions, () => (sel.matchExpressions ?? []).every((e) => expressionMatches(e, labels))],
    [sel.aggregates, () => (sel.aggregates ?? []).some((a) => aggregates.includes(a))],
  ];
  const set = checks.filter(([v]) => v !== undefined);
  return set.length > 0 && set.every(([, test]) => test());
}

function expressionMatches(e: NonNullable<HostFencingHostSelector["matchExpressions"]>[number], labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, e.key);
  const value = labels[e.key];
  switch (e.operator) {
    case "In":
      return has && (e.values ?? []).includes(value ?? "");
    case "NotIn":
      return !has || !(e.values ?? []).includes(value ?? "");
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
  }
}

/** The HostFencings of the host's cloud that select it, by name (sorted). More than one is a conflict. */
export function hostFencingsFor(host: ComputeHost, all: readonly HostFencing[]): HostFencing[] {
  const cloud = host.spec.cloudRef.name;
  return all
    .filter((hf) => !hf.metadata?.deletionTimestamp && hf.spec.cloudRef.name === cloud && hostSelected(hf.spec.hostSelector, host))
    .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}
