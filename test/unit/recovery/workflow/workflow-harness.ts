import type { IncidentStatus } from "../../../../src/api/v1alpha1/index.js";
import { planIncidentStep } from "../../../../src/recovery/workflow/plan-incident-step.js";
import type { EvacuationOrder, FencingOutcome, InstanceNovaState, ProtectedInstance, RecoveryMethod, ReservedHostState, WorkflowAction, WorkflowHost, WorkflowSettings } from "../../../../src/recovery/workflow/workflow-model.js";
import type { HostReturnScenario } from "./host-return-harness.js";

/** How an accepted evacuation ends in Nova: ERROR is a failed rebuild, NOVALIDHOST the scheduler finding no room. */
export type EvacuationEnd = "ACTIVE" | "ERROR" | "NOVALIDHOST" | "never";

/** A reserved host of the fake cloud: Nova service state and how many evacuations fit (then NoValidHost). */
export interface ReservedHostScenario {
  name: string;
  serviceHost?: string;
  up?: boolean;
  forcedDown?: boolean;
  /** Default true: spares are kept disabled. */
  disabled?: boolean;
  disabledReason?: string;
  maintenance?: boolean;
  room?: number;
}

const NO_VALID_HOST = "No valid host was found. There are not enough hosts available.";

/** Scripted Nova answers for one instance's evacuations, in order; then "accept". */
export type EvacuateScript = ("accept" | "conflict" | "error" | "gone")[];

export interface WorkflowScenario {
  description?: string;
  host: string;
  instances: (Partial<ProtectedInstance> & {
    id: string;
    status?: string;
    locked?: boolean;
    lockedReason?: string;
    /** A rebuild already running in Nova at the start (someone else's evacuation), until `busyUntilMs`, ending on `busyEndsOn` (default: still on the failed host). */
    taskState?: string;
    busyUntilMs?: number;
    busyEndsOn?: string;
  })[];
  settings?: Partial<WorkflowSettings>;
  fencing?: FencingOutcome["kind"][];
  /** How long an accepted evacuation takes in Nova, and how it ends per instance (default ACTIVE). */
  evacuationMs?: number;
  /** Per instance: how its evacuations end, one entry per accepted evacuation (the last repeats). */
  evacuationEnds?: Record<string, EvacuationEnd | EvacuationEnd[]>;
  evacuate?: Record<string, EvacuateScript>;
  /** Pass interval of the virtual executor. */
  tickMs?: number;
  maxTicks?: number;
  /** Recovery methods and reserved hosts of every instance's policy, unless the instance sets its own. */
  policy?: { methods?: RecoveryMethod[]; reservedHosts?: string[] };
  reserved?: ReservedHostScenario[];
  /** Hosts the fake scheduler picks in turn (default compute-2, compute-3, compute-4). */
  schedulerTargets?: string[];
  /** How long after acceptance the scheduler's choice shows in Nova (migration dest_compute); default at once. */
  targetVisibleAfterMs?: number;
  /** The incident starts Suppressed by this gate, and the host monitor releases it at `releasedAtMs` (if set). */
  suppressed?: { gate: string; releasedAtMs?: number };
  /** What the failed host does afterwards (see host-return-harness.ts). */
  hostReturn?: HostReturnScenario;
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
  /** Most evacuations running in Nova at once towards one target host (I7, per target). */
  maxPerTarget: number;
  /** Evacuations accepted while an earlier one of the same instance was still running (I3: must stay empty). */
  acceptedWhileInFlight: string[];
  /** The failed host's Nova service at the end, and the virtual time then (for the host-return harness). */
  host: WorkflowHost;
  endMs: number;
}

