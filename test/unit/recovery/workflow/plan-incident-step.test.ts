import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { assertGolden, readScenario, scenarioDirs, sourceDir } from "../../../support/golden.js";
import { runWorkflow, type WorkflowScenario } from "./workflow-harness.js";

describe("planIncidentStep (golden scenarios on a virtual executor)", () => {
  const root = join(sourceDir(import.meta.url), "scenarios");
  for (const name of scenarioDirs(root)) {
    it(name, () => {
      const s = readScenario<WorkflowScenario>(join(root, name), "input.yaml");
      const run = runWorkflow(s);
      assertGolden(join(root, name, "expected.yaml"), {
        actions: run.actions.map((a) => `+${a.atMs / 1000}s ${a.action} → ${a.result}`),
        log: run.log,
        phase: run.final.phase,
        summary: run.final.summary,
        instances: (run.final.instances ?? []).map((i) => `${i.id}: ${i.state} (${i.attempts ?? 0} attempt(s)) ${i.message ?? ""}`.trim()),
      });
      assert.deepEqual(run.evacuatedBeforeFenced, [], "I2: no evacuation before Fenced");
      for (const [id, n] of Object.entries(run.evacuationsAccepted)) assert.equal(n, 1, `I3: ${id} evacuated ${n} times`);
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
});

