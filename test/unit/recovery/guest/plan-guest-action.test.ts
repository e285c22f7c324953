import assert from "node:assert/strict";
import { join } from "node:path";
import type { GuestActionInput, GuestActionPlan, GuestPolicySettings, GuestTrigger } from "../../../../src/recovery/guest/guest-action-model.js";
import { isAppOnly } from "../../../../src/guest-heartbeat/health-reason.js";
import { planGuestAction } from "../../../../src/recovery/guest/plan-guest-action.js";
import type { NovaActionRecord } from "../../../../src/recovery/instance/instance-recovery-model.js";
import { assertGolden, sourceDir } from "../../../support/golden.js";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const MIN = 60_000;
const SELF = "vmkeeper-user";

function policy(over: Partial<GuestPolicySettings> = {}): GuestPolicySettings {
  return {
    policy: "ns/keep",
    mode: "KeepRunning",
    paused: false,
    guest: { enabled: true, action: "Reboot", minUptimeMs: 2 * MIN },
    app: { enabled: true, action: "Log", gracePeriodMs: MIN },
    vm: { enabled: true, crashAction: "Restart", unrequestedStopAction: "Restart", guestShutdownAction: "Honour" },
    maxRecoveries: 3,
    windowMs: 60 * MIN,
    ...over,
  };
}

const unresponsive: GuestTrigger = { source: "GuestHealth", state: "Unresponsive", reason: "5 challenges missed", host: "compute-1", atMs: NOW - 5_000 };
const act = (action: string, atMinAgo: number, user: string | null = SELF, failed = false): NovaActionRecord => ({ action, requestId: `req-${action}-${atMinAgo}`, atMs: NOW - atMinAgo * MIN, userId: user, failed });

function input(over: { trigger?: GuestTrigger; policy?: GuestPolicySettings | undefined; actions?: NovaActionRecord[]; status?: string; taskState?: string | null; locked?: boolean; lockedReason?: string; host?: GuestActionInput["host"]; startedAtMs?: number } = {}): GuestActionInput {
  const i: GuestActionInput = {
    nowMs: NOW,
    trigger: over.trigger ?? unresponsive,
    instance: { id: "a0000000-0000-4000-8000-000000000001", name: "web-1", status: over.status ?? "ACTIVE", taskState: over.taskState ?? null, locked: over.locked ?? false, host: "compute-1", actions: over.actions ?? [act("create", 600, "owner")] },
    policy: "policy" in over ? over.policy : policy(),
    selfUserId: SELF,
  };
  if (over.lockedReason) i.instance.lockedReason = over.lockedReason;
  if (over.host) i.host = over.host;
  if (over.startedAtMs !== undefined) i.startedAtMs = over.startedAtMs;
  return i;
}

interface Case {
  name: string;
  in: GuestActionInput;
  kind: GuestActionPlan["kind"];
  action?: string;
  reasons?: string[];
  metric?: string;
  untilMs?: number;
}

