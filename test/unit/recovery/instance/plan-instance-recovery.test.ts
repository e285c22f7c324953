import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { assertGolden, readScenario, scenarioDirs, sourceDir } from "../../../support/golden.js";
import { runInstanceRecovery, type InstanceRecoveryScenario, type Outcome } from "./instance-recovery-harness.js";

describe("planInstanceRecovery (golden scenarios on a virtual Nova)", () => {
  const root = join(sourceDir(import.meta.url), "scenarios");
  for (const name of scenarioDirs(root)) {
    it(name, () => {
      const s = readScenario<InstanceRecoveryScenario>(join(root, name), "input.yaml");
      assertGolden(join(root, name, "expected.yaml"), { passes: runInstanceRecovery(s) });
    });
  }
});

describe("planInstanceRecovery properties", () => {
  it("never restarts one instance more than the budget allows within a window, nor twice within the least restart interval", () => {
    const scenario = fc.record({
      maxRecoveries: fc.integer({ min: 1, max: 5 }),
      windowSeconds: fc.integer({ min: 60, max: 600 }),
      minRestartIntervalSeconds: fc.integer({ min: 0, max: 120 }),
      outcomes: fc.array(fc.constantFrom<Outcome>("Active", "Fails"), { maxLength: 12 }),
      crashes: fc.array(fc.integer({ min: 1, max: 1200 }), { maxLength: 10 }),
    });
    fc.assert(
      fc.property(scenario, (p) => {
        const passes = runInstanceRecovery({
          now: "2026-11-22T10:00:00Z",
          passes: 60,
          passSeconds: 20,
          policies: [{ name: "keep", vmMonitoring: { minRestartIntervalSeconds: p.minRestartIntervalSeconds }, restartBudget: { maxRecoveries: p.maxRecoveries, windowSeconds: p.windowSeconds } }],
          instances: [{ id: "vm-1", status: "SHUTOFF", actions: [{ action: "create", user: "owner", at: -600 }, { action: "stop", user: null, at: -1 }], outcomes: p.outcomes }],
          events: p.crashes.map((at) => ({ at, instance: "vm-1", do: "crash" as const })),
        });
        const times = passes.flatMap((x) => (x.restarts.length > 0 ? [Number(x.at.slice(1, -1))] : []));
        for (const [i, t] of times.entries()) {
          const inWindow = times.filter((u) => u > t - p.windowSeconds && u <= t).length;
          assert.ok(inWindow <= p.maxRecoveries, `${inWindow} restarts in the window ending at ${t}s, budget ${p.maxRecoveries}`);
          const prev = times[i - 1];
          if (prev !== undefined) assert.ok(t - prev >= p.minRestartIntervalSeconds, `restarts at ${prev}s and ${t}s, least interval ${p.minRestartIntervalSeconds}s`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("never restarts an instance its owner stopped, whatever else happened", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("start", "reboot", "evacuate", "lock", "unlock", "migrate"), { maxLength: 6 }), fc.boolean(), (before, evacuatedAfter) => {
        const actions = [{ action: "create", user: "owner", at: -9000 }, ...before.map((a, i) => ({ action: a, user: "owner", at: -8000 + i })), { action: "stop", user: "owner", at: -100 }];
        if (evacuatedAfter) actions.push({ action: "evacuate", user: "vmkeeper", at: -50 });
        const [pass] = runInstanceRecovery({ now: "2026-11-22T10:00:00Z", policies: [{ name: "keep" }], instances: [{ id: "vm-1", status: "SHUTOFF", actions }] });
        assert.deepEqual(pass?.restarts, []);
      }),
    );
  });
});
