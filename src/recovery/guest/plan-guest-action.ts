import { rfc3339 } from "../../util/time-format.js";
import { isAppOnly } from "../../guest-heartbeat/health-reason.js";
import { budgetUse } from "../instance/restart-budget.js";
import { GuestEventReason, type GuestActionChoice, type GuestActionInput, type GuestActionPlan, type GuestPolicySettings, type GuestTrigger, type PlannedGuestEvent } from "./guest-action-model.js";

/** Nova actions after which the guest runs a fresh boot. */
const POWER_UP_ACTIONS: ReadonlySet<string> = new Set(["create", "start", "reboot", "unshelve", "resume", "unpause", "rebuild", "evacuate", "unrescue"]);
/** Nova actions that change whether (or how) the guest runs: one after the report means someone dealt with it. */
const POWER_ACTIONS: ReadonlySet<string> = new Set([...POWER_UP_ACTIONS, "stop", "shelve", "shelveOffload", "suspend", "pause", "rescue", "delete"]);
/** Re-check interval while an operation is in progress or the host workflow owns the host. */
const RECHECK_MS = 10_000;

type HealthTrigger = Extract<GuestTrigger, { source: "GuestHealth" }>;
type DomainTrigger = Extract<GuestTrigger, { source: "DomainEvent" }>;

/**
 * Decides what one agent report calls for, per the protecting InstanceHAPolicy. In order:
 * no policy, Disabled or paused → nothing; a domain event → reported (a stop is restarted or
 * honoured by instance recovery, which reads `vmMonitoring` and Nova's record; this only
 * says what the agent saw); guest or application health → the monitor's `action`:
 * None nothing, Log a Warning Event, NotifyOnly mode a Warning Event only, Reboot/Stop a
 * Nova hard reboot or stop — unless someone acted since the report, the instance is not
 * ACTIVE, an operation is in progress, the host workflow owns the host, it is locked, the
 * guest has been up less than `minUptimeSeconds`, or (Reboot) the restart budget is spent.
 * A report from an agent on another host than Nova's is ignored.
 * Pure: same input, same plan.
 */
export function planGuestAction(input: GuestActionInput): GuestActionPlan {
  const { policy: s, instance: i } = input;
  const label = `${i.name} (${i.id})`;
  if (!s) return { kind: "Done", line: `${label}: not protected by any policy` };
  if (s.mode === "Disabled") return { kind: "Done", line: `${label}: policy ${s.policy} is Disabled` };
  if (s.paused) return { kind: "Done", line: `${label}: policy ${s.policy} is paused` };
  // Only the agent of the host Nova runs the instance on speaks for it: a report from another
  // host is stale (the instance moved: migration, evacuation) or not to be trusted.
  if (i.host !== undefined && i.host !== input.trigger.host) return { kind: "Done", line: `${label}: reported by the host agent on ${input.trigger.host}, but Nova has it on ${i.host}: report ignored (stale after a move, or not that host's to make)` };
  return input.trigger.source === "DomainEvent" ? planDomainEvent(input, input.trigger, s, label) : planHealth(input, input.trigger, s, label);
}

