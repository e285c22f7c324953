import type { ComputeHost, Incident, IncidentInstance } from "../api/v1alpha1/index.js";

/** An events.k8s.io/v1 Event as the demo reads it. */
export interface DemoEvent {
  metadata?: { name?: string; uid?: string };
  eventTime?: string;
  type?: string;
  reason?: string;
  note?: string;
  regarding?: { kind?: string; name?: string };
}

/** What the demo reads from the API server at one moment. */
export interface Snapshot {
  /** Wall-clock milliseconds of the read. */
  atMs: number;
  incidents: Incident[];
  hosts: ComputeHost[];
  events: DemoEvent[];
}

export type TimelineKind = "fault" | "host" | "detect" | "gate" | "fence" | "evacuate" | "recovered" | "event";

export interface TimelineEntry {
  /** Wall-clock milliseconds of what happened (the object's own time stamp when it has one). */
  atMs: number;
  kind: TimelineKind;
  text: string;
  warning?: boolean;
}

const EVENT_KINDS: Record<string, TimelineKind> = {
  HostFailed: "detect",
  HostFailureConfirmed: "detect",
  Suppressed: "gate",
  Released: "gate",
  Withdrawn: "gate",
  PowerOff: "fence",
  UnsafeFencingSkipped: "fence",
  FencingFailed: "fence",
  ForcedDown: "fence",
  ReservedHostEnabled: "evacuate",
  Evacuating: "evacuate",
  EvacuationFailed: "evacuate",
  Recovered: "recovered",
};

const FINAL_INSTANCE_STATES = new Set(["Recovered", "Failed", "Notified", "Skipped"]);

function ms(iso: string | undefined, fallback: number): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : fallback;
}

interface HostView {
  health?: string;
  nova?: string;
  forcedDown?: boolean;
  status?: string;
}

function hostView(h: ComputeHost): HostView {
  return { health: h.status?.health?.state, nova: h.status?.nova?.state, forcedDown: h.status?.nova?.forcedDown, status: h.status?.nova?.status };
}

/**
 * Turns successive snapshots of Incidents, ComputeHosts and Events into a readable list of
 * what changed: each Event once, host health and Nova state transitions of the followed
 * hosts, Incident phases, fencing device results and each instance reaching a final state.
 * Pure apart from its memory of the previous snapshot.
 */
export class TimelineTracker {
  private readonly seenEvents = new Set<string>();
  private readonly hosts = new Map<string, HostView>();
  private readonly phases = new Map<string, string>();
  private readonly instances = new Map<string, string>();
  private readonly devices = new Set<string>();
  private readonly gates = new Set<string>();
  private readonly conditions = new Map<string, string>();

  constructor(private readonly followHosts: readonly string[]) {}

  /** Remembers the current state without reporting it (the baseline before the fault). */
  baseline(s: Snapshot): void {
    this.observe(s);
  }

