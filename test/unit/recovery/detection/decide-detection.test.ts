import assert from "node:assert/strict";
import { join } from "node:path";
import type { DetectionDecision, HostAssessment } from "../../../../src/recovery/model.js";
import { assertGolden, readScenario, scenarioDirs, sourceDir } from "../../../support/golden.js";
import { DetectionSim, type PassRecord, type SimScenario } from "./detection-sim.js";

/**
 * Golden detection scenarios: each folder holds input.yaml (a virtual cloud and a list of
 * steps on a monotonic clock) and expected.yaml (per step: host states with evidence, gates
 * closed, what was opened/suppressed/released/held/withdrawn/skipped, the decision log line).
 */
describe("decideDetection (golden scenarios)", () => {
  const root = join(sourceDir(import.meta.url), "scenarios");
  for (const name of scenarioDirs(root)) {
    it(name, () => {
      const scenario = readScenario<SimScenario>(join(root, name), "input.yaml");
      checkKeys(scenario);
      const { rendered, records } = runScenario(scenario);
      assertGolden(join(root, name, "expected.yaml"), rendered);
      checkInvariants(records);
      if (scenario.steps.some((s) => s.wallClockJumpMs !== undefined)) {
        // F17: the same scenario without the wall-clock jumps decides exactly the same.
        const calm = runScenario({ ...scenario, steps: scenario.steps.map(({ wallClockJumpMs: _jump, ...s }) => s) });
        assert.deepEqual(calm.records.map((r) => r.decision), records.map((r) => r.decision));
      }
    });
  }
});

function runScenario(scenario: SimScenario): { rendered: unknown; records: PassRecord[] } {
  const sim = new DetectionSim(scenario);
  const records = scenario.steps.map((step) => sim.step(step));
  const steps = records.map(renderRecord);
  return { rendered: { description: scenario.description, steps, incidents: Object.fromEntries(sim.incidents) }, records };
}

function renderRecord(r: PassRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { atMs: r.step.atMs };
  if (r.step.note !== undefined) out.note = r.step.note;
  if (r.step.wallClockJumpMs !== undefined) out.wallClockJumpMs = r.step.wallClockJumpMs;
  out.hosts = Object.fromEntries(r.decision.assessments.map((a) => [a.name, renderAssessment(a)]));
  Object.assign(out, renderDecision(r.decision));
  if (r.replay) {
    out.replay = { ...renderDecision(r.replay.decision), created: r.replay.created, duplicatesIgnored: r.replay.duplicatesIgnored };
  }
  return out;
}

function renderAssessment(a: HostAssessment): string {
  if (a.state === "Healthy") return "Healthy";
  return `${a.state} — ${a.evidence.map((e) => `${e.source}: ${e.observation}`).join("; ")}`;
}

function renderDecision(d: DetectionDecision): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const closed = d.gates.filter((g) => g.blocked).map((g) => `${g.gate}/${g.reason}: ${g.message}`);
  if (closed.length > 0) out.gatesClosed = closed;
  const lists: [string, string[]][] = [
    ["open", d.open.map((o) => `${o.host}#${o.epoch}`)],
    ["release", d.release.map((o) => `${o.host}#${o.epoch}`)],
    ["suppressed", d.suppressed.map((o) => `${o.host}#${o.epoch} by ${o.gate.gate}`)],
    ["held", d.held.map((o) => `${o.host}#${o.epoch} by ${o.gate.gate}`)],
    ["withdraw", d.withdraw.map((o) => `${o.host}#${o.epoch} (${o.state})`)],
    ["skipped", d.skipped.map((o) => `${o.host} by ${o.gate.gate}`)],
  ];
  for (const [key, items] of lists) if (items.length > 0) out[key] = items;
  out.log = d.log;
  return out;
}

/** Cheap cross-checks on every pass of every scenario (the properties test them at random). */
function checkInvariants(records: PassRecord[]): void {
  for (const { input, decision } of records) {
    const byName = new Map(input.hosts.map((h) => [h.name, h]));
    for (const o of decision.open) {
      const h = byName.get(o.host);
      assert.ok(h && h.openIncident === undefined, `${o.host} opened while an incident is open`);
      assert.equal(o.epoch, h.lastEpoch + 1);
      assert.ok(decision.gates.every((g) => !g.blocked || g.gate === "AggregateStormThreshold" || g.gate === "Maintenance"), `${o.host} opened with a cloud gate closed`);
    }
  }
}

const SCENARIO_KEYS = ["description", "startMs", "settings", "observer", "recentFailures", "hosts", "steps"];
const STEP_KEYS = ["atMs", "note", "hosts", "kubeApiOk", "leaderRestart", "settings", "wallClockJumpMs", "replay"];
const CHANGE_KEYS = ["host", "heartbeat", "peers", "nova", "forcedDown", "maintenance", "incident"];
const HOST_KEYS = ["name", "aggregates", "heartbeat", "lastSeenMs", "peers", "nova", "forcedDown", "disabled", "maintenance", "lastEpoch", "openIncident"];

/** A typo in a scenario must fail loudly, not be ignored. */
function checkKeys(s: SimScenario): void {
  const only = (what: string, o: object, keys: string[]): void => {
    for (const k of Object.keys(o)) assert.ok(keys.includes(k), `${what}: unknown key ${k}`);
  };
  only("scenario", s, SCENARIO_KEYS);
  for (const h of s.hosts) only(`host ${h.name}`, h, HOST_KEYS);
  for (const step of s.steps) {
    only(`step at ${step.atMs}`, step, STEP_KEYS);
    for (const c of step.hosts ?? []) only(`step at ${step.atMs} change`, c, CHANGE_KEYS);
  }
}
