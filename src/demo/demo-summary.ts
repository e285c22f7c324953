import type { Incident } from "../api/v1alpha1/index.js";

export interface PhaseTiming {
  name: string;
  /** Seconds from the kill to the start of the phase, and its length; undefined when it did not happen. */
  startS?: number;
  durationS?: number;
}

export interface Placement {
  name: string;
  policy: string;
  state: string;
  to: string;
  seconds?: number;
}

function at(iso: string | undefined): number | undefined {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

function span(name: string, killedAtMs: number, from: number | undefined, to: number | undefined): PhaseTiming {
  if (from === undefined || to === undefined) return { name };
  return { name, startS: (from - killedAtMs) / 1000, durationS: Math.max(0, to - from) / 1000 };
}

/** How long each phase of the Incident took, measured from its own time stamps and the kill. */
export function phaseTimings(inc: Incident, killedAtMs: number): PhaseTiming[] {
  const t = inc.status?.timestamps ?? {};
  const detected = at(inc.spec.detectedAt);
  const recovered = at(t.recoveredAt ?? t.finishedAt);
  return [
    span("detection (kill -> Incident)", killedAtMs, killedAtMs, detected),
    span("confirmation and safety gates", killedAtMs, detected, at(t.confirmedAt)),
    span("fencing (power off, force-down)", killedAtMs, at(t.fencingStartedAt), at(t.fencedAt)),
    span("evacuations (first sent -> last verified)", killedAtMs, at(t.firstEvacuationAt), recovered),
    span("total (kill -> Recovered)", killedAtMs, killedAtMs, recovered),
  ];
}

export function placements(inc: Incident): Placement[] {
  return (inc.status?.instances ?? [])
    .map((i) => {
      const s = at(i.startedAt);
      const f = at(i.finishedAt);
      return { name: i.name ?? i.id, policy: i.policy ?? "-", state: i.state, to: i.targetHost ?? "-", seconds: s !== undefined && f !== undefined ? (f - s) / 1000 : undefined };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ").trimEnd());
}

/** The summary printed at the end of the demo. */
export function formatSummary(inc: Incident, killedAtMs: number): string {
  const phases = table([["PHASE", "STARTED", "TOOK"], ...phaseTimings(inc, killedAtMs).map((p) => [p.name, p.startS === undefined ? "-" : `+${p.startS.toFixed(1)}s`, p.durationS === undefined ? "did not happen" : `${p.durationS.toFixed(1)} s`])]);
  const vms = table([["VM", "POLICY", "STATE", "NOW ON", "TOOK"], ...placements(inc).map((p) => [p.name, p.policy, p.state, p.to, p.seconds === undefined ? "-" : `${p.seconds.toFixed(1)} s`])]);
  return [...phases, "", ...vms].join("\n") + "\n";
}