  observe(s: Snapshot): TimelineEntry[] {
    const out: TimelineEntry[] = [];
    for (const e of s.events) this.event(e, s.atMs, out);
    for (const h of s.hosts) this.host(h, s.atMs, out);
    for (const inc of s.incidents) this.incident(inc, s.atMs, out);
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  private event(e: DemoEvent, now: number, out: TimelineEntry[]): void {
    const id = e.metadata?.uid ?? e.metadata?.name ?? "";
    if (this.seenEvents.has(id)) return;
    this.seenEvents.add(id);
    const kind = EVENT_KINDS[e.reason ?? ""];
    if (!kind) return;
    out.push({ atMs: ms(e.eventTime, now), kind, text: `${e.reason ?? ""}: ${e.note ?? ""}`, warning: e.type === "Warning" });
  }

  private host(h: ComputeHost, now: number, out: TimelineEntry[]): void {
    const name = h.metadata?.name ?? "";
    if (!this.followHosts.includes(name)) return;
    const v = hostView(h);
    const before = this.hosts.get(name);
    this.hosts.set(name, v);
    if (!before) return;
    const short = h.spec.serviceHost;
    if (v.health !== before.health) out.push({ atMs: ms(h.status?.health?.since, now), kind: "host", text: `${short} health ${before.health ?? "-"} -> ${v.health ?? "-"}${healthWhy(h)}` });
    if (v.nova !== before.nova) out.push({ atMs: now, kind: "host", text: `${short} Nova reports nova-compute ${v.nova ?? "-"}` });
    if (v.forcedDown !== before.forcedDown) out.push({ atMs: now, kind: "host", text: `${short} Nova forced_down=${String(v.forcedDown ?? false)}` });
    if (v.status !== before.status) out.push({ atMs: now, kind: "host", text: `${short} nova-compute ${v.status ?? "-"}${h.status?.nova?.disabledReason ? ` (${h.status.nova.disabledReason})` : ""}` });
  }

  private incident(inc: Incident, now: number, out: TimelineEntry[]): void {
    const name = inc.metadata?.name ?? "";
    const phase = inc.status?.phase ?? "Detected";
    if (this.phases.get(name) !== phase) {
      if (!this.phases.has(name)) out.push({ atMs: ms(inc.spec.detectedAt, now), kind: "detect", text: `Incident ${name} created by ${inc.spec.detectedBy ?? "the operator"}: ${inc.spec.reason ?? ""}` });
      this.phases.set(name, phase);
      out.push({ atMs: now, kind: phaseKind(phase), text: `Incident ${name} phase ${phase}` });
    }
    for (const c of inc.status?.conditions ?? []) {
      const key = `${name}/${c.type}`;
      const value = `${c.status}/${c.reason}`;
      if (this.conditions.get(key) === value) continue;
      this.conditions.set(key, value);
      out.push({ atMs: ms(c.lastTransitionTime, now), kind: conditionKind(c.type), text: `condition ${c.type}=${c.status} (${c.reason}): ${c.message}`, warning: c.status === "False" && c.type !== "Suppressed" });
    }
    const gate = inc.status?.gate;
    if (gate?.name && !this.gates.has(`${name}/${gate.name}`)) {
      this.gates.add(`${name}/${gate.name}`);
      out.push({ atMs: now, kind: "gate", text: `safety gate ${gate.name} blocks: ${gate.message ?? gate.reason ?? ""}`, warning: true });
    }
    for (const d of inc.status?.fencing?.devices ?? []) {
      const key = `${name}/${d.level}/${d.device}/${d.time ?? ""}/${d.result}`;
      if (this.devices.has(key)) continue;
      this.devices.add(key);
      out.push({ atMs: ms(d.time, now), kind: "fence", text: `fencing level ${d.level} device ${d.device}: ${d.result}${d.powerState ? `, power ${d.powerState}` : ""}${d.message ? ` (${d.message})` : ""}`, warning: d.result !== "Succeeded" });
    }
    for (const i of inc.status?.instances ?? []) this.instance(name, i, now, out);
  }

  private instance(incident: string, i: IncidentInstance, now: number, out: TimelineEntry[]): void {
    const key = `${incident}/${i.id}`;
    const before = this.instances.get(key);
    this.instances.set(key, i.state);
    if (before === i.state || !FINAL_INSTANCE_STATES.has(i.state)) return;
    const took = i.startedAt && i.finishedAt ? ` in ${((ms(i.finishedAt, now) - ms(i.startedAt, now)) / 1000).toFixed(1)} s` : "";
    const what = `${i.name ?? i.id} (${i.policy ?? "no policy"}${i.tier && i.tier !== "default" ? `, tier ${i.tier}` : ""})`;
    const text =
      i.state === "Recovered" ? `${what} ACTIVE again on ${i.targetHost ?? "?"}${took}${i.attempts && i.attempts > 1 ? ` after ${i.attempts} attempts` : ""}`
      : i.state === "Failed" ? `${what} FAILED: ${i.message ?? ""}`
      : `${what} ${i.state}${i.message ? `: ${i.message}` : ""}`;
    out.push({ atMs: ms(i.finishedAt, now), kind: i.state === "Failed" ? "evacuate" : "recovered", text, warning: i.state === "Failed" });
  }
}

function healthWhy(h: ComputeHost): string {
  const e = h.status?.health?.evidence?.[0];
  return e ? ` (${e.source}: ${e.observation})` : "";
}

function conditionKind(type: string): TimelineKind {
  if (type === "Suppressed") return "gate";
  if (type === "Fenced") return "fence";
  if (type === "Evacuated") return "evacuate";
  if (type === "Recovered" || type === "Notified") return "recovered";
  return "detect";
}

function phaseKind(phase: string): TimelineKind {
  if (phase === "Suppressed") return "gate";
  if (phase.startsWith("Fenc")) return "fence";
  if (phase === "Evacuating") return "evacuate";
  if (phase === "Recovered" || phase === "Notified") return "recovered";
  return "detect";
}

/** `  +12.3s  fence     text` */
export function formatEntry(e: TimelineEntry, originMs: number, color: boolean): string {
  const rel = (e.atMs - originMs) / 1000;
  const stamp = `${rel < 0 ? "-" : "+"}${Math.abs(rel).toFixed(1)}s`.padStart(8);
  const kind = e.kind.padEnd(9);
  const line = `${stamp}  ${kind} ${e.text}`;
  if (!color) return line;
  return e.warning ? `\u001b[33m${line}\u001b[0m` : e.kind === "recovered" ? `\u001b[32m${line}\u001b[0m` : line;
}