const DEFAULT_SETTINGS: WorkflowSettings = {
  maxConcurrentEvacuations: 4,
  evacuationTimeoutMs: 300_000,
  lockInstances: false,
  unsafeSkipPowerFencing: false,
  conflictRetryMs: 5_000,
  maxEvacuationAttempts: 5,
  maxConcurrentEvacuationsPerTargetHost: 2,
  hostReenable: "Manual",
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
    methods: i.methods ?? s.policy?.methods ?? ["Evacuate"],
    reservedHosts: i.reservedHosts ?? s.policy?.reservedHosts ?? [],
  }));
  type FakeServer = InstanceNovaState & { doneAt?: number; endState?: string; target?: string; visibleAt?: number; endFault?: string };
  const nova = new Map<string, FakeServer>(
    s.instances.map((i): [string, FakeServer] => [
      i.id,
      {
        id: i.id,
        host: s.host,
        status: i.status ?? "ACTIVE",
        taskState: i.taskState ?? null,
        locked: i.locked ?? false,
        lockedReason: i.lockedReason ?? null,
        ...(i.taskState ? { doneAt: t0 + (i.busyUntilMs ?? 0), endState: i.status ?? "ACTIVE", ...(i.busyEndsOn ? { target: i.busyEndsOn } : {}) } : {}),
      },
    ]),
  );
  const host: WorkflowHost = { serviceHost: s.host, serviceId: "svc-1", forcedDown: false, disabled: false, up: false, updatedAt: new Date(t0).toISOString() };
  const reserved = (s.reserved ?? []).map((r) => ({ ...r, serviceHost: r.serviceHost ?? (r.name.split(".").slice(1).join(".") || r.name), disabled: r.disabled ?? true, landed: 0 }));
  const fencing = [...(s.fencing ?? [])];
  const scripts = new Map(Object.entries(s.evacuate ?? {}).map(([k, v]) => [k, [...v]]));
  const ends = new Map(Object.entries(s.evacuationEnds ?? {}).map(([k, v]) => [k, Array.isArray(v) ? [...v] : [v]]));
  /** What runs in Nova: each accepted evacuation's target and until when (for the per-target invariant). */
  const running: { id: string; target?: string; untilMs: number }[] = [];
  let status: IncidentStatus = s.suppressed ? { phase: "Suppressed", gate: { name: s.suppressed.gate, reason: s.suppressed.gate, message: `${s.suppressed.gate} is closed` } } : { phase: "Confirmed" };
  const run: WorkflowRun = { actions: [], log: [], final: status, evacuationsAccepted: {}, evacuatedBeforeFenced: [], maxInFlight: 0, maxPerTarget: 0, acceptedWhileInFlight: [], host, endMs: 0 };
  let targetIndex = 0;
  for (let tick = 0; tick < (s.maxTicks ?? 400); tick++) {
    advanceNova();
    if (status.phase === "Suppressed" && s.suppressed?.releasedAtMs !== undefined && now - t0 >= s.suppressed.releasedAtMs) {
      status = { ...status, phase: "Confirmed", gate: undefined };
      run.log.push(`+${(now - t0) / 1000}s (the host monitor releases the incident: no gate blocks it any more)`);
    }
    const nowIso = new Date(now).toISOString();
    const reservedHosts = reservedView();
    const step = planIncidentStep({ nowIso, nowMs: now, incidentName: "lab.compute-1-1", status, host, protectedInstances, nova: new Map(nova), settings, reservedHosts });
    run.log.push(...step.log.map((l) => `+${(now - t0) / 1000}s ${l}`));
    status = step.status;
    if (!step.action) {
      if (["Recovered", "Failed", "Notified"].includes(status.phase ?? "")) break;
      if (status.phase === "Suppressed" && s.suppressed?.releasedAtMs === undefined) break;
      now += Math.max(s.tickMs ?? 1000, step.requeueAfterMs ?? 0);
      continue;
    }
    const result = apply(step.action);
    run.actions.push({ atMs: now - t0, action: describe(step.action), result });
  }
  run.final = status;
  run.endMs = now - t0;
  return run;

  function advanceNova(): void {
    for (const inst of nova.values()) {
      if (inst.visibleAt !== undefined && now >= inst.visibleAt && inst.taskState === "rebuilding") {
        inst.evacuationTarget = inst.target;
        inst.visibleAt = undefined;
      }
      if (inst.doneAt !== undefined && now >= inst.doneAt) {
        inst.taskState = null;
        inst.status = inst.endState ?? "ACTIVE";
        if (inst.endFault) inst.fault = inst.endFault;
        if (inst.status !== "ERROR" && inst.target) inst.host = inst.target;
        inst.doneAt = undefined;
      }
    }
  }

  function reservedView(): ReservedHostState[] {
    const names = new Set(protectedInstances.flatMap((p) => p.reservedHosts));
    return [...names].sort().map((name) => {
      const r = reserved.find((x) => x.name === name);
      if (!r) return { name, up: false, forcedDown: false, disabled: false, maintenance: false };
      return { name, serviceHost: r.serviceHost, serviceId: `svc-${r.serviceHost}`, up: r.up ?? true, forcedDown: r.forcedDown ?? false, disabled: r.disabled, ...(r.disabledReason ? { disabledReason: r.disabledReason } : {}), maintenance: r.maintenance ?? false };
    });
  }

  /** Starts an accepted evacuation in the fake Nova: the scheduler (or the requested host) and how it ends. */
  function startEvacuation(n: FakeServer, a: EvacuationOrder): void {
    const list = ends.get(a.id);
    const end = (list && list.length > 1 ? list.shift() : list?.[0]) ?? "ACTIVE";
    const r = a.targetHost !== undefined ? reserved.find((x) => x.serviceHost === a.targetHost) : undefined;
    const noRoom = end === "NOVALIDHOST" || (r !== undefined && (r.disabled || r.landed >= (r.room ?? Number.POSITIVE_INFINITY)));
    const target = noRoom ? undefined : (a.targetHost ?? schedulerTarget());
    if (r && !noRoom) r.landed++;
    const visibleAfter = s.targetVisibleAfterMs ?? 0;
    const doneAt = end === "never" ? undefined : now + (s.evacuationMs ?? 3000);
    Object.assign(n, { taskState: "rebuilding", fault: undefined, evacuationTarget: undefined, target, endFault: noRoom ? NO_VALID_HOST : undefined, doneAt });
    n.host = target !== undefined && visibleAfter === 0 && end !== "ERROR" ? target : s.host;
    n.visibleAt = target !== undefined && visibleAfter > 0 ? now + visibleAfter : undefined;
    n.endState = noRoom || end === "ERROR" ? "ERROR" : n.status === "SHUTOFF" ? "SHUTOFF" : "ACTIVE";
    running.push({ id: a.id, ...(target !== undefined ? { target } : {}), untilMs: doneAt ?? Number.POSITIVE_INFINITY });
    // Counted like vmkeeper's own in-flight set: a timed-out evacuation (Failed) gives its slot back.
    const inFlight = (id: string): boolean => ["Evacuating", "Verifying"].includes(status.instances?.find((i) => i.id === id)?.state ?? "");
    const onTarget = running.filter((x) => x.target !== undefined && x.target === target && x.untilMs > now && inFlight(x.id)).length;
    run.maxPerTarget = Math.max(run.maxPerTarget, onTarget);
  }

  function schedulerTarget(): string {
    const targets = s.schedulerTargets ?? ["compute-2", "compute-3", "compute-4"];
    return targets[targetIndex++ % targets.length] ?? "compute-2";
  }

  function evacuateOne(a: EvacuationOrder): string {
    const nowIso = new Date(now).toISOString();
    const inst = (id: string) => status.instances?.find((i) => i.id === id);
    const fenced = (status.fencing?.powerReadBackOff || status.fencing?.unsafeSkipped) && host.forcedDown;
    if (!fenced) run.evacuatedBeforeFenced.push(a.id);
    const answer = scripts.get(a.id)?.shift() ?? "accept";
    const i = inst(a.id);
    const n = nova.get(a.id);
    if (!i || !n) return "no such instance";
    if (a.lockReason) {
      Object.assign(n, { locked: true, lockedReason: a.lockReason });
      i.state = "Locked";
    }
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
    const key = `${a.id}/${a.method}`;
    run.evacuationsAccepted[key] = (run.evacuationsAccepted[key] ?? 0) + 1;
    if (n.taskState === "rebuilding") run.acceptedWhileInFlight.push(a.id);
    Object.assign(i, { state: "Evacuating", startedAt: nowIso, method: a.method, ...(a.targetHost ? { targetHost: a.targetHost } : {}) });
    status.timestamps = { ...status.timestamps, firstEvacuationAt: status.timestamps?.firstEvacuationAt ?? nowIso };
    startEvacuation(n, a);
    // vmkeeper's own in-flight set: a timed-out evacuation (Failed) gives its slot back.
    run.maxInFlight = Math.max(run.maxInFlight, (status.instances ?? []).filter((x) => x.state === "Evacuating" || x.state === "Verifying").length);
    return "202";
  }

  function apply(a: WorkflowAction): string {
    const nowIso = new Date(now).toISOString();
    switch (a.kind) {
      case "Notify":
        status.notification = a.event === "suppressed" ? { ...status.notification, suppressedSentAt: nowIso } : { ...status.notification, sentAt: nowIso };
        return "sent";
      case "Fence": {
        const outcome = fencing.shift() ?? "NotConfigured";
        status.fencing = { ...status.fencing, attempts: (status.fencing?.attempts ?? 0) + 1 };
        if (outcome === "PowerOff") status.fencing.powerReadBackOff = true;
        else if (outcome === "NotConfigured" && settings.unsafeSkipPowerFencing) status.fencing.unsafeSkipped = true;
        else status.phase = "FencingFailed";
        if (status.phase === "FencingFailed") now += 30_000;
        return outcome === "NotConfigured" && status.fencing.unsafeSkipped ? "NotConfigured (unsafe skip)" : outcome;
      }
      case "ForceDown":
        Object.assign(host, { forcedDown: true, updatedAt: nowIso });
        return "forced down";
      case "DisableService":
        Object.assign(host, { disabled: true, disabledReason: a.reason, updatedAt: nowIso });
        return "disabled";
      case "UnlockInstances":
        for (const id of a.ids) {
          const n = nova.get(id);
          if (n) Object.assign(n, { locked: false, lockedReason: null });
        }
        return a.ids.map(() => "unlocked").join(", ");
      case "EnableReservedHost": {
        const r = reserved.find((x) => x.name === a.host);
        if (r) Object.assign(r, { disabled: false, disabledReason: undefined });
        for (const c of status.reservedHosts ?? []) if (c.name === a.host) c.enabledAt ??= nowIso;
        return "enabled";
      }
      case "Evacuate":
        return a.orders.map((o) => evacuateOne(o)).join(", ");
    }
  }
}

function describe(a: WorkflowAction): string {
  if (a.kind === "Evacuate") return `Evacuate ${a.orders.map((o) => `${o.lockReason ? "(lock) " : ""}${o.id}${o.targetHost ? ` → ${o.targetHost}` : ""}`).join(", ")}`;
  if (a.kind === "UnlockInstances") return `${a.kind} ${a.ids.join(", ")}`;
  if (a.kind === "EnableReservedHost") return `EnableReservedHost ${a.host}`;
  if (a.kind === "Notify") return a.event === "suppressed" ? "Notify (suppressed)" : "Notify";
  return a.kind;
}
