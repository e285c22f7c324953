import { Gauge, type Registry } from "prom-client";
import type { InstanceHAPolicyStatus } from "../../api/v1alpha1/index.js";
import { registeredMetric } from "../../util/registered-metric.js";

/** Records a policy's status (undefined: the policy is gone). */
export type PolicyMetrics = (namespace: string, policy: string, status: InstanceHAPolicyStatus | undefined) => void;

/**
 * `vmkeeper_protected_instances{namespace,policy}`: the instances each InstanceHAPolicy
 * protects now (its status.protectedCount, kept at the last evaluated figure while the
 * cloud is unreachable), so an alert can fire when protection drops. The series of a
 * deleted policy is removed.
 */
export function policyMetrics(registry: Registry): PolicyMetrics {
  const name = "vmkeeper_protected_instances";
  const gauge = registeredMetric(registry, name, () => new Gauge({ name, help: "Instances currently protected by the InstanceHAPolicy (status.protectedCount)", labelNames: ["namespace", "policy"], registers: [registry] }));
  return (namespace, policy, status) => {
    if (status?.protectedCount === undefined) gauge.remove({ namespace, policy });
    else gauge.set({ namespace, policy }, status.protectedCount);
  };
}
