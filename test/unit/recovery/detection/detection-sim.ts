import { decideDetection } from "../../../../src/recovery/detection/decide-detection.js";
import { DETECTION_DEFAULTS } from "../../../../src/recovery/detection/detection-defaults.js";
import type { DetectionDecision, DetectionInput, DetectionSettings, HostObservation, RecentFailure } from "../../../../src/recovery/model.js";

/**
 * A virtual cloud for detection scenarios: it plays the host monitor. Each step moves the
 * monotonic clock, changes what the hosts, peers, Nova and the observer show, runs one
 * detection pass, and carries the decision forward the way the host monitor will: opened and
 * suppressed failures become open incidents (`<host>-<epoch>`), raise lastEpoch and join
 * recentFailures; released ones proceed; withdrawn ones close.
 */

export type PeersChange = { reporting: number; unreachable: number } | "unreachable" | "reachable" | "silent";

export interface SimHostSpec {
  name: string;
  aggregates?: string[];
  /** `running` (default): a heartbeat at every step; `stopped` needs lastSeenMs; `never`: no heartbeat ever. */
  heartbeat?: "running" | "stopped" | "never";
  lastSeenMs?: number;
  peers?: PeersChange;
  nova?: "up" | "down" | "unknown";
  forcedDown?: boolean;
  disabled?: boolean;
  maintenance?: boolean;
  lastEpoch?: number;
  openIncident?: { epoch: number; phase: string };
}

export interface SimHostChange {
  /** One host, several, or "*" for every host. */
  host: string | string[];
  /** `stopped`: the last heartbeat is the one at this step's time; `blip`: one heartbeat now, then silent again. */
  heartbeat?: "running" | "stopped" | "blip";
  peers?: PeersChange;
  nova?: "up" | "down" | "unknown";
  forcedDown?: boolean;
  maintenance?: boolean;
  /** The executor moved the incident on (`closed` = it ended and is no longer open). */
  incident?: string;
}

export interface SimStep {
  /** Virtual monotonic time of this pass (ms); must not go backwards. */
  atMs: number;
  note?: string;
  hosts?: SimHostChange[];
  kubeApiOk?: boolean;
  /** This replica (re)starts leading now. */
  leaderRestart?: boolean;
  settings?: Partial<DetectionSettings>;
  /** The wall clock jumps (F17): recorded only, detection never sees it. */
  wallClockJumpMs?: number;
  /**
   * After the pass, decide again at the same time: `same` = a second replica (or a replayed
   * report) with an up-to-date view; `stale` = one whose cache does not show this pass's
   * incidents yet. Whatever it opens is created with a deterministic name; an existing name
   * is refused (AlreadyExists) and recorded as an ignored duplicate.
   */
  replay?: "same" | "stale";
}

export interface SimScenario {
  description: string;
  startMs?: number;
  settings?: Partial<DetectionSettings>;
  /** leadingSinceMs defaults to 0 (grace long over at typical start times). */
  observer?: { kubeApiOk?: boolean; leadingSinceMs?: number };
  recentFailures?: RecentFailure[];
  hosts: SimHostSpec[];
  steps: SimStep[];
}

interface SimHost {
  obs: HostObservation;
  running: boolean;
}

export interface PassRecord {
  step: SimStep;
  input: DetectionInput;
  decision: DetectionDecision;
  replay?: { decision: DetectionDecision; created: string[]; duplicatesIgnored: string[] };
}

export class DetectionSim {
  nowMs: number;
  wallMs = 1_700_000_000_000;
  settings: DetectionSettings;
  kubeApiOk: boolean;
  leadingSinceMs: number;
  recentFailures: RecentFailure[];
  readonly hosts = new Map<string, SimHost>();
  /** Every Incident ever created: name → phase. */
  readonly incidents = new Map<string, string>();

  constructor(s: Pick<SimScenario, "startMs" | "settings" | "observer" | "recentFailures" | "hosts">) {
    this.nowMs = s.startMs ?? 100_000;
    this.settings = { ...DETECTION_DEFAULTS, ...s.settings };
    this.kubeApiOk = s.observer?.kubeApiOk ?? true;
    this.leadingSinceMs = s.observer?.leadingSinceMs ?? 0;
    this.recentFailures = [...(s.recentFailures ?? [])];
    for (const h of s.hosts) this.addHost(h);
  }

  private addHost(h: SimHostSpec): void {
    const heartbeat = h.heartbeat ?? "running";
    const obs: HostObservation = {
      name: h.name,
      serviceHost: h.name.split(".").slice(1).join(".") || h.name,
      aggregates: h.aggregates ?? [],
      maintenance: h.maintenance ?? false,
      heartbeatLastSeenMs: heartbeat === "running" ? this.nowMs : heartbeat === "stopped" ? (h.lastSeenMs ?? this.nowMs) : undefined,
      peers: { reporting: 2, unreachable: 0 },
      nova: { state: "up", forcedDown: false, disabled: h.disabled ?? false, readAtMs: this.nowMs },
      lastEpoch: h.lastEpoch ?? h.openIncident?.epoch ?? 0,
    };
    if (h.openIncident) {
      obs.openIncident = { name: `${h.name}-${h.openIncident.epoch}`, ...h.openIncident };
      this.incidents.set(obs.openIncident.name, h.openIncident.phase);
    }
    const sim: SimHost = { obs, running: heartbeat === "running" };
    this.hosts.set(h.name, sim);
    if (h.peers) setPeers(obs, h.peers);
    this.setNova(sim, h.nova, h.forcedDown);
  }

