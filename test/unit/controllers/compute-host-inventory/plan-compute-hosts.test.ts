import assert from "node:assert/strict";
import { join } from "node:path";
import type { ComputeHost } from "../../../../src/api/v1alpha1/index.js";
import { computeHostName } from "../../../../src/controllers/compute-host-inventory/compute-host-name.js";
import type { NovaInventory } from "../../../../src/controllers/compute-host-inventory/nova-inventory.js";
import { planComputeHosts, type CloudRef } from "../../../../src/controllers/compute-host-inventory/plan-compute-hosts.js";
import { assertGolden, readScenario, scenarioDirs, sourceDir } from "../../../support/golden.js";

interface Scenario {
  cloud: CloudRef;
  inventory: NovaInventory;
  existing: ComputeHost[];
}

describe("planComputeHosts (golden scenarios)", () => {
  const root = join(sourceDir(import.meta.url), "scenarios");
  for (const name of scenarioDirs(root)) {
    it(name, () => {
      const s = readScenario<Scenario>(join(root, name), "input.yaml");
      const plan = planComputeHosts(s.cloud, s.inventory, s.existing);
      assertGolden(join(root, name, "expected.yaml"), plan);
      // Applying the plan and planning again converges: nothing left to do.
      const applied = apply(s.existing, plan);
      const again = planComputeHosts(s.cloud, s.inventory, applied);
      assert.deepEqual([again.create.length, again.relabel.length, again.status.length, again.delete.length], [0, 0, 0, 0]);
    });
  }
});

describe("computeHostName", () => {
  it("keeps DNS host names readable and unique", () => {
    assert.equal(computeHostName("lab", "compute-1"), "lab.compute-1");
    assert.equal(computeHostName("lab", "node7.example.com"), "lab.node7.example.com");
    assert.notEqual(computeHostName("lab", "Compute_A"), computeHostName("lab", "compute-a"));
    assert.match(computeHostName("lab", "Compute_A"), /^lab\.compute-a-[0-9a-f]{8}$/);
    const long = computeHostName("lab", "x".repeat(300));
    assert.ok(long.length <= 230);
    assert.match(long, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
  });
});

function apply(existing: ComputeHost[], plan: ReturnType<typeof planComputeHosts>): ComputeHost[] {
  const byName = new Map(existing.map((h) => [h.metadata?.name ?? "", structuredClone(h)]));
  for (const c of plan.create) byName.set(c.metadata?.name ?? "", structuredClone(c));
  for (const r of plan.relabel) {
    const h = byName.get(r.name);
    if (h) h.metadata = { ...h.metadata, labels: r.labels };
  }
  for (const s of plan.status) {
    const h = byName.get(s.name);
    if (h) h.status = s.status;
  }
  for (const d of plan.delete) byName.delete(d);
  return [...byName.values()];
}