function planDomainEvent(input: GuestActionInput, t: DomainTrigger, s: GuestPolicySettings, label: string): GuestActionPlan {
  const seen = `host agent on ${t.host} at ${rfc3339(new Date(t.atMs))}: ${t.detail || t.event}`;
  const notifyOnly = s.mode === "NotifyOnly";
  switch (t.event) {
    case "GuestShutdown":
      return { kind: "Done", line: `${label}: shut down from inside the guest (${seen}); instance recovery applies vmMonitoring.guestShutdownAction ${s.vm.guestShutdownAction}` };
    case "Crashed":
    case "StoppedUnrequested": {
      if (!s.vm.enabled) return { kind: "Done", line: `${label}: ${t.event} (${seen}); vmMonitoring.enabled false` };
      const [field, choice] = t.event === "Crashed" ? ["crashAction", s.vm.crashAction] : ["unrequestedStopAction", s.vm.unrequestedStopAction];
      if (choice === "None" && !notifyOnly) return { kind: "Done", line: `${label}: ${t.event} (${seen}); vmMonitoring.${field} None` };
      const next = notifyOnly ? "policy mode NotifyOnly: reported only" : choice === "Restart" ? `vmMonitoring.${field} Restart: instance recovery restarts it in place once Nova shows it stopped` : `vmMonitoring.${field} ${choice}`;
      const what = t.event === "Crashed" ? "the domain crashed" : "the domain stopped without a request";
      const reason = t.event === "Crashed" ? GuestEventReason.DomainCrashed : GuestEventReason.DomainStoppedUnrequested;
      return report(label, [{ type: "Warning", reason, message: `${label}: ${what} (${seen}); ${next}` }], { action: "Notify", result: "Notified" }, `${what} → reported (${next})`);
    }
    case "PausedIOError":
      return report(label, [{ type: "Warning", reason: GuestEventReason.DomainPausedIOError, message: `${label}: paused by the hypervisor after an I/O error (${seen}); vmkeeper does not resume it: check the instance's storage, then \`openstack server unpause\` or a hard reboot` }], { action: "Notify", result: "Notified" }, "paused after an I/O error → reported");
    case "WatchdogFired":
      return report(label, [{ type: "Warning", reason: GuestEventReason.GuestWatchdogFired, message: `${label}: the guest's watchdog fired (${seen}); the flavor's hw:watchdog_action has been applied by the hypervisor, vmkeeper adds nothing` }], { action: "Notify", result: "Notified" }, "watchdog fired → reported");
  }
  return { kind: "Done", line: `${label}: ${String(input.trigger.source)} ignored` };
}

function planHealth(input: GuestActionInput, t: HealthTrigger, s: GuestPolicySettings, label: string): GuestActionPlan {
  const app = t.state === "Unhealthy" && isAppOnly(t.reason);
  const monitor = app ? { field: "appMonitoring", enabled: s.app.enabled, action: s.app.action, uptimeMs: s.app.gracePeriodMs, uptimeField: "appMonitoring.gracePeriodSeconds" } : { field: "guestMonitoring", enabled: s.guest.enabled, action: s.guest.action, uptimeMs: s.guest.minUptimeMs, uptimeField: "guestMonitoring.minUptimeSeconds" };
  const reason = app ? GuestEventReason.AppUnhealthy : t.state === "Unresponsive" ? GuestEventReason.GuestUnresponsive : GuestEventReason.GuestUnhealthy;
  const what = describeHealth(t, app);
  if (!monitor.enabled) return { kind: "Done", line: `${label}: ${what}; ${monitor.field}.enabled false` };
  const since = supersededBy(input);
  if (since) return { kind: "Done", line: `${label}: ${what}; already dealt with: ${since.action} ${since.requestId} at ${rfc3339(new Date(since.atMs))}, after the report` };
  if (input.instance.status !== "ACTIVE") return { kind: "Done", line: `${label}: ${what}; Nova shows it ${input.instance.status}: nothing to correct in a guest that does not run` };
  if (monitor.action === "None") return { kind: "Done", line: `${label}: ${what}; ${monitor.field}.action None` };
  const detected = (next: string): PlannedGuestEvent => ({ type: "Warning", reason, message: `${label}: ${what}; ${next}` });
  if (s.mode === "NotifyOnly") return report(label, [detected("not acting (policy mode NotifyOnly)")], { action: "Notify", result: "Notified" }, `${what} → notified (NotifyOnly)`);
  if (monitor.action === "Log") return report(label, [detected(`${monitor.field}.action Log: reported only`)], { action: "Log", result: "Logged" }, `${what} → logged`);
  return planNovaAction(input, s, label, what, monitor.action, monitor.uptimeMs, monitor.uptimeField, detected);
}

