import { rfc3339 } from "../../util/time-format.js";
import { classifyDowntime, type Downtime } from "./classify-downtime.js";
import { gateCandidate, lockGate } from "./instance-gates.js";
import type {
  HostFacts,
  InstanceRecoveryInput,
  InstanceRecoveryPlan,
  InstanceRecoverySettings,
  NovaActionRecord,
  PlannedReport,
  PlannedRestart,
  RecoveryCandidate,
  ReportReason,
  RestartKind,
} from "./instance-recovery-model.js";
import { budgetUse, lastOwnRestart } from "./restart-budget.js";

type Outcome = "restart" | "waiting" | "reported" | "left" | "skipped";

interface Decision {
  outcome: Outcome;
  line: string;
  restart?: PlannedRestart;
  /** The line when the restart waits for the next pass (per-pass cap). */
  deferredLine?: string;
  /** Reports that apply now (made before or not: the plan keeps only new ones). */
  reports: PlannedReport[];
  wakeAtMs?: number;
}

interface Ctx {
  input: InstanceRecoveryInput;
  c: RecoveryCandidate;
  s: InstanceRecoverySettings;
  label: string;
}

/**
 * Decides, for the protected instances found SHUTOFF or in ERROR, which to restart in place
 * (Start, or HardReboot when a start did not hold, for ERROR, or after a failed attempt),
 * which to leave alone and what to report. In order: the gates (policy off or paused, an
 * operation in progress, the host owned by the host workflow), then who stopped it (Nova's
 * instance actions: a user's request is left alone, a failed operation is left to a
 * person), then the policy's choice for that kind of downtime, then the lock, the least
 * restart interval and the restart budget. Higher restart tiers first; at most
 * `maxRestartsPerPass` restarts per pass. Pure: same input, same plan.
 */
