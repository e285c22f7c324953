import type { ComputeHost, InstanceHAPolicy, InstanceHAPolicyStatus } from "../../api/v1alpha1/index.js";
import { computeFailoverCapacity, type FailoverCapacityReport, type Resources } from "./failover-capacity.js";
import type { Instance } from "./instance-inventory.js";
import { planPolicyStatus } from "./plan-policy-status.js";
import { policyKey, resolveProtection, type PolicyResolution } from "./resolve-protection.js";

export interface PolicyWorld {
  cloudName: string;
  /** Every policy of the cloud, the evaluated one included. */
  policies: readonly InstanceHAPolicy[];
  instances: readonly Instance[];
  hosts: readonly ComputeHost[];
  projectNamesKnown: boolean;
  allocationRatios?: Partial<Resources>;
}

export interface PolicyEvaluationResult {
  resolution: PolicyResolution;
  /** Instance id → key of the policy that protects it, for every policy of the cloud. */
  owners: Record<string, string>;
  capacity?: FailoverCapacityReport;
  status: InstanceHAPolicyStatus;
}

/**
 * Resolution, failover capacity (KeepRunning only: nothing is evacuated otherwise) and
 * planned status of one policy, from the state of its cloud. Pure: the reconciler and the
 * scenario tests run exactly this.
 */
export function evaluatePolicy(policy: InstanceHAPolicy, world: PolicyWorld, now: Date): PolicyEvaluationResult {
  const key = policyKey(policy);
  const resolution = resolveProtection({ policies: world.policies, instances: world.instances, hosts: world.hosts });
  const { owners } = resolution;
  const mine = resolution.policies.find((r) => r.key === key);
  if (!mine) throw new Error(`policy ${key} is not among the policies of its cloud`);
  let capacity: FailoverCapacityReport | undefined;
  if (mine.mode === "KeepRunning") {
    const recovery = policy.spec.recovery;
    capacity = computeFailoverCapacity(
      mine.protected.map((p) => p.instance),
      world.hosts,
      {
        cloudName: world.cloudName,
        reservedHosts: recovery?.reservedHosts ?? [],
        useReservedHosts: (recovery?.methods ?? []).includes("ReservedHost"),
        ...(world.allocationRatios ? { allocationRatios: world.allocationRatios } : {}),
      },
    );
  }
  const status = planPolicyStatus(policy, { ready: true }, { resolution: mine, capacity, projectNamesKnown: world.projectNamesKnown }, now);
  return { resolution: mine, owners, ...(capacity ? { capacity } : {}), status };
}
