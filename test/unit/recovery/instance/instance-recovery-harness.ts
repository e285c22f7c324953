import { gateCandidate } from "../../../../src/recovery/instance/instance-gates.js";
import type { HostFacts, InstanceRecoverySettings, NovaActionRecord, RecoveryCandidate, RecoveryChoice } from "../../../../src/recovery/instance/instance-recovery-model.js";
import { planInstanceRecovery } from "../../../../src/recovery/instance/plan-instance-recovery.js";

/** What the virtual Nova does with one of vmkeeper's restarts. */
export type Outcome = "Active" | "Fails";

export interface ScenarioAction {
  action: string;
  /** null: Nova itself (power-state sync). */
  user: string | null;
  /** Seconds relative to the scenario's start (negative: before it). */
  at: number;
  failed?: boolean;
  requestId?: string;
}

export interface ScenarioInstance {
  id: string;
  name?: string;
  policy?: string;
  tierPriority?: number;
  status: "ACTIVE" | "SHUTOFF" | "ERROR";
  host?: string | null;
  hostStatus?: string;
  taskState?: string | null;
  locked?: boolean;
  lockedReason?: string;
  stopCause?: "GuestShutdown" | "Crash";
  /** Chronological. */
  actions?: ScenarioAction[];
  /** The virtual Nova's answer to each of vmkeeper's restarts, in order (default Active). */
  outcomes?: Outcome[];
}

export interface ScenarioPolicy {
  name: string;
  mode?: "KeepRunning" | "NotifyOnly" | "Disabled";
  paused?: boolean;
  vmMonitoring?: {
    enabled?: boolean;
    unrequestedStopAction?: RecoveryChoice;
    crashAction?: RecoveryChoice;
    guestShutdownAction?: "Honour" | "Restart";
    errorAction?: RecoveryChoice;
    minRestartIntervalSeconds?: number;
    minUptimeSeconds?: number;
  };
  restartBudget?: { maxRecoveries?: number; windowSeconds?: number };
}

/** Something that happens to an instance between passes. */
export interface ScenarioEvent {
  at: number;
  instance: string;
  /** crash: the guest powers off and Nova's power sync stops it; userStop: its owner stops it. */
  do: "crash" | "userStop";
  user?: string;
}

export interface InstanceRecoveryScenario {
  description?: string;
  now: string;
  self?: string;
  passes?: number;
  passSeconds?: number;
  maxRestartsPerPass?: number;
  policies: ScenarioPolicy[];
  hosts?: HostFacts[];
  instances: ScenarioInstance[];
  events?: ScenarioEvent[];
  reported?: string[];
  /** Seconds relative to the start: informational reports only for stops since then. */
  announceSince?: number;
}

export interface PassResult {
  at: string;
  restarts: string[];
  reports: string[];
  log: string[];
  summary: string;
  requeueAfterSeconds?: number;
}

const NS = "default";

export function settingsOf(p: ScenarioPolicy): InstanceRecoverySettings {
  const vm = p.vmMonitoring ?? {};
  return {
    policy: `${NS}/${p.name}`,
    mode: p.mode ?? "KeepRunning",
    paused: p.paused ?? false,
    enabled: vm.enabled ?? true,
    unrequestedStopAction: vm.unrequestedStopAction ?? "Restart",
    crashAction: vm.crashAction ?? "Restart",
    guestShutdownAction: vm.guestShutdownAction ?? "Honour",
    errorAction: vm.errorAction ?? "Restart",
    maxRecoveries: p.restartBudget?.maxRecoveries ?? 3,
    windowMs: (p.restartBudget?.windowSeconds ?? 3600) * 1000,
    minRestartIntervalMs: (vm.minRestartIntervalSeconds ?? 60) * 1000,
    minUptimeMs: (vm.minUptimeSeconds ?? 120) * 1000,
  };
}

/**
 * Runs the planner over several passes against a virtual Nova: restarts are applied with
 * the scripted outcomes (Nova records the action, the instance comes up or not), events
 * crash or stop instances between passes, reports are remembered as the controller does.
 */