const CASES: Case[] = [
  { name: "unresponsive, Reboot → hard reboot", in: input(), kind: "Act", action: "HardReboot", reasons: ["GuestUnresponsive"] },
  { name: "unresponsive, Stop → stop", in: input({ policy: policy({ guest: { enabled: true, action: "Stop", minUptimeMs: 0 } }) }), kind: "Act", action: "Stop", reasons: ["GuestUnresponsive"] },
  { name: "unresponsive, Log → Warning Event only", in: input({ policy: policy({ guest: { enabled: true, action: "Log", minUptimeMs: 0 } }) }), kind: "Report", reasons: ["GuestUnresponsive"], metric: "Log/Logged" },
  { name: "unresponsive, None → nothing", in: input({ policy: policy({ guest: { enabled: true, action: "None", minUptimeMs: 0 } }) }), kind: "Done" },
  { name: "guest monitoring off → nothing", in: input({ policy: policy({ guest: { enabled: false, action: "Reboot", minUptimeMs: 0 } }) }), kind: "Done" },
  { name: "NotifyOnly → Warning Event, nothing in Nova", in: input({ policy: policy({ mode: "NotifyOnly" }) }), kind: "Report", reasons: ["GuestUnresponsive"], metric: "Notify/Notified" },
  { name: "Disabled → nothing", in: input({ policy: policy({ mode: "Disabled" }) }), kind: "Done" },
  { name: "paused → nothing", in: input({ policy: policy({ paused: true }) }), kind: "Done" },
  { name: "not protected → nothing", in: input({ policy: undefined }), kind: "Done" },
  { name: "up less than minUptime (Nova start) → wait", in: input({ actions: [act("start", 1, "owner"), act("create", 600, "owner")] }), kind: "Wait", untilMs: NOW - MIN + 2 * MIN },
  { name: "up less than minUptime (agent saw it start) → wait", in: input({ startedAtMs: NOW - 30_000 }), kind: "Wait", untilMs: NOW - 30_000 + 2 * MIN },
  { name: "minUptime 0 → acts on a fresh guest", in: input({ policy: policy({ guest: { enabled: true, action: "Reboot", minUptimeMs: 0 } }), startedAtMs: NOW - 1000 }), kind: "Act", action: "HardReboot" },
  { name: "already rebooted after the report → nothing", in: input({ actions: [{ ...act("reboot", 0), atMs: NOW - 1000 }, act("create", 600, "owner")] }), kind: "Done" },
  { name: "a failed reboot after the report does not count as dealt with", in: input({ actions: [{ ...act("reboot", 0, SELF, true), atMs: NOW - 1000 }, act("create", 600, "owner")] }), kind: "Act", action: "HardReboot" },
  { name: "budget spent → skipped with a Warning", in: input({ actions: [act("reboot", 10), act("reboot", 20), act("start", 30), act("create", 600, "owner")] }), kind: "Report", reasons: ["GuestUnresponsive", "GuestActionSkipped"], metric: "Reboot/BudgetExhausted" },
  { name: "others' reboots do not use the budget", in: input({ actions: [act("reboot", 10, "owner"), act("reboot", 20, "owner"), act("reboot", 30, "owner"), act("create", 600, "owner")] }), kind: "Act", action: "HardReboot" },
  { name: "Stop is not limited by the restart budget", in: input({ policy: policy({ guest: { enabled: true, action: "Stop", minUptimeMs: 0 } }), actions: [act("reboot", 10), act("reboot", 20), act("reboot", 30), act("create", 600, "owner")] }), kind: "Act", action: "Stop" },
  { name: "not ACTIVE in Nova → nothing", in: input({ status: "SHUTOFF" }), kind: "Done" },
  { name: "task in progress → wait", in: input({ taskState: "rebooting_hard" }), kind: "Wait", untilMs: NOW + 10_000 },
  { name: "locked by its owner → skipped", in: input({ locked: true, lockedReason: "db migration" }), kind: "Report", reasons: ["GuestUnresponsive", "GuestActionSkipped"], metric: "Reboot/Skipped" },
  { name: "locked by vmkeeper → wait", in: input({ locked: true, lockedReason: "vmkeeper: evacuating" }), kind: "Wait", untilMs: NOW + 10_000 },
  { name: "host in maintenance → wait", in: input({ host: { maintenance: true } }), kind: "Wait", untilMs: NOW + 10_000 },
  { name: "host has an open Incident → wait", in: input({ host: { maintenance: false, openIncident: "compute-1-3" } }), kind: "Wait", untilMs: NOW + 10_000 },
  { name: "guest unhealthy (health check) → guestMonitoring action", in: input({ trigger: { source: "GuestHealth", state: "Unhealthy", reason: "check disk: exit status 1: /var is full", host: "compute-1", atMs: NOW - 1000 } }), kind: "Act", action: "HardReboot", reasons: ["GuestUnhealthy"] },
  { name: "application unhealthy → appMonitoring action (Log)", in: input({ trigger: { source: "GuestHealth", state: "Unhealthy", reason: "app db: replication lag 40 s", host: "compute-1", atMs: NOW - 1000 } }), kind: "Report", reasons: ["AppUnhealthy"], metric: "Log/Logged" },
  { name: "application unhealthy, appMonitoring off → nothing", in: input({ policy: policy({ app: { enabled: false, action: "Reboot", gracePeriodMs: 0 } }), trigger: { source: "GuestHealth", state: "Unhealthy", reason: "app db: down", host: "compute-1", atMs: NOW - 1000 } }), kind: "Done" },
  { name: "application unhealthy, Reboot, within grace period → wait", in: input({ policy: policy({ app: { enabled: true, action: "Reboot", gracePeriodMs: 5 * MIN } }), actions: [act("start", 2, "owner")], trigger: { source: "GuestHealth", state: "Unhealthy", reason: "app db: down", host: "compute-1", atMs: NOW - 1000 } }), kind: "Wait", untilMs: NOW - 2 * MIN + 5 * MIN },
  { name: "domain crashed → Warning; instance recovery restarts", in: input({ trigger: { source: "DomainEvent", event: "Crashed", detail: "Stopped Crashed", host: "compute-1", atMs: NOW - 1000 } }), kind: "Report", reasons: ["DomainCrashed"], metric: "Notify/Notified" },
  { name: "domain crashed, crashAction None → nothing", in: input({ policy: policy({ vm: { enabled: true, crashAction: "None", unrequestedStopAction: "Restart", guestShutdownAction: "Honour" } }), trigger: { source: "DomainEvent", event: "Crashed", detail: "Stopped Crashed", host: "compute-1", atMs: NOW - 1000 } }), kind: "Done" },
  { name: "domain crashed, vmMonitoring off → nothing", in: input({ policy: policy({ vm: { enabled: false, crashAction: "Restart", unrequestedStopAction: "Restart", guestShutdownAction: "Honour" } }), trigger: { source: "DomainEvent", event: "Crashed", detail: "Stopped Crashed", host: "compute-1", atMs: NOW - 1000 } }), kind: "Done" },
  { name: "stopped unrequested → Warning", in: input({ trigger: { source: "DomainEvent", event: "StoppedUnrequested", detail: "Stopped Destroyed", host: "compute-1", atMs: NOW - 1000 } }), kind: "Report", reasons: ["DomainStoppedUnrequested"] },
  { name: "guest shutdown → left to instance recovery (guestShutdownAction)", in: input({ trigger: { source: "DomainEvent", event: "GuestShutdown", detail: "Stopped Shutdown", host: "compute-1", atMs: NOW - 1000 } }), kind: "Done" },
  { name: "paused after an I/O error → Warning", in: input({ trigger: { source: "DomainEvent", event: "PausedIOError", detail: "Suspended IOError", host: "compute-1", atMs: NOW - 1000 } }), kind: "Report", reasons: ["DomainPausedIOError"] },
  { name: "watchdog fired → Warning", in: input({ trigger: { source: "DomainEvent", event: "WatchdogFired", detail: "watchdog reset", host: "compute-1", atMs: NOW - 1000 } }), kind: "Report", reasons: ["GuestWatchdogFired"] },
  { name: "reported by another host's agent than Nova's (moved, or spoofed) → nothing", in: input({ trigger: { ...unresponsive, host: "compute-2" } }), kind: "Done" },
  { name: "a crash reported by another host's agent → nothing", in: input({ trigger: { source: "DomainEvent", event: "Crashed", detail: "Stopped Crashed", host: "compute-9", atMs: NOW - 1000 } }), kind: "Done" },
  { name: "domain crash, NotifyOnly → Warning", in: input({ policy: policy({ mode: "NotifyOnly" }), trigger: { source: "DomainEvent", event: "Crashed", detail: "Stopped Crashed", host: "compute-1", atMs: NOW - 1000 } }), kind: "Report", reasons: ["DomainCrashed"] },
];

