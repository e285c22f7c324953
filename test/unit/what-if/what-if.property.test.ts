import assert from "node:assert/strict";
import fc from "fast-check";
import { whatIf } from "../../../src/what-if/what-if.js";
import { world } from "./world-fixture.js";

describe("what-if properties (random clouds)", () => {
  it("respects the caps and tiers, never targets a failed host, never overfills one, and ends each instance as its last evacuation did", () => {
    const cloud = fc.record({
      others: fc.integer({ min: 1, max: 5 }),
      memory: fc.array(fc.constantFrom(4096, 8192, 16_384), { minLength: 5, maxLength: 5 }),
      vms: fc.array(fc.record({ ramMb: fc.constantFrom(512, 1024, 2048, 4096, 8192), db: fc.boolean() }), { minLength: 1, maxLength: 10 }),
      maxConcurrent: fc.integer({ min: 1, max: 4 }),
      perTarget: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(cloud, (c) => {
        const hosts = [{ name: "compute-1", memoryMb: 65_536 }, ...Array.from({ length: c.others }, (_, i) => ({ name: `compute-${i + 2}`, memoryMb: c.memory[i] ?? 8192 }))];
        const vms = c.vms.map((v, i) => ({ name: `${v.db ? "db" : "app"}-${i}`, host: "compute-1", ramMb: v.ramMb, ...(v.db ? { tier: "databases", priority: 100 } : {}) }));
        const w = world({ hosts, vms, failing: ["compute-1"], settings: { maxConcurrentEvacuations: c.maxConcurrent, maxConcurrentEvacuationsPerTargetHost: c.perTarget } });
        const free = new Map(w.hypervisors.map((h) => [h.serviceHost ?? "", (h.memoryMb ?? 0) - (h.memoryMbUsed ?? 0)]));
        const [h] = whatIf(w, ["lab.compute-1"]).hosts;
        assert.ok(h);
        const batches = new Map<number, number>();
        for (const e of h.evacuations) batches.set(e.batch, (batches.get(e.batch) ?? 0) + 1);
        for (const n of batches.values()) assert.ok(n <= c.maxConcurrent, `a batch of ${n} > ${c.maxConcurrent}`);
        const firstTier = h.evacuations.map((e) => (e.tier === "databases" ? 1 : 0));
        assert.deepEqual(firstTier, [...firstTier].sort((a, b) => b - a), "databases start before the default tier");
        const used = new Map<string, number>();
        for (const e of h.evacuations) {
          assert.notEqual(e.target, "compute-1");
          if (e.outcome !== "placed" || !e.target) continue;
          used.set(e.target, (used.get(e.target) ?? 0) + (vms.find((v) => v.name === e.name)?.ramMb ?? 0));
        }
        for (const [t, u] of used) assert.ok(u <= (free.get(t) ?? 0), `${t} overfilled: ${u} MiB > ${free.get(t) ?? 0}`);
        const last = new Map(h.evacuations.map((e) => [e.name, e.outcome]));
        for (const o of h.outcomes) assert.equal(o.state === "Recovered", last.get(o.name ?? "") === "placed", `${o.name ?? ""}: ${o.state}`);
        assert.equal(h.outcomes.length, vms.length);
      }),
      { numRuns: 150 },
    );
  });
});
