import type { IncidentStatus } from "../../../../src/api/v1alpha1/index.js";
import { planIncidentStep } from "../../../../src/recovery/workflow/plan-incident-step.js";
import type { FencingOutcome, InstanceNovaState, ProtectedInstance, WorkflowAction, WorkflowSettings } from "../../../../src/recovery/workflow/workflow-model.js";

/** Scripted Nova answers for one instance's evacuations, in order; then "accept". */
export type EvacuateScript = ("accept" | "conflict" | "error" | "gone")[];

export interface WorkflowScenario {
  description?: string;
  host: string;
  instances: (Partial<ProtectedInstance> & { id: string; status?: string; locked?: boolean; lockedReason?: string })[];
  settings?: Partial<WorkflowSettings>;
  fencing?: FencingOutcome["kind"][];
  /** How long an accepted evacuation takes in Nova, and how it ends per instance (default ACTIVE). */
  evacuationMs?: number;
  evacuationEnds?: Record<string, "ACTIVE" | "ERROR" | "never">;
  evacuate?: Record<string, EvacuateScript>;
  /** Pass interval of the virtual executor. */
  tickMs?: number;
  maxTicks?: number;
}

export interface ActionRecord {
  atMs: number;
  action: string;
  result: string;
}

export interface WorkflowRun {
  actions: ActionRecord[];
  log: string[];
  final: IncidentStatus;
  /** Invariant evidence for property tests. */
  evacuationsAccepted: Record<string, number>;
  evacuatedBeforeFenced: string[];
  /** Most evacuations vmkeeper had in flight at once (I7). */
  maxInFlight: number;
}

const DEFAULT_SETTINGS: WorkflowSettings = {
  maxConcurrentEvacuations: 4,
  evacuationTimeoutMs: 300_000,
  lockInstances: false,
  unsafeSkipPowerFencing: false,
  conflictRetryMs: 5_000,
  maxEvacuationAttempts: 5,
};

/**
 * A virtual executor and a small Nova for planner scenarios: it applies each action the
 * planner asks for to the fake world, the way the real executor applies it to Nova, and
 * advances a virtual clock between passes. Deterministic.
 */