  /** Applies a step's changes at its time and returns the input of the pass. */
  apply(step: SimStep): DetectionInput {
    if (step.atMs < this.nowMs) throw new Error(`step at ${step.atMs} goes back in time (now ${this.nowMs})`);
    this.nowMs = step.atMs;
    this.wallMs += step.wallClockJumpMs ?? 0;
    if (step.kubeApiOk !== undefined) this.kubeApiOk = step.kubeApiOk;
    if (step.leaderRestart === true) this.leadingSinceMs = step.atMs;
    if (step.settings) this.settings = { ...this.settings, ...step.settings };
    for (const sim of this.hosts.values()) if (sim.running) sim.obs.heartbeatLastSeenMs = this.nowMs;
    for (const change of step.hosts ?? []) for (const sim of this.select(change.host)) this.change(sim, change);
    for (const sim of this.hosts.values()) if (sim.obs.nova.state !== "unknown") sim.obs.nova.readAtMs = this.nowMs;
    return this.input();
  }

  input(): DetectionInput {
    return {
      nowMs: this.nowMs,
      hosts: [...this.hosts.values()].map((h) => structuredClone(h.obs)),
      settings: structuredClone(this.settings),
      observer: { kubeApiOk: this.kubeApiOk, leadingSinceMs: this.leadingSinceMs },
      recentFailures: structuredClone(this.recentFailures),
    };
  }

  /** One full step: apply, decide, carry forward (and replay if asked). */
  step(step: SimStep): PassRecord {
    const input = this.apply(step);
    const decision = decideDetection(input);
    this.fold(decision);
    const record: PassRecord = { step, input, decision };
    if (step.replay) {
      const replayInput = step.replay === "same" ? this.input() : input;
      const replayDecision = decideDetection(replayInput);
      record.replay = { decision: replayDecision, ...this.create(replayDecision) };
    }
    return record;
  }

  /** What the host monitor does with a decision. Returns the Incident names it created. */
  fold(d: DetectionDecision): { created: string[]; duplicatesIgnored: string[] } {
    const result = this.create(d);
    if (!this.kubeApiOk) return result;
    for (const r of d.release) this.setPhase(r.host, "Detected");
    for (const w of d.withdraw) this.setPhase(w.host, "closed");
    return result;
  }

  private create(d: DetectionDecision): { created: string[]; duplicatesIgnored: string[] } {
    const created: string[] = [];
    const duplicatesIgnored: string[] = [];
    if (!this.kubeApiOk) return { created, duplicatesIgnored };
    const items = [...d.open.map((o) => ({ ...o, phase: "Detected" })), ...d.suppressed.map((s) => ({ ...s, phase: "Suppressed" }))];
    for (const item of items) {
      const name = `${item.host}-${item.epoch}`;
      if (this.incidents.has(name)) {
        duplicatesIgnored.push(name);
        continue;
      }
      const sim = this.hosts.get(item.host);
      if (!sim) continue;
      this.incidents.set(name, item.phase);
      created.push(name);
      sim.obs.openIncident = { name, epoch: item.epoch, phase: item.phase };
      sim.obs.lastEpoch = Math.max(sim.obs.lastEpoch, item.epoch);
      this.recentFailures.push({ host: item.host, aggregates: [...sim.obs.aggregates], atMs: this.nowMs });
    }
    return { created, duplicatesIgnored };
  }

  private setPhase(host: string, phase: string): void {
    const sim = this.hosts.get(host);
    const open = sim?.obs.openIncident;
    if (!sim || !open) return;
    this.incidents.set(open.name, phase === "closed" ? `${this.incidents.get(open.name) ?? "?"}, closed` : phase);
    if (phase === "closed") delete sim.obs.openIncident;
    else sim.obs.openIncident = { ...open, phase };
  }

  private select(host: string | string[]): SimHost[] {
    const names = host === "*" ? [...this.hosts.keys()] : Array.isArray(host) ? host : [host];
    return names.map((n) => {
      const sim = this.hosts.get(n);
      if (!sim) throw new Error(`unknown host ${n}`);
      return sim;
    });
  }

  private change(sim: SimHost, c: SimHostChange): void {
    if (c.heartbeat === "running" || c.heartbeat === "blip") sim.obs.heartbeatLastSeenMs = this.nowMs;
    if (c.heartbeat !== undefined) sim.running = c.heartbeat === "running";
    if (c.peers !== undefined) setPeers(sim.obs, c.peers);
    if (c.nova !== undefined || c.forcedDown !== undefined) this.setNova(sim, c.nova, c.forcedDown);
    if (c.maintenance !== undefined) sim.obs.maintenance = c.maintenance;
    if (c.incident !== undefined) this.setPhase(sim.obs.name, c.incident);
  }

  private setNova(sim: SimHost, state: "up" | "down" | "unknown" | undefined, forcedDown: boolean | undefined): void {
    const nova = sim.obs.nova;
    if (state !== undefined) nova.state = state;
    if (forcedDown !== undefined) nova.forcedDown = forcedDown;
    if (nova.state === "unknown") return;
    const down = nova.state === "down" || nova.forcedDown;
    if (!down) delete nova.downSinceMs;
    else nova.downSinceMs ??= this.nowMs;
  }
}

function setPeers(obs: HostObservation, p: PeersChange): void {
  const reporting = obs.peers.reporting > 0 ? obs.peers.reporting : 2;
  if (p === "unreachable") obs.peers = { reporting, unreachable: reporting };
  else if (p === "reachable") obs.peers = { reporting, unreachable: 0 };
  else if (p === "silent") obs.peers = { reporting: 0, unreachable: 0 };
  else obs.peers = { ...p };
}