describe("planGuestAction", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const plan = planGuestAction(c.in);
      assert.equal(plan.kind, c.kind, plan.line);
      if (c.action) assert.equal(plan.kind === "Act" ? plan.action : undefined, c.action);
      if (c.reasons) assert.deepEqual(plan.kind === "Act" || plan.kind === "Report" ? plan.events.map((e) => e.reason) : [], c.reasons);
      if (c.metric) assert.equal(plan.kind === "Report" && plan.metric ? `${plan.metric.action}/${plan.metric.result}` : undefined, c.metric);
      if (c.untilMs !== undefined) assert.equal(plan.kind === "Wait" ? plan.untilMs : undefined, c.untilMs);
    });
  }

  it("never plans a Nova action for NotifyOnly, Disabled, paused or unprotected instances, whatever the trigger", () => {
    const triggers: GuestTrigger[] = [unresponsive, { ...unresponsive, state: "Unhealthy", reason: "check x: failed" }, { source: "DomainEvent", event: "Crashed", detail: "", host: "compute-1", atMs: NOW }, { source: "DomainEvent", event: "WatchdogFired", detail: "", host: "compute-1", atMs: NOW }];
    for (const trigger of triggers) {
      for (const p of [policy({ mode: "NotifyOnly" }), policy({ mode: "Disabled" }), policy({ paused: true }), undefined]) assert.notEqual(planGuestAction(input({ trigger, policy: p })).kind, "Act");
    }
  });

  it("the decisions read as a log (golden)", () => {
    const lines = CASES.map((c) => {
      const p = planGuestAction(c.in);
      const events = p.kind === "Act" || p.kind === "Report" ? p.events.map((e) => `${e.type} ${e.reason}: ${e.message}`) : [];
      return { case: c.name, decision: p.kind, line: p.line, ...(events.length > 0 ? { events } : {}), ...(p.kind === "Act" ? { then: `${p.actedEvent.type} ${p.actedEvent.reason}: ${p.actedEvent.message}` } : {}) };
    });
    assertGolden(join(sourceDir(import.meta.url), "plan-guest-action.golden.yaml"), lines);
  });

  it("tells application reasons from guest health checks", () => {
    assert.equal(isAppOnly("app db: lag; app web: 500s"), true);
    assert.equal(isAppOnly("check disk: full; app db: lag"), false);
    assert.equal(isAppOnly(undefined), false);
  });
});