export function runWorkflow(s: WorkflowScenario): WorkflowRun {
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  let now = t0;
  const settings = { ...DEFAULT_SETTINGS, ...s.settings };
  const protectedInstances: ProtectedInstance[] = s.instances.map((i) => ({
    id: i.id,
    name: i.name ?? i.id,
    policy: i.policy ?? "critical",
    mode: i.mode ?? "KeepRunning",
    tier: i.tier ?? "default",
    tierPriority: i.tierPriority ?? 0,
    tierReadinessTimeoutMs: i.tierReadinessTimeoutMs ?? 60_000,
    localDiskRefused: i.localDiskRefused ?? false,
    recentRecoveries: i.recentRecoveries ?? 0,
    maxRecoveries: i.maxRecoveries ?? 3,
  }));
  const nova = new Map<string, InstanceNovaState & { doneAt?: number; endState?: string }>(
    s.instances.map((i) => [i.id, { id: i.id, host: s.host, status: i.status ?? "ACTIVE", taskState: null, locked: i.locked ?? false, lockedReason: i.lockedReason ?? null }]),
  );
  const host = { serviceHost: s.host, serviceId: "svc-1", forcedDown: false, disabled: false };
  const fencing = [...(s.fencing ?? [])];
  const scripts = new Map(Object.entries(s.evacuate ?? {}).map(([k, v]) => [k, [...v]]));
  let status: IncidentStatus = { phase: "Confirmed" };
  const run: WorkflowRun = { actions: [], log: [], final: status, evacuationsAccepted: {}, evacuatedBeforeFenced: [], maxInFlight: 0 };
  let targetIndex = 0;
  for (let tick = 0; tick < (s.maxTicks ?? 400); tick++) {
    for (const inst of nova.values()) {
      if (inst.doneAt !== undefined && now >= inst.doneAt) {
        inst.taskState = null;
        inst.status = inst.endState ?? "ACTIVE";
        inst.doneAt = undefined;
      }
    }
    const nowIso = new Date(now).toISOString();
    const step = planIncidentStep({ nowIso, nowMs: now, incidentName: "lab.compute-1-1", status, host, protectedInstances, nova: new Map(nova), settings });
    run.log.push(...step.log.map((l) => `+${(now - t0) / 1000}s ${l}`));
    status = step.status;
    if (!step.action) {
      if (["Recovered", "Failed", "Notified", "Suppressed"].includes(status.phase ?? "")) break;
      now += Math.max(s.tickMs ?? 1000, step.requeueAfterMs ?? 0);
      continue;
    }
    const result = apply(step.action);
    run.actions.push({ atMs: now - t0, action: describe(step.action), result });
  }
  run.final = status;
  return run;

  function apply(a: WorkflowAction): string {
    const nowIso = new Date(now).toISOString();
    const inst = (id: string) => status.instances?.find((i) => i.id === id);
    switch (a.kind) {
      case "Notify":
        status.notification = { sentAt: nowIso };
        return "sent";
      case "Fence": {
        const outcome = fencing.shift() ?? "NotConfigured";
        status.fencing = { ...status.fencing, attempts: (status.fencing?.attempts ?? 0) + 1 };
        if (outcome === "PowerOff") status.fencing.powerReadBackOff = true;
        else status.phase = "FencingFailed";
        if (outcome !== "PowerOff") now += 30_000;
        return outcome;
      }
      case "ForceDown":
        host.forcedDown = true;
        return "forced down";
      case "DisableService":
        host.disabled = true;
        return "disabled";
      case "LockInstance": {
        const n = nova.get(a.id);
        if (n) Object.assign(n, { locked: true, lockedReason: a.reason });
        const i = inst(a.id);
        if (i) i.state = "Locked";
        return "locked";
      }
      case "UnlockInstance": {
        const n = nova.get(a.id);
        if (n) Object.assign(n, { locked: false, lockedReason: null });
        return "unlocked";
      }
      case "Evacuate": {
        const fenced = (status.fencing?.powerReadBackOff || status.fencing?.unsafeSkipped) && host.forcedDown;
        if (!fenced) run.evacuatedBeforeFenced.push(a.id);
        const answer = scripts.get(a.id)?.shift() ?? "accept";
        const i = inst(a.id);
        const n = nova.get(a.id);
        if (!i || !n) return "no such instance";
        i.attempts = (i.attempts ?? 0) + 1;
        if (answer === "gone") {
          nova.delete(a.id);
          Object.assign(i, { state: "Failed", finishedAt: nowIso, message: "Nova refused the evacuation: not found" });
          return "404";
        }
        if (answer === "conflict") {
          Object.assign(i, { state: "Pending", startedAt: nowIso, message: "Nova refused the evacuation for now: task_state busy" });
          return "409";
        }
        if (answer === "error") {
          Object.assign(i, { state: "Failed", finishedAt: nowIso, message: "Nova refused the evacuation: 400" });
          return "400";
        }
        run.evacuationsAccepted[a.id] = (run.evacuationsAccepted[a.id] ?? 0) + 1;
        Object.assign(i, { state: "Evacuating", startedAt: nowIso });
        status.timestamps = { ...status.timestamps, firstEvacuationAt: status.timestamps?.firstEvacuationAt ?? nowIso };
        const end = s.evacuationEnds?.[a.id] ?? "ACTIVE";
        n.taskState = "rebuilding";
        n.host = `compute-${2 + (targetIndex++ % 3)}`;
        // vmkeeper's own in-flight set: a timed-out evacuation (Failed) gives its slot back.
        run.maxInFlight = Math.max(run.maxInFlight, (status.instances ?? []).filter((x) => x.state === "Evacuating" || x.state === "Verifying").length);
        if (end !== "never") {
          n.doneAt = now + (s.evacuationMs ?? 3000);
          n.endState = end === "ERROR" ? "ERROR" : n.status === "SHUTOFF" ? "SHUTOFF" : "ACTIVE";
          if (end === "ERROR") n.host = s.host;
        }
        return "202";
      }
    }
  }
}

function describe(a: WorkflowAction): string {
  return "id" in a ? `${a.kind} ${a.id}` : a.kind;
}
