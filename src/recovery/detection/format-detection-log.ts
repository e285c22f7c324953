import type { DetectionDecision, HostAssessment, HostHealthState } from "../model.js";

const STATE_ORDER: readonly HostHealthState[] = ["Healthy", "Degraded", "Suspect", "Failed", "Unknown"];

export interface DetectionLogFacts {
  nowMs: number;
  assessments: readonly HostAssessment[];
  decision: Omit<DetectionDecision, "log" | "assessments">;
  /** Failed hosts whose incident is in progress: duplicates, nothing opened (F16). */
  inFlight: readonly { host: string; epoch: number; phase: string }[];
  settingsProblems: readonly string[];
}

/**
 * The one summary line of a pass (safety rule 7): what was seen (hosts per state, gates closed,
 * repaired settings), then what was decided. Deterministic: hosts sorted by name, gates in
 * chain order, empty parts left out.
 */
export function formatDetectionLog(facts: DetectionLogFacts): string {
  return `detection at ${facts.nowMs} ms: seen ${seenPart(facts)} | decided: ${decidedPart(facts)}`;
}

function seenPart(facts: DetectionLogFacts): string {
  const counts = STATE_ORDER.map((s) => [s, facts.assessments.filter((a) => a.state === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  const closed = facts.decision.gates.filter((g) => g.blocked).map((g) => `${g.gate} (${g.reason})`);
  const parts = [`${facts.assessments.length} hosts${counts.length > 0 ? ` (${counts.join(", ")})` : ""}`, `gates closed: ${closed.length > 0 ? closed.join(", ") : "none"}`];
  if (facts.settingsProblems.length > 0) parts.push(`settings: ${facts.settingsProblems.join("; ")}`);
  return parts.join("; ");
}

function decidedPart(facts: DetectionLogFacts): string {
  const d = facts.decision;
  const parts = [
    list("open", d.open.map((o) => `${o.host}#${o.epoch}`)),
    list("release", d.release.map((o) => `${o.host}#${o.epoch}`)),
    list("suppress", d.suppressed.map((o) => `${o.host}#${o.epoch} by ${o.gate.gate}`)),
    list("hold", d.held.map((o) => `${o.host}#${o.epoch} by ${o.gate.gate}`)),
    list("withdraw", d.withdraw.map((o) => `${o.host}#${o.epoch} (${o.state})`)),
    list("skip", d.skipped.map((o) => `${o.host} (${o.gate.gate})`)),
    list("already open, ignored", facts.inFlight.map((o) => `${o.host}#${o.epoch} (${o.phase})`)),
  ].filter((p) => p !== "");
  return parts.length > 0 ? parts.join("; ") : "nothing";
}

function list(label: string, items: readonly string[]): string {
  return items.length > 0 ? `${label} ${items.join(", ")}` : "";
}
