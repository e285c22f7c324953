import type { Incident } from "../../api/v1alpha1/index.js";
import { between, humanDuration } from "./durations.js";
import { indent } from "./format-status.js";
import { stateColour, type Style } from "./style.js";
import { formatTable } from "./table.js";

/** `vmkeeper incidents`: one row per Incident, newest first. */
export function formatIncidents(incidents: readonly Incident[], style: Style, nowMs: number, allNamespaces: boolean): string {
  if (incidents.length === 0) return "No incidents found.\n";
  const sorted = [...incidents].sort((a, b) => b.spec.detectedAt.localeCompare(a.spec.detectedAt) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  const rows = sorted.map((i) => {
    const s = i.status ?? {};
    const sum = s.summary;
    const took = between(i.spec.detectedAt, s.timestamps?.finishedAt);
    return [
      ...(allNamespaces ? [i.metadata?.namespace ?? ""] : []),
      i.metadata?.name ?? "",
      i.spec.hostRef.name,
      `${stateColour(style, s.phase ?? "Detected")}${s.gate?.name ? ` (${s.gate.name})` : ""}`,
      sum ? `${sum.recovered ?? 0}/${sum.total ?? 0}${sum.failed ? `, ${sum.failed} failed` : ""}` : "-",
      humanDuration(between(s.timestamps?.fencingStartedAt ?? i.spec.detectedAt, s.timestamps?.fencedAt)),
      humanDuration(took),
      humanDuration(between(i.spec.detectedAt, undefined, nowMs)),
    ];
  });
  return formatTable([...(allNamespaces ? ["NAMESPACE"] : []), "NAME", "HOST", "PHASE", "RECOVERED", "FENCING", "DURATION", "AGE"], rows);
}

interface TimelineEntry {
  at: string;
  what: string;
  /** How long it took, when it is a span. */
  tookMs?: number;
}

/** The timeline of an Incident from what its status records, in time order. */
export function incidentTimeline(i: Incident): TimelineEntry[] {
  const s = i.status ?? {};
  const t = s.timestamps ?? {};
  const e: TimelineEntry[] = [{ at: i.spec.detectedAt, what: `detected${i.spec.detectedBy ? ` by ${i.spec.detectedBy}` : ""}: ${i.spec.reason ?? i.spec.trigger}` }];
  const add = (at: string | undefined, what: string, tookMs?: number): void => {
    if (at) e.push({ at, what, ...(tookMs !== undefined ? { tookMs } : {}) });
  };
  add(t.confirmedAt, "confirmed");
  add(s.notification?.sentAt, "owners notified (recovery starts)");
  add(s.notification?.suppressedSentAt, `owners notified (held back by ${s.gate?.name ?? "a safety gate"})`);
  add(t.fencingStartedAt, "fencing started");
  for (const d of s.fencing?.devices ?? []) add(d.time, `fence ${d.level}/${d.device}: ${d.result}${d.powerState ? `, power ${d.powerState}` : ""}${d.message ? ` (${d.message})` : ""}`);
  const how = s.fencing?.unsafeSkipped ? "power fencing skipped (unsafe), Nova forced down" : `power read back Off${s.fencing?.level ? ` (level ${s.fencing.level})` : ""}, Nova forced down and disabled`;
  add(t.fencedAt, `fenced: ${how}`, between(t.fencingStartedAt, t.fencedAt));
  for (const r of s.reservedHosts ?? []) add(r.enabledAt, `reserved host ${r.name} enabled in Nova`);
  add(t.firstEvacuationAt, "first evacuation sent", between(i.spec.detectedAt, t.firstEvacuationAt));
  for (const inst of s.instances ?? []) {
    const name = inst.name ?? inst.id;
    const to = inst.targetHost ? ` to ${inst.targetHost}` : "";
    if (inst.startedAt) add(inst.startedAt, `evacuate ${name} (tier ${inst.tier ?? "default"}, ${inst.method ?? "Evacuate"}, attempt ${inst.attempts ?? 1})`);
    add(inst.finishedAt, `${name} ${inst.state}${to}${inst.message ? `: ${inst.message}` : ""}`, between(inst.startedAt, inst.finishedAt));
  }
  add(t.recoveredAt, "recovered", between(i.spec.detectedAt, t.recoveredAt));
  add(t.finishedAt, `finished: ${s.phase ?? ""}`, between(i.spec.detectedAt, t.finishedAt));
  add(s.notification?.deliveredAt, "last webhook delivery");
  add(s.hostReturn?.forceDownLiftedAt, "host force-down lifted");
  add(s.hostReturn?.reenabledAt, "host re-enabled in Nova");
  // Stable: entries recorded at the same second keep the order above (the workflow's order).
  return e.map((x, n) => ({ x, n })).sort((a, b) => Date.parse(a.x.at) - Date.parse(b.x.at) || a.n - b.n).map(({ x }) => x);
}

/** `vmkeeper describe incident NAME`. */
export function formatIncidentDescription(i: Incident, style: Style, nowMs: number): string {
  const s = i.status ?? {};
  const out: string[] = [];
  const field = (k: string, v: string): void => {
    out.push(`${`${k}:`.padEnd(14)}${v}`);
  };
  field("Name", i.metadata?.name ?? "");
  field("Namespace", i.metadata?.namespace ?? "");
  field("Cloud", i.spec.cloudRef.name);
  field("Host", `${i.spec.hostRef.name}${i.spec.serviceHost ? ` (${i.spec.serviceHost})` : ""}, epoch ${i.spec.epoch}`);
  field("Trigger", i.spec.trigger);
  field("Phase", `${stateColour(style, s.phase ?? "Detected")}${s.gate?.name ? ` - ${s.gate.name} (${s.gate.reason ?? ""}): ${s.gate.message ?? ""}` : ""}`);
  field("Age", humanDuration(between(i.spec.detectedAt, undefined, nowMs)));
  if (s.policies?.length) field("Policies", s.policies.map((p) => `${p.name} (${p.mode ?? "KeepRunning"})`).join(", "));
  if (s.summary) field("Instances", `${s.summary.total ?? 0} total, ${s.summary.recovered ?? 0} recovered, ${s.summary.failed ?? 0} failed, ${s.summary.pending ?? 0} pending`);
  if (s.fencing) field("Fencing", `${s.fencing.hostFencingRef?.name ?? "no HostFencing"}${s.fencing.level ? ` level ${s.fencing.level}` : ""}, attempts ${s.fencing.attempts ?? 0}, power off ${yesNo(s.fencing.powerReadBackOff)}, forced down ${yesNo(s.fencing.forcedDown)}, disabled ${yesNo(s.fencing.serviceDisabled)}${s.fencing.unsafeSkipped ? style.bad(", UNSAFE: power fencing skipped") : ""}`);
  if (s.intent) field("Intent", `${s.intent.action}${s.intent.target ? ` ${s.intent.target}` : ""} (recorded ${s.intent.recordedAt ?? "?"})`);
  if (s.notification) field("Notification", `attempts ${s.notification.attempts ?? 0}${s.notification.lastError ? `, last error: ${s.notification.lastError}` : ""}`);
  if (s.hostReturn) field("Host return", `${s.hostReturn.mode}: ${s.hostReturn.state}${s.hostReturn.message ? ` - ${s.hostReturn.message}` : ""}`);
  const start = Date.parse(i.spec.detectedAt);
  out.push("", style.bold("Timeline:"));
  out.push(
    indent(
      formatTable(
        ["TIME", "AT", "TOOK", "STEP"],
        incidentTimeline(i).map((e) => [e.at, `+${humanDuration(Date.parse(e.at) - start)}`, e.tookMs === undefined ? "" : humanDuration(e.tookMs), e.what]),
      ),
    ),
  );
  if (s.instances?.length) {
    out.push("", style.bold("Instances (in recovery order):"));
    out.push(
      indent(
        formatTable(
          ["NAME", "TIER", "POLICY", "STATE", "METHOD", "TARGET", "ATTEMPTS", "TOOK", "MESSAGE"],
          s.instances.map((x) => [x.name ?? x.id, x.tier ?? "default", x.policy ?? "", stateColour(style, x.state), x.method ?? "-", x.targetHost ?? "-", String(x.attempts ?? 0), humanDuration(between(x.startedAt, x.finishedAt)), x.message ?? ""]),
        ),
      ),
    );
  }
  return `${out.join("\n")}\n`;
}

function yesNo(b: boolean | undefined): string {
  return b ? "yes" : "no";
}
