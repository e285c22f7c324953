import { instanceRecoveryMetrics } from "../controllers/instance-recovery/instance-recovery-metrics.js";
import { InstanceRecoveryReconciler } from "../controllers/instance-recovery/instance-recovery-reconciler.js";
import type { AgentReportTable } from "../agent-reports/report-table.js";
import { reportedStopCause } from "../controllers/guest-actions/pending-triggers.js";
import type { Controller, Reconciler } from "../kube/controller.js";
import { objectKey } from "../kube/resource-type.js";
import { instanceWorldDeps } from "./instance-world-deps.js";
import type { OperatorContext } from "./operator-context.js";
import type { LeaderView } from "./start-controllers.js";

/**
 * The VM-level recovery controller (one pass per OpenStackCloud), wired to the operator's
 * caches and shared cloud connections. Kept out of startControllers so that it is one
 * line there.
 */
export function instanceRecoveryController(ctx: OperatorContext, leader: LeaderView, make: (name: string, reconciler: Reconciler) => Controller, reports?: AgentReportTable): Controller {
  const { informers: inf, registry } = ctx;
  const controller = make("instancerecovery", new InstanceRecoveryReconciler({
    ...instanceWorldDeps(ctx, leader),
    getCloud: (key) => inf.clouds.get(key),
    metrics: instanceRecoveryMetrics(registry),
    // The host agent's libvirt events tell a crash from an in-guest shutdown (crashAction / guestShutdownAction).
    ...(reports ? { stopCause: (id: string) => reportedStopCause(reports.get(id)) } : {}),
  }));
  controller.watch(inf.clouds);
  // A policy edit (mode, pause, vmMonitoring) takes effect at once, not at the next pass.
  controller.watch(inf.policies, (p) => (p.metadata?.namespace && p.spec?.cloudRef?.name ? [`${p.metadata.namespace}/${p.spec.cloudRef.name}`] : []));
  for (const c of inf.clouds.items()) controller.enqueue(objectKey(c));
  return controller;
}
