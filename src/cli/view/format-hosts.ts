import type { ComputeHost, HostFencing } from "../../api/v1alpha1/index.js";
import { fencingReadiness } from "../../what-if/fencing-readiness.js";
import { between, humanDuration } from "./durations.js";
import { stateColour, type Style } from "./style.js";
import { formatTable } from "./table.js";

/** One row of `vmkeeper hosts` (also the -o json item). */
export interface HostRow {
  namespace: string;
  name: string;
  serviceHost: string;
  state: string;
  since?: string;
  nova: string;
  maintenance: boolean;
  aggregates: string[];
  instances?: number;
  fencing: string;
  fencingMessage: string;
  incident?: string;
  evidence: string[];
}

export function hostRows(hosts: readonly ComputeHost[], hostFencings: readonly HostFencing[]): HostRow[] {
  return [...hosts]
    .sort((a, b) => (a.metadata?.namespace ?? "").localeCompare(b.metadata?.namespace ?? "") || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""))
    .map((h) => {
      const n = h.status?.nova;
      const f = fencingReadiness(h, hostFencings.filter((hf) => hf.metadata?.namespace === h.metadata?.namespace));
      return {
        namespace: h.metadata?.namespace ?? "",
        name: h.metadata?.name ?? "",
        serviceHost: h.spec.serviceHost,
        state: h.status?.health?.state ?? "Unknown",
        ...(h.status?.health?.since ? { since: h.status.health.since } : {}),
        nova: n ? `${n.state ?? "Unknown"}/${n.status ?? "Unknown"}${n.forcedDown ? "/ForcedDown" : ""}` : "-",
        maintenance: h.spec.maintenance?.enabled ?? false,
        aggregates: h.status?.aggregates ?? [],
        ...(h.status?.instanceCount !== undefined ? { instances: h.status.instanceCount } : {}),
        fencing: f.state === "Ready" ? `Ready (${f.readyLevel ?? ""})` : f.state,
        fencingMessage: f.message,
        ...(h.status?.currentIncidentRef?.name ? { incident: h.status.currentIncidentRef.name } : {}),
        evidence: (h.status?.health?.evidence ?? []).map((e) => `${e.source}: ${e.observation}`),
      };
    });
}

/** `vmkeeper hosts`: state, Nova, aggregates, fencing readiness, then the evidence behind every host that is not Healthy. */
export function formatHosts(rows: readonly HostRow[], style: Style, nowMs: number, allNamespaces: boolean): string {
  if (rows.length === 0) return "No compute hosts found.\n";
  const table = formatTable(
    [...(allNamespaces ? ["NAMESPACE"] : []), "NAME", "STATE", "FOR", "NOVA", "MAINT", "VMS", "AGGREGATES", "FENCING", "INCIDENT"],
    rows.map((r) => [
      ...(allNamespaces ? [r.namespace] : []),
      r.name,
      stateColour(style, r.state),
      humanDuration(between(r.since, undefined, nowMs)),
      r.nova,
      r.maintenance ? style.warn("yes") : "no",
      r.instances === undefined ? "-" : String(r.instances),
      r.aggregates.join(",") || "-",
      r.fencing.startsWith("Ready") ? style.ok(r.fencing) : stateColour(style, r.fencing),
      r.incident ?? "-",
    ]),
  );
  const evidence = rows.filter((r) => r.state !== "Healthy" && r.evidence.length > 0).map((r) => `${r.name} (${stateColour(style, r.state)}):\n${r.evidence.map((e) => `  ${e}`).join("\n")}`);
  return evidence.length ? `${table}\n${style.bold("Evidence:")}\n${evidence.join("\n")}\n` : table;
}
