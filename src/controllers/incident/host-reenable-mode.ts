import type { InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import type { HostReenableMode } from "../../recovery/workflow/workflow-model.js";

/**
 * How a failed host returns to service in Nova after its incident: Automatic only if every
 * KeepRunning policy with instances on the host says `recovery.hostReenable: Automatic`
 * (no involved policy: Manual). The one place that decides it, so that a HostFencing's
 * `unfence: Automatic` can be combined here.
 */
export function hostReenableMode(keepRunningPolicies: readonly InstanceHAPolicy[]): HostReenableMode {
  const automatic = keepRunningPolicies.length > 0 && keepRunningPolicies.every((p) => p.spec.recovery?.hostReenable === "Automatic");
  return automatic ? "Automatic" : "Manual";
}
