import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { assertGolden, readScenario, scenarioDirs, sourceDir } from "../../../support/golden.js";
import { runHostReturn } from "./host-return-harness.js";
import { runWorkflow, type WorkflowScenario } from "./workflow-harness.js";

describe("planIncidentStep (golden scenarios on a virtual executor)", () => {
  const root = join(sourceDir(import.meta.url), "scenarios");
  for (const name of scenarioDirs(root)) {
    it(name, () => {
      const s = readScenario<WorkflowScenario>(join(root, name), "input.yaml");
      const run = runWorkflow(s);
      const reserved = run.final.reservedHosts;
      assertGolden(join(root, name, "expected.yaml"), {
        actions: run.actions.map((a) => `+${a.atMs / 1000}s ${a.action} → ${a.result}`),
        log: run.log,
        phase: run.final.phase,
        summary: run.final.summary,
        instances: (run.final.instances ?? []).map((i) => `${i.id}: ${i.state} (${i.attempts ?? 0} attempt(s)) ${i.message ?? ""}`.trim()),
        conditions: (run.final.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`),
        policies: (run.final.policies ?? []).map((p) => `${p.name} (${p.mode ?? "?"})`),
        ...(reserved ? { reservedHosts: reserved.map((r) => `${r.name} (${r.serviceHost ?? "?"})${r.enabledAt ? " enabled by vmkeeper" : ""}${r.full ? ", found full" : ""}`) } : {}),
        ...(s.hostReturn ? { hostReturn: runHostReturn(s.hostReturn, run.final, run.host, run.endMs) } : {}),
      });
      assert.deepEqual(run.evacuatedBeforeFenced, [], "I2: no evacuation before Fenced");
      // I3 with fallback: one accepted evacuation per instance and method, never while one runs.
      for (const [key, n] of Object.entries(run.evacuationsAccepted)) assert.equal(n, 1, `I3: ${key} evacuated ${n} times`);
      assert.deepEqual(run.acceptedWhileInFlight, [], "I3: no evacuation while one of the same instance runs");
      const cap = s.settings?.maxConcurrentEvacuationsPerTargetHost ?? 2;
      assert.ok(run.maxPerTarget <= cap, `I7: ${run.maxPerTarget} evacuations towards one target host, cap ${cap}`);
    });
  }
});

describe("planIncidentStep safety properties", () => {
  const answer = fc.constantFrom("accept" as const, "conflict" as const, "error" as const, "gone" as const);
  const scenario = fc.record({
    n: fc.integer({ min: 0, max: 8 }),
    unsafe: fc.boolean(),
    fencing: fc.array(fc.constantFrom("PowerOff" as const, "Failed" as const, "NotConfigured" as const), { maxLength: 4 }),
    cap: fc.integer({ min: 1, max: 4 }),
    scripts: fc.array(fc.array(answer, { maxLength: 4 }), { minLength: 8, maxLength: 8 }),
    ends: fc.array(fc.constantFrom("ACTIVE" as const, "ERROR" as const, "never" as const), { minLength: 8, maxLength: 8 }),
    modes: fc.array(fc.constantFrom("KeepRunning" as const, "NotifyOnly" as const), { minLength: 8, maxLength: 8 }),
  });
  const end = fc.constantFrom("ACTIVE" as const, "ERROR" as const, "NOVALIDHOST" as const, "never" as const);
  const recovery = fc.record({
    n: fc.integer({ min: 0, max: 8 }),
    cap: fc.integer({ min: 1, max: 6 }),
    perTarget: fc.integer({ min: 1, max: 3 }),
    methods: fc.constantFrom<("Evacuate" | "ReservedHost")[][]>(["Evacuate"], ["ReservedHost"], ["Evacuate", "ReservedHost"], ["ReservedHost", "Evacuate"]),
    reserved: fc.array(fc.record({ up: fc.boolean(), forcedDown: fc.boolean(), disabled: fc.boolean(), room: fc.integer({ min: 0, max: 4 }) }), { maxLength: 3 }),
    targets: fc.integer({ min: 1, max: 3 }),
    visibleAfterMs: fc.constantFrom(0, 500, 2500),
    ends: fc.array(fc.array(end, { minLength: 1, maxLength: 2 }), { minLength: 8, maxLength: 8 }),
  });

  it("I2 and I3 hold, the concurrency cap holds, and every run ends, for random fencing results and Nova answers", () => {
    fc.assert(
      fc.property(scenario, (p) => {
        const ids = Array.from({ length: p.n }, (_, i) => `vm-${i}`);
        const run = runWorkflow({
          host: "compute-1",
          settings: { unsafeSkipPowerFencing: p.unsafe, maxConcurrentEvacuations: p.cap, evacuationTimeoutMs: 60_000 },
          fencing: p.fencing,
          instances: ids.map((id, i) => ({ id, mode: p.modes[i] ?? "KeepRunning" })),
          evacuate: Object.fromEntries(ids.map((id, i) => [id, p.scripts[i] ?? []])),
          evacuationEnds: Object.fromEntries(ids.map((id, i) => [id, p.ends[i] ?? "ACTIVE"])),
          maxTicks: 2000,
        });
        assert.deepEqual(run.evacuatedBeforeFenced, []);
        for (const n of Object.values(run.evacuationsAccepted)) assert.equal(n, 1);
        const fenceable = p.unsafe || p.fencing.includes("PowerOff");
        const keepRunning = ids.filter((_, i) => (p.modes[i] ?? "KeepRunning") === "KeepRunning").length;
        if (!fenceable && keepRunning > 0) {
          assert.equal(Object.keys(run.evacuationsAccepted).length, 0, "nothing evacuated without fencing");
        } else {
          assert.ok(["Recovered", "Failed", "Notified"].includes(run.final.phase ?? ""), `ended in ${run.final.phase}`);
        }
        assert.ok(run.maxInFlight <= p.cap, `I7: ${run.maxInFlight} evacuations in flight, cap ${p.cap}`);
      }),
      { numRuns: 300 },
    );
  });

  it("with reserved hosts, fallbacks and a per-target-host cap: one evacuation per instance and method, never two at once, no target host above its cap, and every run ends", () => {
    fc.assert(
      fc.property(recovery, (p) => {
        const ids = Array.from({ length: p.n }, (_, i) => `vm-${i}`);
        const names = p.reserved.map((_, i) => `lab.spare-${i}`);
        const run = runWorkflow({
          host: "compute-1",
          settings: { unsafeSkipPowerFencing: true, maxConcurrentEvacuations: p.cap, maxConcurrentEvacuationsPerTargetHost: p.perTarget, evacuationTimeoutMs: 60_000 },
          policy: { methods: p.methods, reservedHosts: names },
          reserved: p.reserved.map((r, i) => ({ name: names[i] ?? "", ...r })),
          schedulerTargets: ["compute-2", "compute-3", "compute-4"].slice(0, p.targets),
          targetVisibleAfterMs: p.visibleAfterMs,
          instances: ids.map((id) => ({ id })),
          evacuationEnds: Object.fromEntries(ids.map((id, i) => [id, p.ends[i] ?? "ACTIVE"])),
          maxTicks: 3000,
        });
        for (const n of Object.values(run.evacuationsAccepted)) assert.equal(n, 1);
        assert.deepEqual(run.acceptedWhileInFlight, []);
        assert.ok(run.maxPerTarget <= p.perTarget, `I7: ${run.maxPerTarget} towards one target host, cap ${p.perTarget}`);
        assert.ok(run.maxInFlight <= p.cap, `I7: ${run.maxInFlight} in flight, cap ${p.cap}`);
        assert.ok(["Recovered", "Failed"].includes(run.final.phase ?? "") || p.n === 0, `ended in ${run.final.phase}`);
      }),
      { numRuns: 300 },
    );
  });
});