export function runInstanceRecovery(s: InstanceRecoveryScenario): PassResult[] {
  const t0 = Date.parse(s.now);
  const self = s.self ?? "vmkeeper";
  const instances = s.instances.map((i) => ({ ...i, history: (i.actions ?? []).map((a, n) => toRecord(i.id, a, n, t0)), outcomes: [...(i.outcomes ?? [])] }));
  const policies = s.policies.map(settingsOf);
  const hosts = s.hosts ?? [];
  let reported = s.reported ?? [];
  const results: PassResult[] = [];
  const passMs = (s.passSeconds ?? 30) * 1000;
  for (let pass = 0; pass < (s.passes ?? 1); pass++) {
    const now = t0 + pass * passMs;
    applyEvents(s.events ?? [], instances, now - passMs, now, t0);
    const candidates = instances.filter((i) => i.status !== "ACTIVE").map((i) => toCandidate(i, policies, hosts));
    const plan = planInstanceRecovery({
      nowMs: now,
      selfUserId: self,
      policies,
      hosts,
      candidates,
      reported,
      maxRestartsPerPass: s.maxRestartsPerPass ?? 10,
      ...(s.announceSince !== undefined ? { announceSinceMs: t0 + s.announceSince * 1000 } : {}),
    });
    reported = plan.reported;
    const restarts: string[] = [];
    for (const r of plan.restarts) {
      const inst = instances.find((i) => i.id === r.instanceId);
      if (!inst) continue;
      const outcome = inst.outcomes.shift() ?? "Active";
      inst.history.push({ action: r.kind === "Start" ? "start" : "reboot", requestId: `req-${inst.id}-${inst.history.length}`, atMs: now, userId: self, failed: outcome === "Fails" });
      if (outcome === "Active") inst.status = "ACTIVE";
      else if (r.kind === "HardReboot") inst.status = "ERROR";
      restarts.push(`${r.kind} ${r.name} (${r.used + 1}/${r.max}) → ${outcome}`);
    }
    results.push({
      at: `+${(now - t0) / 1000}s`,
      restarts,
      reports: plan.reports.map((r) => `${r.type} ${r.reason} [${r.policy}] ${r.message}${r.metric ? ` {${r.metric.action}/${r.metric.result}}` : ""}`),
      log: plan.log,
      summary: plan.summary,
      ...(plan.requeueAfterMs !== undefined ? { requeueAfterSeconds: plan.requeueAfterMs / 1000 } : {}),
    });
  }
  return results;
}

type LiveInstance = ScenarioInstance & { history: NovaActionRecord[]; outcomes: Outcome[] };

function toRecord(id: string, a: ScenarioAction, n: number, t0: number): NovaActionRecord {
  return { action: a.action, requestId: a.requestId ?? `req-${id}-${n}`, atMs: t0 + a.at * 1000, userId: a.user, failed: a.failed ?? false };
}

function applyEvents(events: ScenarioEvent[], instances: LiveInstance[], fromMs: number, toMs: number, t0: number): void {
  for (const e of events) {
    const at = t0 + e.at * 1000;
    if (at <= fromMs || at > toMs) continue;
    const inst = instances.find((i) => i.id === e.instance);
    if (!inst || inst.status !== "ACTIVE") continue;
    inst.history.push({ action: "stop", requestId: `req-${inst.id}-${inst.history.length}`, atMs: at, userId: e.do === "crash" ? null : (e.user ?? "owner"), failed: false });
    inst.status = "SHUTOFF";
  }
}

/** The candidate as the controller builds it: instance actions read only when no gate is closed. */
function toCandidate(i: LiveInstance, policies: InstanceRecoverySettings[], hosts: HostFacts[]): RecoveryCandidate {
  const c: RecoveryCandidate = {
    id: i.id,
    name: i.name ?? i.id,
    policy: `${NS}/${i.policy ?? policies[0]?.policy.split("/")[1] ?? ""}`,
    tierPriority: i.tierPriority ?? 0,
    status: i.status === "ERROR" ? "ERROR" : "SHUTOFF",
    taskState: i.taskState ?? null,
    locked: i.locked ?? false,
  };
  if (i.host !== null) c.host = i.host ?? "compute-1";
  if (i.hostStatus !== undefined) c.hostStatus = i.hostStatus;
  if (i.lockedReason !== undefined) c.lockedReason = i.lockedReason;
  if (i.stopCause !== undefined) c.stopCause = i.stopCause;
  const gate = gateCandidate(c, policies.find((p) => p.policy === c.policy), hosts.find((h) => h.serviceHost === c.host));
  if (!gate) c.actions = [...i.history].sort((a, b) => b.atMs - a.atMs);
  return c;
}
