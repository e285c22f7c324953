import type { IncidentInstance, IncidentPhase, IncidentPolicy, IncidentStatus } from "../../api/v1alpha1/index.js";
import type { UsableReservedHost } from "./choose-reserved-host.js";
import { currentMethod, evacuationTarget, isNoValidHost, nextMethod, recordReservedHost } from "./evacuation-target.js";
import { setIncidentConditions } from "./incident-conditions.js";
import { initialHostReturn } from "./plan-host-return.js";
import { observedTarget, targetHostLoad, type TargetHostLoad } from "./target-host-load.js";
import { MAX_BATCH, type EvacuationOrder, type InstanceNovaState, type ProtectedInstance, type WorkflowInput, type WorkflowStep } from "./workflow-model.js";

const TERMINAL: IncidentPhase[] = ["Recovered", "Failed", "Suppressed", "Notified"];
const DONE_STATES = new Set(["Recovered", "Failed", "Skipped", "Notified"]);
const IN_FLIGHT = new Set(["Evacuating", "Verifying"]);
export const VMKEEPER_LOCK_PREFIX = "vmkeeper:";
/** Nova task states of a rebuild (an evacuation is one) in progress. */
const REBUILD_TASKS = new Set(["rebuilding", "rebuild_block_device_mapping", "rebuild_spawning"]);

/**
 * The next step of one Incident: pure. Given the Incident's status and the world as read
 * now, it returns the status to write and at most one side effect. The executor records
 * the intent (compare-and-swap on the Incident) before performing it, so a controller
 * restarted at any point plans the same step again and never repeats a finished one.
 *
 * Order, and why: tell the owner first (notify-only owners must hear within a second);
 * never evacuate before Fenced = power read back Off (or an explicit unsafe skip) AND Nova
 * forced_down; evacuate by tier with bounded concurrency; verify each VM; unlock what we
 * locked; finish.
 */
export function planIncidentStep(input: WorkflowInput): WorkflowStep {
  const step = planStep(input);
  setIncidentConditions(step.status, input.nowIso);
  return step;
}

function planStep(input: WorkflowInput): WorkflowStep {
  const status: IncidentStatus = structuredClone(input.status);
  const log: string[] = [];
  if (status.phase === "Suppressed") return planSuppressed(status, input, log);
  if (status.phase && TERMINAL.includes(status.phase)) return { status, log };
  status.instances ??= protect(input, status, log);
  if (!status.notification?.sentAt) {
    return { status, action: { kind: "Notify", event: "detected" }, log: [...log, "notify the owners"] };
  }
  const keepRunning = status.instances.filter((i) => i.state !== "Notified");
  if (!keepRunning.some((i) => !DONE_STATES.has(i.state))) {
    return finish(status, input, log);
  }
  const fenced = planFencing(status, input, log);
  if (fenced) return fenced;
  verifyInFlight(status, input, log);
  const next = nextEvacuation(status, input, log);
  if (next) return next;
  if (status.instances.every((i) => DONE_STATES.has(i.state))) return finish(status, input, log);
  summarise(status);
  // Evacuations in flight are checked twice a second: the pass that sees the last one done ends the recovery.
  return { status, requeueAfterMs: status.instances.some((i) => IN_FLIGHT.has(i.state)) ? 500 : 1000, log };
}

/**
 * A Suppressed incident (a safety gate holds the recovery back): the owners of the
 * instances concerned are told once; nothing else happens until the host monitor releases
 * it (phase Confirmed, and the usual `detected` notification follows) or withdraws it.
 */
function planSuppressed(status: IncidentStatus, input: WorkflowInput, log: string[]): WorkflowStep {
  if (status.timestamps?.finishedAt || status.notification?.suppressedSentAt) return { status, log };
  status.instances ??= protect(input, status, log);
  return { status, action: { kind: "Notify", event: "suppressed" }, log: [...log, `tell the owners that ${status.gate?.name ?? "a safety gate"} holds the recovery back`] };
}

function protect(input: WorkflowInput, status: IncidentStatus, log: string[]): IncidentInstance[] {
  const instances = initialInstances(input.protectedInstances, input.nowIso);
  const policies = new Map<string, IncidentPolicy>();
  for (const p of input.protectedInstances) if (!policies.has(p.policy)) policies.set(p.policy, { name: p.policy, mode: p.mode });
  status.policies ??= [...policies.values()].sort((a, b) => a.name.localeCompare(b.name)).slice(0, 64);
  log.push(`protecting ${instances.length} instance(s) on ${input.host.serviceHost}`);
  return instances;
}

