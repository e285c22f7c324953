import type { AgentReportTable } from "../agent-reports/report-table.js";
import { guestActionMetrics } from "../controllers/guest-actions/guest-actions-metrics.js";
import { GuestActionsReconciler } from "../controllers/guest-actions/guest-actions-reconciler.js";
import type { GuestControlHub } from "../guest-control/guest-control-hub.js";
import type { Controller, Reconciler } from "../kube/controller.js";
import { instanceWorldDeps } from "./instance-world-deps.js";
import type { OperatorContext } from "./operator-context.js";
import type { LeaderView } from "./start-controllers.js";

/**
 * The guest-actions controller (one key per reported instance), fed by the agent report
 * table: every accepted report about an instance queues it; on taking the lead, every
 * instance in the table is looked at once (a standby kept the table warm). A guest's vote
 * (through the agent links) queues its instance too.
 */
export function guestActionsController(ctx: OperatorContext, leader: LeaderView, table: AgentReportTable, make: (name: string, reconciler: Reconciler) => Controller, leading: AbortSignal, votes?: GuestControlHub): Controller {
  const { informers: inf, registry } = ctx;
  const controller = make("guestactions", new GuestActionsReconciler({
    ...instanceWorldDeps(ctx, leader),
    table,
    allHosts: () => inf.hosts.items(),
    metrics: guestActionMetrics(registry),
    ...(votes ? { votes } : {}),
  }));
  const stopVotes = votes?.onVote((instanceId) => controller.enqueue(instanceId));
  let cursor = 0;
  const drain = (): void => {
    const next = table.since(cursor);
    cursor = next.cursor;
    for (const e of next.entries) if (e.report.kind !== "ProcessHealth") controller.enqueue(e.report.instanceUuid);
  };
  const stop = table.onAccepted(() => drain());
  leading.addEventListener("abort", () => {
    stop();
    stopVotes?.();
  }, { once: true });
  cursor = table.since(0).cursor;
  for (const id of table.instanceIds()) controller.enqueue(id);
  return controller;
}
