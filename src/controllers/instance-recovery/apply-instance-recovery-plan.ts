import type { InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import { errorMessage } from "../../kube/api-error.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import { NovaError } from "../../openstack/nova-errors.js";
import type { InstanceRecoveryPlan, PlannedRestart } from "../../recovery/instance/instance-recovery-model.js";
import type { Logger } from "../../util/logger.js";
import type { InstanceRecoveryMetrics } from "./instance-recovery-metrics.js";
import type { InstanceRecoveryNova } from "./read-recovery-world.js";

export interface ApplyDeps {
  nova: Pick<InstanceRecoveryNova, "startServer" | "hardRebootServer">;
  /** The policy objects by `namespace/name` (Events are recorded on them). */
  policies: ReadonlyMap<string, InstanceHAPolicy>;
  events: EventRecorder;
  metrics?: InstanceRecoveryMetrics;
  /** Checked before every Nova call: a replica past its renew deadline sends nothing. */
  isLeader: () => boolean;
  signal: AbortSignal;
  log: Logger;
}

export interface ApplyResult {
  sent: number;
  accepted: number;
  /** True when the pass stopped early because leadership (or the controller) ended. */
  stopped: boolean;
}

/**
 * Sends the planned restarts (each once: a server action is never retried blindly; the next
 * pass reads Nova's instance actions and sees whether it went through) and records the
 * reports as Events on the policies, with the metric.
 */
export async function applyInstanceRecoveryPlan(plan: InstanceRecoveryPlan, d: ApplyDeps): Promise<ApplyResult> {
  const result: ApplyResult = { sent: 0, accepted: 0, stopped: false };
  for (const r of plan.restarts) {
    if (d.signal.aborted || !d.isLeader()) {
      d.log.info({ pending: plan.restarts.length - result.sent }, "not leading any more: no further restarts this pass");
      result.stopped = true;
      break;
    }
    result.sent++;
    if (await restart(r, d)) result.accepted++;
  }
  for (const r of plan.reports) {
    const policy = d.policies.get(r.policy);
    if (r.metric) count(d, r.policy, r.metric.action, r.metric.result);
    if (policy) await d.events.record(policy, r.type, r.reason, "Observe", r.message);
  }
  return result;
}

async function restart(r: PlannedRestart, d: ApplyDeps): Promise<boolean> {
  const policy = d.policies.get(r.policy);
  const what = `${r.name} (${r.instanceId})`;
  try {
    const requestId = r.kind === "Start" ? await d.nova.startServer(r.instanceId, { signal: d.signal }) : await d.nova.hardRebootServer(r.instanceId, { signal: d.signal });
    count(d, r.policy, r.kind, "Accepted");
    d.log.info({ instance: r.instanceId, name: r.name, action: r.kind, requestId, policy: r.policy }, "instance restart accepted by Nova");
    const note = `${what}: ${r.kind === "Start" ? "start" : "hard reboot"} accepted by Nova (request ${requestId ?? "unknown"}); ${r.reason}; recovery ${r.used + 1} of ${r.max} in the budget window`;
    if (policy) await d.events.record(policy, "Normal", "InstanceRestarted", r.kind, note);
    return true;
  } catch (err: unknown) {
    const nova = err instanceof NovaError ? err : undefined;
    const unknown = nova ? nova.outcomeUnknown || nova.status === undefined : true;
    count(d, r.policy, r.kind, unknown ? "Failed" : "Refused");
    const why = unknown ? `no clear answer (${errorMessage(err)}); the next pass reads Nova's instance actions to see whether it went through` : `Nova refused it: ${nova?.message ?? errorMessage(err)}`;
    d.log.warn({ instance: r.instanceId, name: r.name, action: r.kind, policy: r.policy, err: errorMessage(err) }, "instance restart failed");
    if (policy) await d.events.record(policy, "Warning", "InstanceRestartFailed", r.kind, `${what}: ${r.kind === "Start" ? "start" : "hard reboot"} failed: ${why}`);
    return false;
  }
}

function count(d: ApplyDeps, policyKey: string, action: string, result: string): void {
  const [namespace = "", policy = ""] = policyKey.split("/");
  d.metrics?.({ policy, namespace, action, result });
}
