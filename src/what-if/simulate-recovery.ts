import type { IncidentStatus } from "../api/v1alpha1/index.js";
import type { Resources } from "../controllers/instance-ha-policy/failover-capacity.js";
import { planIncidentStep } from "../recovery/workflow/plan-incident-step.js";
import type { EvacuationOrder, InstanceNovaState, ProtectedInstance, RecoveryMethod, ReservedHostState, WorkflowAction, WorkflowHost, WorkflowInput, WorkflowSettings } from "../recovery/workflow/workflow-model.js";
import { claim, placeInstance, type GroupConstraint, type PlacementHost } from "./placement.js";

/** What fencing would report for the host (see FencingOutcome): assumed to work when exactly one HostFencing selects it. */
export type SimulatedFencing = { kind: "PowerOff"; hostFencing: string; level?: string } | { kind: "NotConfigured"; message: string } | { kind: "Failed"; message: string };

/** One protected instance as the simulation needs it beyond the planner's view. */
export interface SimulatedInstance {
  nova: InstanceNovaState;
  /** Resources it takes on a target; undefined when its flavor's size is unknown (it is then assumed not to fit). */
  need?: Resources;
  /** Hard server-group policies (member hosts are updated as the simulation moves members). */
  groups: { name: string; policy: "affinity" | "anti-affinity"; maxServerPerHost: number; members: string[] }[];
}

export interface RecoverySimulationInput {
  incidentName: string;
  nowMs: number;
  host: WorkflowHost;
  protectedInstances: ProtectedInstance[];
  settings: WorkflowSettings;
  instances: ReadonlyMap<string, SimulatedInstance>;
  /** Hosts of every other server of the cloud by id (server-group members outside this incident). */
  serverHosts: ReadonlyMap<string, string>;
  reservedHosts: ReservedHostState[];
  fencing: SimulatedFencing;
  /** Free capacity per host; claims of this simulation are taken from it (shared between the hosts of one what-if). */
  placement: PlacementHost[];
  /** Service hosts that fail in this what-if (never targets). */
  failedHosts: ReadonlySet<string>;
}

/** One evacuation the executor would send, in the order it would send them. */
export interface SimulatedEvacuation {
  /** 1-based position in the order of starts. */
  seq: number;
  /** 1-based number of the batch the executor sends it in (one intent, sent together). */
  batch: number;
  id: string;
  name: string;
  tier: string;
  method: RecoveryMethod;
  /** The reserved host it is sent to (ReservedHost), or where the scheduler would likely put it. */
  target?: string;
  /** `placed`: it would fit there; `noValidHost`: Nova's scheduler would find no room (reason given). */
  outcome: "placed" | "noValidHost";
  reason?: string;
}

export interface RecoverySimulation {
  evacuations: SimulatedEvacuation[];
  /** The Incident status at the end of the simulated recovery (per-instance outcomes). */
  status: IncidentStatus;
  /** The planner's log lines, in order. */
  log: string[];
  /** Why the recovery would stop before any evacuation (fencing), if it would. */
  blocked?: string;
}

const MAX_STEPS = 20_000;
const STEP_MS = 1000;

/**
 * Runs the operator's own incident planner (planIncidentStep) against a simulated Nova until
 * the incident finishes: the executor's side effects are replaced by their expected
 * outcome — notification sent, fencing as configured, force-down and disable taking effect,
 * locks, reserved hosts enabled, and each evacuation placed by a scheduler-equivalent model
 * (placeInstance) or failed with NoValidHost. Evacuations stay in flight until the planner
 * has nothing more to start, then finish oldest first (Nova takes seconds, the executor
 * milliseconds), so the concurrency caps, tiers and fallbacks of the real planner decide the
 * order. Pure and deterministic.
 */
export function simulateRecovery(input: RecoverySimulationInput): RecoverySimulation {
  const sim = new Simulation(input);
  return sim.run();
}

class Simulation {
  private status: IncidentStatus = { phase: "Confirmed" };
  private host: WorkflowHost;
  private readonly nova = new Map<string, InstanceNovaState>();
  private readonly reserved: ReservedHostState[];
  private readonly inFlight: { id: string; target: string; finalStatus: string }[] = [];
  private readonly evacuations: SimulatedEvacuation[] = [];
  private readonly log: string[] = [];
  private readonly hostsOf = new Map<string, string>();
  private t: number;
  private batches = 0;

  constructor(private readonly input: RecoverySimulationInput) {
    this.host = { ...input.host };
    this.reserved = input.reservedHosts.map((r) => ({ ...r }));
    this.t = input.nowMs;
    for (const [id, inst] of input.instances) this.nova.set(id, { ...inst.nova });
    for (const [id, h] of input.serverHosts) this.hostsOf.set(id, h);
    for (const [id, inst] of input.instances) if (inst.nova.host) this.hostsOf.set(id, inst.nova.host);
  }

  run(): RecoverySimulation {
    for (let i = 0; i < MAX_STEPS; i++) {
      const step = planIncidentStep(this.world());
      this.log.push(...step.log);
      this.status = step.status;
      if (!step.action) {
        if (["Recovered", "Failed", "Notified"].includes(this.status.phase ?? "")) break;
        if (!this.finishOldest()) this.t += Math.max(step.requeueAfterMs ?? STEP_MS, STEP_MS);
        continue;
      }
      const blocked = this.perform(step.action);
      if (blocked) return { evacuations: this.evacuations, status: this.status, log: this.log, blocked };
    }
    return { evacuations: this.evacuations, status: this.status, log: this.log };
  }