function initialInstances(list: ProtectedInstance[], nowIso: string): IncidentInstance[] {
  return [...list]
    .sort((a, b) => b.tierPriority - a.tierPriority || a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map((p): IncidentInstance => {
      const base = { id: p.id, name: p.name, policy: p.policy, tier: p.tier, attempts: 0 };
      if (p.mode === "NotifyOnly") return { ...base, state: "Notified", message: "policy is NotifyOnly: owner notified, nothing done", finishedAt: nowIso };
      if (p.localDiskRefused) return { ...base, state: "Skipped", message: "root disk is local and the policy refuses a rebuild from the image (recovery.localDisk: Refuse)", finishedAt: nowIso };
      if (p.recentRecoveries >= p.maxRecoveries) return { ...base, state: "Skipped", message: `restart budget exhausted (${p.recentRecoveries}/${p.maxRecoveries} recoveries in the window)`, finishedAt: nowIso };
      return { ...base, state: "Pending" };
    });
}

/** Returns a step while fencing is not complete; undefined once the host is Fenced. */
function planFencing(status: IncidentStatus, input: WorkflowInput, log: string[]): WorkflowStep | undefined {
  const fencing = (status.fencing ??= {});
  status.timestamps ??= {};
  // A HostFencing that selects the host is always used, even when the policy allows the
  // unsafe skip: the executor applies unsafeSkipPowerFencing only when no HostFencing exists.
  if (!fencing.powerReadBackOff && !fencing.unsafeSkipped) {
    if (status.phase === "FencingFailed") return { status, action: { kind: "Fence" }, log: [...log, "retry fencing"] };
    status.phase = "Fencing";
    status.timestamps.fencingStartedAt ??= input.nowIso;
    return { status, action: { kind: "Fence" }, log: [...log, input.settings.unsafeSkipPowerFencing ? "fence the host (without a HostFencing the policy's unsafeSkipPowerFencing applies)" : "fence the host"] };
  }
  if (fencing.unsafeSkipped && status.phase === "Fencing" && !input.host.forcedDown) log.push("UNSAFE: power fencing skipped (recovery.unsafeSkipPowerFencing, no HostFencing selects the host); relying on Nova force-down alone");
  if (!input.host.forcedDown) {
    status.phase = "Fencing";
    status.timestamps.fencingStartedAt ??= input.nowIso;
    return { status, action: { kind: "ForceDown" }, log: [...log, `force ${input.host.serviceHost} down in Nova`] };
  }
  fencing.forcedDown = true;
  if (!input.host.disabled) {
    return { status, action: { kind: "DisableService", reason: `${VMKEEPER_LOCK_PREFIX} host failure, incident ${input.incidentName}` }, log: [...log, "disable the compute service"] };
  }
  fencing.serviceDisabled = true;
  if (status.phase !== "Fenced" && status.phase !== "Evacuating") {
    status.phase = "Fenced";
    status.timestamps.fencedAt ??= input.nowIso;
    log.push(`Fenced: ${fencing.unsafeSkipped ? "power fencing skipped (unsafe)" : "power read back Off"} and Nova forced_down`);
  }
  return undefined;
}

function verifyInFlight(status: IncidentStatus, input: WorkflowInput, log: string[]): void {
  const policyOf = new Map(input.protectedInstances.map((p) => [p.id, p]));
  for (const inst of status.instances ?? []) {
    if (!IN_FLIGHT.has(inst.state)) continue;
    const nova = input.nova.get(inst.id);
    if (!nova) {
      finishInstance(inst, "Failed", "the instance no longer exists in Nova", input.nowIso);
      log.push(`${inst.name ?? inst.id}: deleted during recovery`);
      continue;
    }
    const moved = nova.host !== null && nova.host !== input.host.serviceHost;
    if (nova.taskState === null && moved && (nova.status === "ACTIVE" || nova.status === "SHUTOFF")) {
      inst.targetHost = nova.host ?? undefined;
      finishInstance(inst, "Recovered", `${nova.status} on ${nova.host ?? "?"}`, input.nowIso);
      log.push(`${inst.name ?? inst.id}: recovered on ${nova.host ?? "?"}`);
    } else if (nova.taskState === null && nova.status === "ERROR") {
      evacuationFailed(inst, nova, policyOf.get(inst.id), status, input, log);
    } else if (inst.startedAt && input.nowMs - Date.parse(inst.startedAt) > input.settings.evacuationTimeoutMs) {
      finishInstance(inst, "Failed", `evacuation did not finish within ${Math.round(input.settings.evacuationTimeoutMs / 1000)} s (status ${nova.status}, task ${nova.taskState ?? "none"})`, input.nowIso);
      log.push(`${inst.name ?? inst.id}: evacuation timed out`);
    } else {
      inst.state = "Verifying";
      inst.targetHost ??= observedTarget(nova, input.host.serviceHost);
    }
  }
}

/**
 * An evacuation ended in ERROR. When Nova's scheduler found no room (NoValidHost: nothing
 * was rebuilt anywhere, the instance is still on the failed host) and the policy has a next
 * method, the instance goes back to Pending with that method (F8: reserved-host fallback);
 * a reserved host found full is not chosen again. Otherwise it is Failed with Nova's reason.
 */
function evacuationFailed(inst: IncidentInstance, nova: InstanceNovaState, p: ProtectedInstance | undefined, status: IncidentStatus, input: WorkflowInput, log: string[]): void {
  const method = currentMethod(inst, p);
  const noRoom = isNoValidHost(nova.fault);
  if (noRoom && method === "ReservedHost") for (const r of status.reservedHosts ?? []) if (r.serviceHost === inst.targetHost) r.full = true;
  const next = noRoom ? nextMethod(p?.methods ?? [], method) : undefined;
  if (!next) {
    finishInstance(inst, "Failed", `evacuation failed: ${nova.fault ?? "instance is in ERROR"}`, input.nowIso);
    log.push(`${inst.name ?? inst.id}: evacuation failed`);
    return;
  }
  Object.assign(inst, { state: "Pending", method: next, message: `${method === "ReservedHost" ? `reserved host ${inst.targetHost ?? "?"}` : "the scheduler"} found no room (${nova.fault ?? "NoValidHost"}); next: ${next}` });
  // Sent again at once (retryDue waits only after a refusal), with a fresh start time.
  delete inst.targetHost;
  delete inst.startedAt;
  log.push(`${inst.name ?? inst.id}: no room ${method === "ReservedHost" ? "on the reserved host" : "for the scheduler"}; falling back to ${next}`);
}

/**
 * The next batch of evacuations: every pending instance of the active tier that may start
 * now within the incident's cap and the per-target-host cap, in the incident's order,
 * counted against the caps as it is added (one the policy locks is locked right before its
 * own evacuation). An instance settled without a side effect (gone, already away, no
 * target) is recorded and the others go on.
 */
function nextEvacuation(status: IncidentStatus, input: WorkflowInput, log: string[]): WorkflowStep | undefined {
  const instances = status.instances ?? [];
  const inFlight = instances.filter((i) => IN_FLIGHT.has(i.state)).length;
  let slots = Math.min(input.settings.maxConcurrentEvacuations - inFlight, MAX_BATCH);
  if (slots <= 0) return undefined;
  const tierOf = new Map(input.protectedInstances.map((p) => [p.id, p]));
  const pending = instances.filter((i) => i.state === "Pending" || i.state === "Locked");
  if (pending.length === 0) return unlockNext(status, input, log);
  const active = activeTierPriority(instances, tierOf, input.nowMs);
  const load = targetHostLoad(instances, input.nova, input.host.serviceHost);
  const orders: EvacuationOrder[] = [];
  // In the candidates' order.
  const lines: string[] = [];
  const say = (line: string): number => lines.push(line);
  let settled = false;
  let enable: WorkflowStep | undefined;
  for (const candidate of pending) {
    if (slots <= 0) break;
    if ((tierOf.get(candidate.id)?.tierPriority ?? 0) !== active || !retryDue(candidate, input)) continue;
    const d = planCandidate(candidate, tierOf.get(candidate.id), status, input, load, say);
    if (d.kind === "wait") continue;
    if (d.kind === "settled") {
      settled = true;
      continue;
    }
    if (d.kind === "enable") {
      // A reserved host to enable first: alone, and only when nothing else goes in this pass.
      if (orders.length === 0) {
        recordReservedHost(status, d.host);
        enable = { status, action: { kind: "EnableReservedHost", host: d.host.name, serviceHost: d.host.serviceHost, serviceId: d.host.serviceId }, log: [`enable reserved host ${d.host.name} for ${candidate.name ?? candidate.id}`] };
      }
      break;
    }
    // Counted at once, so the next candidate sees this one's place against the caps.
    if (d.reserved) load.byHost.set(d.reserved.serviceHost, (load.byHost.get(d.reserved.serviceHost) ?? 0) + 1);
    else load.unknown++;
    slots--;
    if (d.reserved) recordReservedHost(status, d.reserved);
    orders.push(d.order);
    lines.push(...d.lines);
  }
  if (enable) return { ...enable, log: [...log, ...lines, ...enable.log] };
  if (orders.length > 0) {
    status.phase = "Evacuating";
    status.timestamps ??= {};
    return { status, action: { kind: "Evacuate", orders }, log: [...log, ...lines] };
  }
  if (settled) return { status, log: [...log, ...lines], requeueAfterMs: 0 };
  log.push(...lines);
  return undefined;
}

type CandidateDecision =
  | { kind: "wait" }
  | { kind: "settled" }
  | { kind: "enable"; host: UsableReservedHost }
  | { kind: "evacuate"; order: EvacuationOrder; reserved?: UsableReservedHost; lines: string[] };

/**
 * What one pending instance needs now: to wait (its message says why; the other candidates
 * may still go: a reserved host at its cap does not hold the scheduler), nothing any more
 * (settled: recorded in status), a reserved host enabled, a lock, or its evacuation.
 */
function planCandidate(candidate: IncidentInstance, p: ProtectedInstance | undefined, status: IncidentStatus, input: WorkflowInput, load: TargetHostLoad, say: (line: string) => void): CandidateDecision {
  const name = candidate.name ?? candidate.id;
  const nova = input.nova.get(candidate.id);
  if (!nova) {
    finishInstance(candidate, "Failed", "the instance no longer exists in Nova", input.nowIso);
    say(`${name}: gone before evacuation`);
    return { kind: "settled" };
  }
  if (nova.host !== input.host.serviceHost && nova.taskState === null && (nova.status === "ACTIVE" || nova.status === "SHUTOFF")) {
    finishInstance(candidate, "Recovered", `already ${nova.status} on ${nova.host ?? "?"}`, input.nowIso);
    say(`${name}: already away from the failed host`);
    return { kind: "settled" };
  }
  if (nova.taskState !== null && REBUILD_TASKS.has(nova.taskState)) {
    // Nova does not refuse an evacuation while one runs (no task_state guard): a rebuild in
    // progress, ours from before a restart or a person's, must end before anything is sent.
    const message = `Nova reports task_state ${nova.taskState}: waiting for that rebuild to end`;
    if (candidate.message !== message) say(`${name}: ${message}`);
    candidate.message = message;
    return { kind: "wait" };
  }
  const target = evacuationTarget(candidate, p, status, input, load);
  switch (target.kind) {
    case "wait":
      if (candidate.message !== target.message) say(`${name}: ${target.message}`);
      candidate.message = target.message;
      return { kind: "wait" };
    case "fail":
      finishInstance(candidate, "Failed", target.message, input.nowIso);
      say(`${name}: ${target.message}`);
      return { kind: "settled" };
    case "enable":
      return { kind: "enable", host: target.host };
    case "evacuate":
      break;
  }
  const reserved = target.reserved ? { reserved: target.reserved } : {};
  const lock = input.settings.lockInstances && !nova.locked && candidate.state === "Pending";
  const to = target.reserved ? ` to reserved host ${target.reserved.name}` : "";
  return {
    kind: "evacuate",
    order: {
      id: candidate.id,
      method: target.method,
      ...(target.reserved ? { targetHost: target.reserved.serviceHost } : {}),
      ...(lock ? { lockReason: `${VMKEEPER_LOCK_PREFIX} evacuating after host failure (incident ${input.incidentName})` } : {}),
    },
    ...reserved,
    lines: [...(target.note ? [`${name}: ${target.note}`] : []), ...(lock ? [`lock ${name}`] : []), `evacuate ${name} (tier ${candidate.tier ?? "default"})${to}`],
  };
}

/**
 * The tier whose instances may start now: the highest-priority tier with pending
 * instances, once every higher tier is done or has waited out its readiness timeout.
 */
function activeTierPriority(instances: IncidentInstance[], tierOf: Map<string, ProtectedInstance>, nowMs: number): number {
  const tiers = [...new Set(instances.map((i) => tierOf.get(i.id)?.tierPriority ?? 0))].sort((a, b) => b - a);
  for (const t of tiers) {
    const members = instances.filter((i) => (tierOf.get(i.id)?.tierPriority ?? 0) === t);
    if (members.some((i) => i.state === "Pending" || i.state === "Locked")) return t;
    const open = members.filter((i) => IN_FLIGHT.has(i.state));
    if (open.length === 0) continue;
    const timeout = Math.max(...open.map((i) => tierOf.get(i.id)?.tierReadinessTimeoutMs ?? 0));
    const started = Math.min(...open.map((i) => (i.startedAt ? Date.parse(i.startedAt) : nowMs)));
    if (nowMs - started < timeout) return t;
  }
  return Number.NEGATIVE_INFINITY;
}

function retryDue(inst: IncidentInstance, input: WorkflowInput): boolean {
  // A Pending instance with attempts had its last evacuate refused (e.g. 409 while busy);
  // startedAt is when that attempt was made.
  if (!inst.attempts || !inst.startedAt) return true;
  return input.nowMs - Date.parse(inst.startedAt) >= input.settings.conflictRetryMs;
}

/** Every finished instance vmkeeper locked (its lock reason says so), unlocked in one batch. */
function unlockNext(status: IncidentStatus, input: WorkflowInput, log: string[]): WorkflowStep | undefined {
  const done = (status.instances ?? []).filter((inst) => {
    const nova = input.nova.get(inst.id);
    return DONE_STATES.has(inst.state) && nova?.locked === true && nova.lockedReason?.startsWith(VMKEEPER_LOCK_PREFIX) === true;
  });
  if (done.length === 0) return undefined;
  const batch = done.slice(0, MAX_BATCH);
  return { status, action: { kind: "UnlockInstances", ids: batch.map((i) => i.id) }, log: [...log, ...batch.map((i) => `unlock ${i.name ?? i.id}`)] };
}

function finish(status: IncidentStatus, input: WorkflowInput, log: string[]): WorkflowStep {
  const instances = status.instances ?? [];
  // Every instance is where it will stay: that is when the recovery took effect, whatever
  // housekeeping (unlocks) follows.
  if (instances.some((i) => i.state === "Recovered") && instances.every((i) => i.state === "Recovered" || i.state === "Notified")) {
    status.timestamps ??= {};
    status.timestamps.recoveredAt ??= input.nowIso;
  }
  const unlock = unlockNext(status, input, log);
  if (unlock) return unlock;
  summarise(status);
  const s = status.summary ?? {};
  status.timestamps ??= {};
  if (instances.length > 0 && instances.every((i) => i.state === "Notified")) {
    status.phase = "Notified";
  } else if ((s.failed ?? 0) > 0 || instances.some((i) => i.state === "Skipped")) {
    status.phase = "Failed";
  } else {
    status.phase = "Recovered";
    status.timestamps.recoveredAt ??= input.nowIso;
  }
  status.timestamps.finishedAt ??= input.nowIso;
  status.intent = undefined;
  log.push(`incident ${status.phase}: ${s.recovered ?? 0} recovered, ${s.failed ?? 0} failed, ${instances.filter((i) => i.state === "Skipped").length} skipped, ${instances.filter((i) => i.state === "Notified").length} notified`);
  initialHostReturn(status, input.settings.hostReenable, input.host, input.nowIso);
  if (status.hostReturn?.message) log.push(`host return ${status.hostReturn.state}: ${status.hostReturn.message}`);
  return { status, log };
}

export function finishInstance(inst: IncidentInstance, state: "Recovered" | "Failed", message: string, nowIso: string): void {
  inst.state = state;
  inst.message = message.slice(0, 1024);
  inst.finishedAt = nowIso;
}

export function summarise(status: IncidentStatus): void {
  const list = status.instances ?? [];
  status.summary = {
    total: list.length,
    recovered: list.filter((i) => i.state === "Recovered").length,
    failed: list.filter((i) => i.state === "Failed").length,
    pending: list.filter((i) => !DONE_STATES.has(i.state)).length,
  };
}

/** Instances a Nova read must cover: every one the incident tracks. */
export function trackedInstanceIds(status: IncidentStatus): string[] {
  return (status.instances ?? []).map((i) => i.id);
}

export type { InstanceNovaState };
