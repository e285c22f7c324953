import assert from "node:assert/strict";
import { join } from "node:path";
import type { InstanceHAPolicy, InstanceHAPolicyStatus } from "../../../../src/api/v1alpha1/index.js";
import { evaluatePolicy, type PolicyWorld } from "../../../../src/controllers/instance-ha-policy/evaluate-policy.js";
import type { FailoverCapacityReport } from "../../../../src/controllers/instance-ha-policy/failover-capacity.js";
import { planPolicyStatus } from "../../../../src/controllers/instance-ha-policy/plan-policy-status.js";
import type { PolicyResolution } from "../../../../src/controllers/instance-ha-policy/resolve-protection.js";
import { assertGolden, readScenario, scenarioDirs, sourceDir } from "../../../support/golden.js";
import { toWorld, type Scenario, type World } from "./scenario.js";

/**
 * Every policy of the scenario is evaluated against the same cloud: expected.yaml holds
 * each one's resolution (protected with tier, unprotected with reason), failover capacity
 * per scope, and the planned status. Planning again from the planned status changes
 * nothing, also a minute later.
 */
describe("InstanceHAPolicy evaluation (golden scenarios)", () => {
  const root = join(sourceDir(import.meta.url), "scenarios");
  for (const name of scenarioDirs(root)) {
    it(name, () => {
      const world = toWorld(readScenario<Scenario>(join(root, name), "input.yaml"));
      const out = world.policies.map((p) => evaluateOne(p, world));
      assertGolden(join(root, name, "expected.yaml"), { policies: out.map((o) => o.view) });
      for (const o of out) {
        const again = plan({ ...o.policy, status: o.status }, world, world.now);
        assert.deepEqual(again, o.status, `${o.view.key}: planning again from the result changes the status`);
        const later = plan({ ...o.policy, status: o.status }, world, new Date(world.now.getTime() + 60_000));
        assert.deepEqual(later, o.status, `${o.view.key}: a minute later nothing changes either`);
      }
    });
  }
});

function plan(policy: InstanceHAPolicy, world: World, now: Date): InstanceHAPolicyStatus {
  if (!world.cloudState.ready) return planPolicyStatus(policy, world.cloudState, undefined, now);
  const others = world.policies.filter((p) => p.metadata?.name !== policy.metadata?.name);
  return evaluatePolicy(policy, worldOf(world, [...others, policy]), now).status;
}

function worldOf(world: World, policies: InstanceHAPolicy[]): PolicyWorld {
  return {
    cloudName: world.cloud,
    policies,
    instances: world.instances,
    hosts: world.hosts,
    projectNamesKnown: world.projectNamesKnown,
    ...(world.allocationRatios ? { allocationRatios: world.allocationRatios } : {}),
  };
}

function evaluateOne(policy: InstanceHAPolicy, world: World): { policy: InstanceHAPolicy; status: InstanceHAPolicyStatus; view: { key: string } & Record<string, unknown> } {
  const key = `${policy.metadata?.namespace}/${policy.metadata?.name}`;
  if (!world.cloudState.ready) {
    const status = planPolicyStatus(policy, world.cloudState, undefined, world.now);
    return { policy, status, view: { key, status } };
  }
  const r = evaluatePolicy(policy, worldOf(world, world.policies), world.now);
  return { policy, status: r.status, view: { key, ...resolutionView(r.resolution), ...(r.capacity ? { capacity: capacityView(r.capacity) } : {}), status: r.status } };
}

function resolutionView(r: PolicyResolution): Record<string, unknown> {
  return {
    mode: r.mode,
    priority: r.priority,
    specificity: r.specificity,
    matched: r.matched,
    protected: r.protected.map((p) => (p.tier ? `${p.instance.name} [${p.tier.name}]` : p.instance.name)),
    unprotected: r.unprotected.map((u) => `${u.instance.name}: ${u.reason} (${u.message})`),
    ...(r.overlaps.length > 0 ? { overlaps: r.overlaps } : {}),
  };
}

function capacityView(c: FailoverCapacityReport): Record<string, unknown> {
  return {
    hostFailuresTolerated: c.scopes.length === 0 ? "n/a (nothing protected on a known host)" : (c.hostFailuresTolerated ?? "unknown"),
    ...(c.unplacedInstances > 0 ? { unplacedInstances: c.unplacedInstances } : {}),
    scopes: c.scopes.map((s) => {
      const head = `${s.scope} ${s.name}: ${s.hosts} host(s), ${s.protectedInstances} protected`;
      if (s.unknown !== undefined) return `${head}; unknown: ${s.unknown}`;
      const at = s.failedAt ? `; fails when ${s.failedAt.hosts.join("+")} go (${s.failedAt.unplaced} unplaced, first ${s.failedAt.instance ?? "?"})` : "";
      return `${head}; tolerates ${s.hostFailuresTolerated ?? "?"}, limited by ${s.limitingResource ?? "?"}${at}`;
    }),
  };
}