  private world(): WorkflowInput {
    return {
      nowIso: new Date(this.t).toISOString(),
      nowMs: this.t,
      incidentName: this.input.incidentName,
      status: this.status,
      host: this.host,
      protectedInstances: this.input.protectedInstances,
      nova: new Map(this.nova),
      settings: this.input.settings,
      reservedHosts: this.reserved,
    };
  }

  /** The oldest evacuation in flight lands on its target; false when none is in flight. */
  private finishOldest(): boolean {
    const done = this.inFlight.shift();
    if (!done) return false;
    this.t += STEP_MS;
    const n = this.nova.get(done.id);
    if (n) this.nova.set(done.id, { ...n, host: done.target, status: done.finalStatus, taskState: null });
    return true;
  }

  /** Applies an action's expected outcome; returns why the recovery stops, if it does. */
  private perform(action: WorkflowAction): string | undefined {
    const s: IncidentStatus = structuredClone(this.status);
    const now = new Date(this.t).toISOString();
    switch (action.kind) {
      case "Notify":
        s.notification = { ...s.notification, ...(action.event === "detected" ? { sentAt: now } : { suppressedSentAt: now }) };
        if (action.event === "detected") s.timestamps = { ...s.timestamps, confirmedAt: s.timestamps?.confirmedAt ?? now };
        break;
      case "Fence": {
        const f = this.input.fencing;
        s.fencing = { ...s.fencing, attempts: (s.fencing?.attempts ?? 0) + 1 };
        if (f.kind === "PowerOff") Object.assign(s.fencing, { powerReadBackOff: true, hostFencingRef: { name: f.hostFencing }, ...(f.level ? { level: f.level } : {}) });
        else if (f.kind === "NotConfigured" && this.input.settings.unsafeSkipPowerFencing) s.fencing.unsafeSkipped = true;
        else {
          s.phase = "FencingFailed";
          this.status = s;
          return `fencing would fail (${f.message}); nothing is evacuated until the host is fenced`;
        }
        break;
      }
      case "ForceDown":
        this.host = { ...this.host, forcedDown: true, up: false };
        s.fencing = { ...s.fencing, forcedDown: true };
        break;
      case "DisableService":
        this.host = { ...this.host, disabled: true, disabledReason: action.reason };
        s.fencing = { ...s.fencing, serviceDisabled: true };
        break;
      case "UnlockInstances":
        for (const id of action.ids) this.patchNova(id, { locked: false, lockedReason: null });
        break;
      case "EnableReservedHost":
        for (const r of this.reserved) if (r.name === action.host) r.disabled = false;
        for (const p of this.input.placement) if (p.serviceHost === action.serviceHost) p.schedulable = true;
        for (const r of s.reservedHosts ?? []) if (r.name === action.host) r.enabledAt ??= now;
        break;
      case "Evacuate":
        this.batches++;
        for (const order of action.orders) this.evacuate(order, s, now);
        break;
    }
    this.status = s;
    return undefined;
  }

  private evacuate(action: EvacuationOrder, s: IncidentStatus, now: string): void {
    const inst = s.instances?.find((i) => i.id === action.id);
    const sim = this.input.instances.get(action.id);
    const before = this.nova.get(action.id);
    if (!inst || !before) return;
    // Locked right before its evacuation (recovery.lockInstances), as the executor does.
    const nova = action.lockReason ? { ...before, locked: true, lockedReason: action.lockReason } : before;
    Object.assign(inst, { state: "Evacuating", method: action.method, attempts: (inst.attempts ?? 0) + 1, startedAt: now, ...(action.targetHost ? { targetHost: action.targetHost } : {}) });
    s.timestamps = { ...s.timestamps, firstEvacuationAt: s.timestamps?.firstEvacuationAt ?? now };
    const base = { seq: this.evacuations.length + 1, batch: this.batches, id: action.id, name: inst.name ?? action.id, tier: inst.tier ?? "default", method: action.method };
    const placed = sim?.need
      ? placeInstance(this.input.placement, { need: sim.need, exclude: this.input.failedHosts, ...(action.targetHost ? { requestedHost: action.targetHost } : {}), groups: this.groupsOf(action.id, sim) })
      : { ok: false as const, reason: "no valid host: the flavor's size is unknown" };
    if (!placed.ok) {
      this.nova.set(action.id, { ...nova, status: "ERROR", taskState: null, fault: `No valid host was found. ${placed.reason}` });
      this.evacuations.push({ ...base, ...(action.targetHost ? { target: action.targetHost } : {}), outcome: "noValidHost", reason: placed.reason });
      return;
    }
    if (sim?.need) claim(this.input.placement, placed.host, sim.need);
    this.hostsOf.set(action.id, placed.host);
    const finalStatus = nova.status === "SHUTOFF" ? "SHUTOFF" : "ACTIVE";
    this.nova.set(action.id, { ...nova, status: "REBUILD", taskState: "rebuilding", evacuationTarget: placed.host });
    this.inFlight.push({ id: action.id, target: placed.host, finalStatus });
    this.evacuations.push({ ...base, target: placed.host, outcome: "placed" });
  }

  private groupsOf(id: string, sim: SimulatedInstance): GroupConstraint[] {
    return sim.groups.map((g) => ({
      name: g.name,
      policy: g.policy,
      maxServerPerHost: g.maxServerPerHost,
      memberHosts: g.members.filter((m) => m !== id).flatMap((m) => {
        const h = this.hostsOf.get(m);
        return h ? [h] : [];
      }),
    }));
  }

  private patchNova(id: string, patch: Partial<InstanceNovaState>): void {
    const n = this.nova.get(id);
    if (n) this.nova.set(id, { ...n, ...patch });
  }
}