function planNovaAction(input: GuestActionInput, s: GuestPolicySettings, label: string, what: string, choice: Exclude<GuestActionChoice, "Log" | "None">, uptimeMs: number, uptimeField: string, detected: (next: string) => PlannedGuestEvent): GuestActionPlan {
  const { instance: i, nowMs } = input;
  const metricAction = choice;
  const verb = choice === "Reboot" ? "hard reboot" : "stop";
  const skip = (why: string, result = "Skipped"): GuestActionPlan =>
    report(label, [detected(`not acting: ${why}`), { type: "Warning", reason: GuestEventReason.GuestActionSkipped, message: `${label}: ${verb} skipped: ${why}` }], { action: metricAction, result }, `${what} → ${verb} skipped (${why})`);
  if (i.taskState !== null) return { kind: "Wait", untilMs: nowMs + RECHECK_MS, line: `${label}: ${what}; task_state ${i.taskState}: an operation is in progress, looking again` };
  const hostWait = hostOwned(input);
  if (hostWait) return { kind: "Wait", untilMs: nowMs + RECHECK_MS, line: `${label}: ${what}; ${hostWait}` };
  if (i.locked) {
    if (i.lockedReason?.startsWith("vmkeeper:")) return { kind: "Wait", untilMs: nowMs + RECHECK_MS, line: `${label}: ${what}; locked by vmkeeper (${i.lockedReason})` };
    return skip(`locked by its owner${i.lockedReason ? ` (${i.lockedReason})` : ""}`);
  }
  const upSince = upSinceMs(input);
  if (upSince !== undefined && nowMs < upSince + uptimeMs) {
    return { kind: "Wait", untilMs: upSince + uptimeMs, line: `${label}: ${what}; up since ${rfc3339(new Date(upSince))}, less than ${uptimeField} ${uptimeMs / 1000}: ${verb} not before ${rfc3339(new Date(upSince + uptimeMs))}` };
  }
  let budgetNote = "";
  if (choice === "Reboot") {
    const budget = budgetUse(i.actions, input.selfUserId, nowMs, s.windowMs);
    if (budget.used >= s.maxRecoveries) return skip(`restart budget exhausted (${budget.used} of ${s.maxRecoveries} recoveries in ${s.windowMs / 1000} s; the next is possible at ${rfc3339(new Date(budget.freesAtMs ?? nowMs))})`, "BudgetExhausted");
    budgetNote = `; recovery ${budget.used + 1} of ${s.maxRecoveries} in the budget window`;
  }
  const action = choice === "Reboot" ? "HardReboot" : "Stop";
  const actedReason = choice === "Reboot" ? GuestEventReason.GuestRebooted : GuestEventReason.GuestStopped;
  return {
    kind: "Act",
    action,
    events: [detected(`${verb} follows (${uptimeField.split(".")[0] ?? ""}.action ${choice})`)],
    actedEvent: { type: "Normal", reason: actedReason, message: `${label}: ${verb} accepted by Nova after: ${what}${budgetNote}` },
    metricAction,
    line: `${label}: ${what} → ${action}${budgetNote}`,
  };
}

function describeHealth(t: HealthTrigger, app: boolean): string {
  const at = rfc3339(new Date(t.atMs));
  if (t.state === "Unresponsive") return `guest unresponsive (host agent on ${t.host} at ${at}${t.reason ? `: ${t.reason}` : ""})`;
  return `${app ? "application" : "guest"} unhealthy (host agent on ${t.host} at ${at}: ${t.reason ?? "no reason given"})`;
}

/** A power action in Nova at or after the report: someone (vmkeeper included) already dealt with this epoch. */
function supersededBy(input: GuestActionInput): { action: string; requestId: string; atMs: number } | undefined {
  return input.instance.actions.find((a) => POWER_ACTIONS.has(a.action) && a.atMs >= input.trigger.atMs && !a.failed);
}

function upSinceMs(input: GuestActionInput): number | undefined {
  const boot = input.instance.actions.find((a) => POWER_UP_ACTIONS.has(a.action) && !a.failed)?.atMs;
  const times = [boot, input.startedAtMs].filter((t): t is number => t !== undefined);
  return times.length > 0 ? Math.max(...times) : undefined;
}

function hostOwned(input: GuestActionInput): string | undefined {
  const h = input.host;
  const on = `host ${input.instance.host ?? input.trigger.host}`;
  if (h?.maintenance) return `${on} is in maintenance: no action`;
  if (h?.openIncident) return `${on} is handled by Incident ${h.openIncident}`;
  if (h?.health === "Failed" || h?.health === "Suspect") return `${on} is ${h.health}: the host workflow decides`;
  return undefined;
}

function report(_label: string, events: PlannedGuestEvent[], metric: { action: string; result: string } | undefined, line: string): GuestActionPlan {
  return { kind: "Report", events, ...(metric ? { metric } : {}), line: `${_label}: ${line}` };
}
