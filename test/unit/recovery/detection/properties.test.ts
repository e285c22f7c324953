import assert from "node:assert/strict";
import fc from "fast-check";
import { decideDetection } from "../../../../src/recovery/detection/decide-detection.js";
import { normalizeDetectionSettings } from "../../../../src/recovery/detection/normalize-detection-settings.js";
import type { DetectionDecision, DetectionInput, DetectionSettings, HostObservation } from "../../../../src/recovery/model.js";
import { DetectionSim, type SimHostChange, type SimHostSpec, type SimStep } from "./detection-sim.js";

/**
 * Safety properties of decideDetection over random clouds and random fault schedules on a
 * virtual monotonic clock, folded the way the host monitor will fold them. The oracles below
 * re-derive each rule from the input on their own (they share no code with the gates), so a
 * broken gate makes them fail.
 */

const HOSTS = ["h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8"];

const settingsArb: fc.Arbitrary<Partial<DetectionSettings>> = fc.record({
  heartbeatIntervalMs: fc.integer({ min: 100, max: 2000 }),
  missedHeartbeats: fc.integer({ min: 1, max: 5 }),
  confirmationWindowMs: fc.integer({ min: 1000, max: 8000 }),
  corroboration: fc.constantFrom("PeersOrNova", "Peers", "Nova", "PeersAndNova" as const),
  maxUnhealthy: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`), fc.constant("50%")),
  perAggregate: fc.subarray([
    { aggregate: "a", maxUnhealthy: 1 },
    { aggregate: "b", maxUnhealthy: "50%" },
  ]),
  heartbeatCliffPercent: fc.integer({ min: 1, max: 100 }),
  cooldownMs: fc.integer({ min: 0, max: 60_000 }),
  startupGraceMs: fc.integer({ min: 0, max: 20_000 }),
  paused: fc.constantFrom(false, false, false, true),
});

const hostArb = (name: string): fc.Arbitrary<SimHostSpec> =>
  fc.record({
    name: fc.constant(name),
    aggregates: fc.subarray(["a", "b"]),
    heartbeat: fc.constantFrom("running", "running", "running", "never" as const),
  });

const hostIndex = fc.integer({ min: 0, max: HOSTS.length - 1 });

/** One change in the world; host indices wrap to the cloud's size. */
type Op =
  | { kind: "die"; host: number; peersSee: boolean }
  | { kind: "revive" | "blip"; host: number }
  | { kind: "peers"; host: number; reporting: number; unreachable: number }
  | { kind: "nova"; host: number; state: "up" | "down" | "unknown"; forcedDown: boolean }
  | { kind: "maintenance"; host: number; on: boolean }
  | { kind: "incident"; host: number; phase: string }
  | { kind: "kube"; ok: boolean }
  | { kind: "leader" }
  | { kind: "pause"; paused: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("die" as const), host: hostIndex, peersSee: fc.constantFrom(true, true, false) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constantFrom("revive" as const, "revive" as const, "blip" as const), host: hostIndex }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("peers" as const), host: hostIndex, reporting: fc.integer({ min: 0, max: 4 }), unreachable: fc.integer({ min: 0, max: 4 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("nova" as const), host: hostIndex, state: fc.constantFrom("up", "down", "unknown" as const), forcedDown: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("maintenance" as const), host: hostIndex, on: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("incident" as const), host: hostIndex, phase: fc.constantFrom("closed", "Fencing") }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("kube" as const), ok: fc.constantFrom(true, true, true, false) }), weight: 1 },
  { arbitrary: fc.constant({ kind: "leader" as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("pause" as const), paused: fc.boolean() }), weight: 1 },
);

const scheduleArb = fc.array(fc.record({ advanceMs: fc.integer({ min: 50, max: 9000 }), ops: fc.array(opArb, { maxLength: 3 }) }), { minLength: 5, maxLength: 30 });

const worldArb = fc.record({
  hostCount: fc.oneof(fc.integer({ min: 1, max: HOSTS.length }), fc.integer({ min: 5, max: HOSTS.length })),
  hosts: fc.tuple(...HOSTS.map(hostArb)),
  settings: settingsArb,
  leadingSinceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 120_000 })),
  schedule: scheduleArb,
});

function toStep(atMs: number, ops: Op[], names: string[]): SimStep {
  const step: SimStep = { atMs, hosts: [] };
  const name = (i: number): string => names[i % names.length] ?? "h0";
  for (const op of ops) {
    const change = (c: Omit<SimHostChange, "host">, i: number): void => void step.hosts?.push({ host: name(i), ...c });
    switch (op.kind) {
      case "die": change({ heartbeat: "stopped", ...(op.peersSee ? { peers: "unreachable" } : {}) }, op.host); break;
      case "revive": change({ heartbeat: "running", peers: "reachable" }, op.host); break;
      case "blip": change({ heartbeat: "blip" }, op.host); break;
      case "peers": change({ peers: { reporting: op.reporting, unreachable: op.unreachable } }, op.host); break;
      case "nova": change({ nova: op.state, forcedDown: op.forcedDown }, op.host); break;
      case "maintenance": change({ maintenance: op.on }, op.host); break;
      case "incident": change({ incident: op.phase }, op.host); break;
      case "kube": step.kubeApiOk = op.ok; break;
      case "leader": step.leaderRestart = true; break;
      case "pause": step.settings = { paused: op.paused }; break;
    }
  }
  return step;
}

const stats = { passes: 0, opened: 0, released: 0, suppressed: 0 };
const gateStats: Record<string, number> = {};

describe("decideDetection properties (random fault schedules)", () => {
  it("I5, I3, fresh heartbeats and rule 5 hold on every pass", () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const specs = w.hosts.slice(0, w.hostCount);
        const sim = new DetectionSim({ startMs: 100_000, settings: w.settings, observer: { leadingSinceMs: w.leadingSinceMs }, hosts: specs });
        const opened = new Set<string>();
        let at = 100_000;
        for (const s of w.schedule) {
          at += s.advanceMs;
          const input = sim.apply(toStep(at, s.ops, specs.map((h) => h.name)));
          const decision = decideWith(input);
          checkPass(input, decision, opened);
          sim.fold(decision);
        }
      }),
      { numRuns: 600 },
    );
    // The schedules must actually exercise openings, releases and suppressions.
    assert.ok(stats.opened > 100 && stats.released > 20 && stats.suppressed > 200, JSON.stringify({ ...stats, ...gateStats }));
  });
});

function decideWith(input: DetectionInput): DetectionDecision {
  stats.passes++;
  return decideDetection(input);
}

function checkPass(input: DetectionInput, d: DetectionDecision, opened: Set<string>): void {
  const { settings } = normalizeDetectionSettings(input.settings);
  const byName = new Map(input.hosts.map((h) => [h.name, h]));
  const acted = [...d.open, ...d.release];
  stats.opened += d.open.length;
  stats.released += d.release.length;
  stats.suppressed += d.suppressed.length;
  for (const x of d.suppressed) gateStats[x.gate.gate] = (gateStats[x.gate.gate] ?? 0) + 1;
  assert.ok(!d.log.includes("\n"), "one log line");
  for (const a of acted) {
    const h = byName.get(a.host);
    assert.ok(h, a.host);
    assertConfirmedFailure(input.nowMs, h, settings);
    assertCloudGatesOpen(input, settings, h);
  }
  if (acted.length > 0) assertWithinStormLimits(input, settings, acted.map((a) => a.host));
  for (const o of d.open) {
    const h = byName.get(o.host);
    assert.equal(h?.openIncident, undefined, `${o.host}: second incident while one is open`);
    assert.equal(o.epoch, (h?.lastEpoch ?? 0) + 1);
    const key = `${o.host}-${o.epoch}`;
    assert.ok(!opened.has(key), `${key} opened twice`);
    opened.add(key);
  }
  for (const r of d.release) {
    const h = byName.get(r.host);
    assert.equal(h?.openIncident?.phase, "Suppressed");
    assert.equal(h?.openIncident?.epoch, r.epoch);
  }
  const decided = new Set([...d.open, ...d.suppressed, ...d.release, ...d.held].map((x) => x.host));
  assert.equal(decided.size, d.open.length + d.suppressed.length + d.release.length + d.held.length, "a host decided twice in one pass");
}

/** Heartbeat silent for the full window (never fresh, never unheard) AND the second channel agrees. */
function assertConfirmedFailure(nowMs: number, h: HostObservation, s: DetectionSettings): void {
  assert.notEqual(h.heartbeatLastSeenMs, undefined, `${h.name} never heard but opened`);
  const last = h.heartbeatLastSeenMs ?? 0;
  const silence = nowMs - last;
  assert.ok(silence >= s.heartbeatIntervalMs * s.missedHeartbeats && silence >= s.confirmationWindowMs, `${h.name} opened after ${silence} ms of silence`);
  const peers = h.peers.reporting >= 1 && h.peers.unreachable * 2 > h.peers.reporting;
  const n = h.nova;
  const nova = n.state !== "unknown" && (n.state === "down" || n.forcedDown) && (n.readAtMs ?? last) >= last && (n.downSinceMs ?? last) >= last;
  const ok = { Peers: peers, Nova: nova, PeersOrNova: peers || nova, PeersAndNova: peers && nova }[s.corroboration];
  assert.ok(ok, `${h.name} opened without ${s.corroboration} agreeing (peers ${peers}, nova ${nova})`);
}

function assertCloudGatesOpen(input: DetectionInput, s: DetectionSettings, h: HostObservation): void {
  const now = input.nowMs;
  assert.ok(input.observer.kubeApiOk, "opened while the Kubernetes API is unreachable");
  assert.ok(!s.paused, "opened while paused");
  assert.ok(!h.maintenance, "opened a host in maintenance");
  assert.ok(now - input.observer.leadingSinceMs >= Math.max(s.startupGraceMs, s.confirmationWindowMs), "opened during the startup grace");
  const suspectAfter = s.heartbeatIntervalMs * s.missedHeartbeats;
  const population = input.hosts.filter((x) => x.heartbeatLastSeenMs !== undefined && !x.maintenance && !x.nova.forcedDown && (x.openIncident === undefined || x.openIncident.phase === "Suppressed"));
  const fresh = population.filter((x) => now - (x.heartbeatLastSeenMs ?? 0) < suspectAfter).length;
  assert.ok(population.length === 0 || fresh * 2 >= population.length, "opened while the observer hears fewer than half of the hosts");
  const silent = population.filter((x) => now - (x.heartbeatLastSeenMs ?? 0) >= suspectAfter).map((x) => x.heartbeatLastSeenMs ?? 0);
  for (const end of silent) {
    const inWindow = silent.filter((v) => v <= end && v >= end - s.confirmationWindowMs).length;
    const isCliff = inWindow >= 2 && inWindow * 100 >= s.heartbeatCliffPercent * population.length;
    const holdUntil = end + suspectAfter + Math.max(s.cooldownMs, Math.max(suspectAfter, s.confirmationWindowMs));
    assert.ok(!isCliff || now >= holdUntil, "opened during a heartbeat cliff's hold");
  }
}

/** After acting, the distinct failed hosts of the window stay within the cloud's limit and within the limit of every aggregate an acted host belongs to. */
function assertWithinStormLimits(input: DetectionInput, s: DetectionSettings, acted: string[]): void {
  const failedAfter = (member: (aggs: readonly string[]) => boolean): Set<string> => {
    const set = new Set<string>();
    for (const f of input.recentFailures) if (input.nowMs - f.atMs < s.cooldownMs && member(f.aggregates)) set.add(f.host);
    for (const h of input.hosts) if ((h.openIncident !== undefined || acted.includes(h.name)) && member(h.aggregates)) set.add(h.name);
    return set;
  };
  assert.ok(failedAfter(() => true).size <= limitOf(s.maxUnhealthy, input.hosts.length), "storm threshold exceeded");
  for (const entry of s.perAggregate) {
    const member = (aggs: readonly string[]): boolean => aggs.includes(entry.aggregate);
    // The per-aggregate gate applies to the hosts of that aggregate only.
    if (!input.hosts.some((h) => acted.includes(h.name) && member(h.aggregates))) continue;
    const size = input.hosts.filter((h) => member(h.aggregates)).length;
    assert.ok(failedAfter(member).size <= limitOf(entry.maxUnhealthy, size), `aggregate ${entry.aggregate} threshold exceeded`);
  }
}

/** The generated limits are counts or "P%" only. */
function limitOf(v: number | string, size: number): number {
  if (typeof v === "number") return v;
  const pct = Number(v.replace("%", ""));
  return pct > 0 ? Math.max(1, Math.floor((pct * size) / 100)) : 0;
}