export function planInstanceRecovery(input: InstanceRecoveryInput): InstanceRecoveryPlan {
  const policies = new Map(input.policies.map((p) => [p.policy, p]));
  const hosts = new Map(input.hosts.map((h) => [h.serviceHost, h]));
  const already = new Set(input.reported);
  const ordered = [...input.candidates].sort((a, b) => b.tierPriority - a.tierPriority || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const plan: InstanceRecoveryPlan = { restarts: [], reports: [], reported: [], log: [], summary: "" };
  const keep = new Set<string>();
  const counts: Record<Outcome, number> = { restart: 0, waiting: 0, reported: 0, left: 0, skipped: 0 };
  const wakes: number[] = [];
  for (const c of ordered) {
    let d = decide(input, c, policies.get(c.policy), c.host !== undefined ? hosts.get(c.host) : undefined);
    if (d.restart && plan.restarts.length >= input.maxRestartsPerPass) {
      d = { outcome: "waiting", line: `${d.deferredLine ?? d.line} → deferred to the next pass (at most ${input.maxRestartsPerPass} restarts per pass)`, reports: d.reports, wakeAtMs: input.nowMs + 1000 };
    }
    if (d.restart) plan.restarts.push(d.restart);
    for (const r of d.reports) {
      keep.add(r.key);
      if (!already.has(r.key)) plan.reports.push(r);
    }
    if (d.wakeAtMs !== undefined) wakes.push(d.wakeAtMs);
    counts[d.outcome]++;
    plan.log.push(d.line);
  }
  // Reports of instances still down but gated this pass stay remembered.
  const down = new Set(input.candidates.map((c) => c.id));
  for (const k of already) if (down.has(k.split("/")[0] ?? "")) keep.add(k);
  plan.reported = [...keep].sort();
  if (wakes.length > 0) plan.requeueAfterMs = Math.max(0, Math.min(...wakes) - input.nowMs);
  plan.summary = `instance recovery at ${rfc3339(new Date(input.nowMs))}: ${input.candidates.length} protected instance(s) down → ${counts.restart} restart(s), ${counts.waiting} waiting, ${counts.reported} reported, ${counts.left} left alone, ${counts.skipped} skipped`;
  return plan;
}

function decide(input: InstanceRecoveryInput, c: RecoveryCandidate, s: InstanceRecoverySettings | undefined, host: HostFacts | undefined): Decision {
  const label = `${c.name} (${c.id}) ${c.status}`;
  const gate = gateCandidate(c, s, host);
  if (gate || !s) return { outcome: "skipped", line: `${label}: skipped, ${gate?.reason ?? "NoPolicy"}: ${gate?.message ?? ""}`, reports: [] };
  if (!c.actions) return { outcome: "skipped", line: `${label}: history not read yet (reads per pass are limited), next pass`, reports: [], wakeAtMs: input.nowMs + 1000 };
  const ctx: Ctx = { input, c, s, label };
  const downtime = classifyDowntime(c, input.selfUserId);
  switch (downtime.kind) {
    case "UserRequest": {
      const d = report(ctx, "left", `${describeAction(downtime.by)}: a user's request, left alone`, "StoppedByUser", "Normal", downtime.by.requestId, `${describeAction(downtime.by)}; vmkeeper leaves it as the user asked`);
      return announced(input, downtime.by.atMs) ? d : { ...d, reports: [] };
    }
    case "OperationFailed":
      return report(ctx, "left", `in ERROR after ${describeAction(downtime.by)} failed: left to a person`, "OperationFailed", "Warning", downtime.by.requestId, `in ERROR after ${describeAction(downtime.by)} failed; vmkeeper does not restart an instance whose operation failed (see \`openstack server event show ${c.id} ${downtime.by.requestId}\`)`);
    case "Unrequested":
      return decideUnrequested(ctx, downtime);
  }
}

function decideUnrequested(ctx: Ctx, d: Extract<Downtime, { kind: "Unrequested" }>): Decision {
  const { c, s } = ctx;
  const why = explainUnrequested(c, d);
  const failedAttempt = d.attempts[0] ? [attemptFailedReport(ctx, d.attempts[0])] : [];
  const withFailed = (dec: Decision): Decision => ({ ...dec, reports: [...failedAttempt, ...dec.reports] });
  if (s.mode === "NotifyOnly") return withFailed(notify(ctx, why, d, "policy mode NotifyOnly"));
  const { choice, field } = policyChoice(c, s);
  if (choice === "None") return withFailed({ outcome: "left", line: `${ctx.label}: ${why} → left alone (${field}: None)`, reports: [] });
  if (choice === "Notify") return withFailed(notify(ctx, why, d, `${field}: Notify`));
  if (choice === "Honour") {
    const honoured = report(ctx, "left", `${why}: honoured (${field}: Honour)`, "GuestShutdownHonoured", "Normal", d.origin?.requestId ?? "-", `${why}; kept stopped (${field}: Honour)`);
    return withFailed(announced(ctx.input, d.origin?.atMs) ? honoured : { ...honoured, reports: [] });
  }
  return withFailed(decideRestart(ctx, d, why));
}

/** The policy's choice for this kind of downtime, and the field it comes from. */
function policyChoice(c: RecoveryCandidate, s: InstanceRecoverySettings): { choice: "Restart" | "Notify" | "None" | "Honour"; field: string } {
  if (c.status === "ERROR") return { choice: s.errorAction, field: "vmMonitoring.errorAction" };
  if (c.stopCause === "Crash") return { choice: s.crashAction, field: "vmMonitoring.crashAction" };
  if (c.stopCause === "GuestShutdown") return { choice: s.guestShutdownAction, field: "vmMonitoring.guestShutdownAction" };
  return { choice: s.unrequestedStopAction, field: "vmMonitoring.unrequestedStopAction" };
}

function decideRestart(ctx: Ctx, d: Extract<Downtime, { kind: "Unrequested" }>, why: string): Decision {
  const { input, c, s, label } = ctx;
  const locked = lockGate(c);
  if (locked && !locked.report) return { outcome: "skipped", line: `${label}: ${why} → skipped, ${locked.reason}: ${locked.message}`, reports: [] };
  if (locked) return report(ctx, "left", `${why} → not restarted: ${locked.message}`, "RestartSkipped", "Normal", "Locked", `${why}; not restarted: ${locked.message}`);
  const { kind, because } = restartKind(c, s, d);
  const actions = c.actions ?? [];
  const last = lastOwnRestart(actions, input.selfUserId);
  if (last && input.nowMs < last.atMs + s.minRestartIntervalMs) {
    const at = last.atMs + s.minRestartIntervalMs;
    return { outcome: "waiting", line: `${label}: ${why} → ${kind} at ${rfc3339(new Date(at))} (vmMonitoring.minRestartIntervalSeconds after ${last.action} ${last.requestId})`, reports: [], wakeAtMs: at };
  }
  const budget = budgetUse(actions, input.selfUserId, input.nowMs, s.windowMs);
  const window = `${s.windowMs / 1000} s`;
  if (budget.used >= s.maxRecoveries) {
    const message = `${why}; not restarted: restart budget exhausted (${budget.used} of ${s.maxRecoveries} recoveries in ${window}; the next is possible at ${rfc3339(new Date(budget.freesAtMs ?? input.nowMs))})`;
    const r = reportOf(ctx, "RestartBudgetExhausted", "Warning", budget.newestRequestId ?? "-", message, { action: kind, result: "BudgetExhausted" });
    return { outcome: "reported", line: `${label}: ${why} → budget exhausted (${budget.used}/${s.maxRecoveries} in ${window})`, reports: [r], ...(budget.freesAtMs !== undefined ? { wakeAtMs: budget.freesAtMs } : {}) };
  }
  const reason = `${why}; ${because}`;
  const restart: PlannedRestart = { kind, instanceId: c.id, name: c.name, policy: c.policy, reason, used: budget.used, max: s.maxRecoveries };
  return { outcome: "restart", line: `${label}: ${why} → ${kind} (${because}; recovery ${budget.used + 1} of ${s.maxRecoveries} in ${window})`, deferredLine: `${label}: ${why}`, restart, reports: [] };
}

function restartKind(c: RecoveryCandidate, s: InstanceRecoverySettings, d: Extract<Downtime, { kind: "Unrequested" }>): { kind: RestartKind; because: string } {
  const last = d.attempts[0];
  if (last) return { kind: "HardReboot", because: `the ${last.action === "start" ? "start" : "hard reboot"} ${last.requestId} did not bring it back` };
  if (c.status === "ERROR") return { kind: "HardReboot", because: "Nova accepts a hard reboot of an ERROR instance; its state is never reset" };
  if (d.heldMs !== undefined && d.heldMs < s.minUptimeMs) {
    return { kind: "HardReboot", because: `it stopped again ${Math.round(d.heldMs / 1000)} s after vmkeeper's last restart, within vmMonitoring.minUptimeSeconds ${s.minUptimeMs / 1000}` };
  }
  return { kind: "Start", because: "start in place" };
}

function explainUnrequested(c: RecoveryCandidate, d: Extract<Downtime, { kind: "Unrequested" }>): string {
  const by = c.stopCause === "Crash" ? "host agent: the domain crashed" : c.stopCause === "GuestShutdown" ? "host agent: shut down from inside the guest" : undefined;
  if (c.status === "ERROR") return d.origin ? `in ERROR since ${describeAction(d.origin)}` : "in ERROR, no failed operation recorded";
  if (d.origin) return `stopped without a user request at ${rfc3339(new Date(d.origin.atMs))} (${by ?? "Nova's power-state sync: crash or in-guest shutdown"}; ${d.origin.requestId})`;
  return `SHUTOFF, no stop recorded${by ? ` (${by})` : ""}`;
}

function notify(ctx: Ctx, why: string, d: Extract<Downtime, { kind: "Unrequested" }>, because: string): Decision {
  const r = reportOf(ctx, "InstanceDown", "Warning", d.origin?.requestId ?? "-", `${why}; not restarted (${because})`, { action: "Notify", result: "Notified" });
  return { outcome: "reported", line: `${ctx.label}: ${why} → notified (${because})`, reports: [r] };
}

function attemptFailedReport(ctx: Ctx, a: NovaActionRecord): PlannedReport {
  const what = a.action === "start" ? "Start" : "HardReboot";
  const how = a.failed ? "Nova recorded an error" : `the instance is still ${ctx.c.status}`;
  return reportOf(ctx, "InstanceRestartFailed", "Warning", a.requestId, `${what} ${a.requestId} at ${rfc3339(new Date(a.atMs))} did not bring it back (${how})`, { action: what, result: "NotRecovered" });
}

function report(ctx: Ctx, outcome: Outcome, what: string, reason: ReportReason, type: "Normal" | "Warning", ref: string, message: string): Decision {
  return { outcome, line: `${ctx.label}: ${what}`, reports: [reportOf(ctx, reason, type, ref, message)] };
}

function reportOf(ctx: Ctx, reason: ReportReason, type: "Normal" | "Warning", ref: string, message: string, metric?: { action: string; result: string }): PlannedReport {
  const { c } = ctx;
  return { key: `${c.id}/${reason}/${ref}`, instanceId: c.id, name: c.name, policy: c.policy, type, reason, message: `${c.name} (${c.id}): ${message}`, ...(metric ? { metric } : {}) };
}

/** Whether an informational report about a stop at `atMs` is still news (see announceSinceMs). */
function announced(input: InstanceRecoveryInput, atMs: number | undefined): boolean {
  return input.announceSinceMs === undefined || atMs === undefined || atMs >= input.announceSinceMs;
}

function describeAction(a: NovaActionRecord): string {
  const who = a.userId === null ? "Nova itself" : `user ${a.userId}`;
  return `${a.action} by ${who} at ${rfc3339(new Date(a.atMs))} (${a.requestId})`;
}
