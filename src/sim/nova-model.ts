import type { Clock } from "../util/clock.js";
import { EventQueue } from "./event-queue.js";
import { badRequest, conflict, invalidStateConflict, NovaError, notFound } from "./nova-error.js";
import type {
  ActionActor,
  Aggregate,
  ComputeHost,
  Flavor,
  GroupPolicy,
  InstanceAction,
  Migration,
  NovaService,
  PowerStateValue,
  RequestContext,
  Server,
  ServerGroup,
  TaskState,
  VmState,
} from "./nova-types.js";
import { PowerState } from "./nova-types.js";
import { serverStatus } from "./server-status.js";
import { pickHost, type AllocationRatios, type HostCandidate, type PlacementRequest } from "./scheduler.js";
import { lastHeartbeatMs, serviceIsUp, serviceRunning, type HeartbeatSettings } from "./service-state.js";
import { DEFAULT_FLAVORS, DEFAULT_NOVA_KNOBS, type NovaKnobs, type SimFlavorSeed } from "./sim-config.js";
import { hashString, isUuidLike, SeededRandom } from "./seeded-random.js";

export interface HostSpec {
  name: string;
  /** Availability zone; hosts outside the default zone are put in an aggregate named after it. */
  zone?: string;
  vcpus?: number;
  memoryMb?: number;
  localGb?: number;
  hostIp?: string;
}

export interface ServerSpec {
  id?: string;
  name?: string;
  projectId?: string;
  userId?: string;
  flavorId?: string;
  /** Placed here directly (no filters); otherwise the scheduler chooses. */
  host?: string;
  vmState?: "active" | "stopped" | "error";
  metadata?: Record<string, string>;
  tags?: string[];
  groupId?: string;
  /** Availability zone requested at boot (evacuations stay in it). */
  availabilityZone?: string;
}

export interface EvacuateOptions {
  host?: string;
  /** Bypass the scheduler for a given host (microversions 2.29 to 2.67). */
  force?: boolean;
  /** Land SHUTOFF whatever the original state (microversion 2.95 and later). */
  landStopped?: boolean;
}

export interface ServerListQuery {
  allTenants?: boolean;
  projectId?: string;
  host?: string;
  node?: string;
  name?: string;
  status?: string;
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
  locked?: boolean;
  changesSince?: Date;
  limit?: number;
  marker?: string;
}

export interface Page<T> {
  items: T[];
  /** Marker for the next page, when this page is full. */
  next: string | null;
}

export interface ServiceUpdate {
  status?: "enabled" | "disabled";
  disabledReason?: string | null;
  forcedDown?: boolean;
}

export type SimPowerState = "running" | "shutdown" | "crashed" | "paused" | "suspended";

const POWER_BY_NAME: Record<SimPowerState, PowerStateValue> = {
  running: PowerState.RUNNING,
  shutdown: PowerState.SHUTDOWN,
  crashed: PowerState.CRASHED,
  paused: PowerState.PAUSED,
  suspended: PowerState.SUSPENDED,
};

export const SYSTEM_CONTEXT: RequestContext = { userId: "sim", projectId: "sim", isAdmin: true, requestId: "req-sim" };

export interface NovaModelOptions {
  clock: Clock;
  seed?: string | number;
  knobs?: Partial<NovaKnobs>;
  flavors?: SimFlavorSeed[];
  /** Owner of servers added without one. */
  defaultProjectId?: string;
  defaultUserId?: string;
}

/**
 * The simulated Nova: services with heartbeats, hypervisors, servers with indexes by id, host
 * and project, the scheduler, asynchronous tasks on a virtual or real clock, migrations and
 * instance actions. Pure state plus a clock: due tasks run whenever the model is used.
 */
export class NovaModel {
  readonly knobs: NovaKnobs;
  readonly flavors = new Map<string, Flavor>();
  readonly hosts = new Map<string, ComputeHost>();
  readonly servers = new Map<string, Server>();
  readonly groups = new Map<string, ServerGroup>();
  readonly aggregates = new Map<number, Aggregate>();
  readonly controlServices: NovaService[] = [];
  private readonly clock: Clock;
  private readonly rng: SeededRandom;
  private readonly failureRng: SeededRandom;
  /** Request ids of actions Nova starts by itself (its own stream: the id stream stays as it was). */
  private readonly requestRng: SeededRandom;
  private readonly queue = new EventQueue();
  private readonly servicesByUuid = new Map<string, NovaService>();
  private readonly hostsByHypervisorUuid = new Map<string, ComputeHost>();
  private readonly byProject = new Map<string, Set<string>>();
  private serverOrder: Server[] = [];
  private deletedInOrder = 0;
  private readonly migrations: Migration[] = [];
  private readonly migrationsById = new Map<number, Migration>();
  private readonly actions = new Map<string, InstanceAction[]>();
  /** Ids of duplicate evacuations (accepted while another ran) that no rebuild ever picks up. */
  private readonly orphanEvacuations = new Set<number>();
  private readonly zoneOf = new Map<string, string>();
  private nextServiceIntId = 1;
  private nextHypervisorIntId = 1;
  private nextMigrationId = 1;
  private nextAggregateId = 1;
  private nextServerSeq = 1;
  private atMs: number;
  /** Wall-clock minus monotonic time, refreshed on every sync. */
  private wallOffsetMs: number;
  readonly defaultProjectId: string;
  readonly defaultUserId: string;

  constructor(opts: NovaModelOptions) {
    this.clock = opts.clock;
    this.knobs = { ...DEFAULT_NOVA_KNOBS, ...opts.knobs };
    const seed = opts.seed ?? "vmkeeper";
    this.rng = new SeededRandom(`${String(seed)}/ids`);
    this.failureRng = new SeededRandom(`${String(seed)}/failures`);
    this.requestRng = new SeededRandom(`${String(seed)}/requests`);
    this.atMs = this.clock.monotonicMs();
    this.wallOffsetMs = this.clock.now().getTime() - this.atMs;
    this.defaultProjectId = opts.defaultProjectId ?? "admin";
    this.defaultUserId = opts.defaultUserId ?? "admin";
    for (const f of opts.flavors ?? DEFAULT_FLAVORS) this.flavors.set(f.id, { ...f, extraSpecs: f.extraSpecs ?? {} });
    for (const binary of ["nova-conductor", "nova-scheduler"] as const) this.controlServices.push(this.newService(binary, "controller", 0));
  }

  // ---------------------------------------------------------------- time and events

  /** Runs every task due by now, in due order. Called by every operation. */
  sync(): void {
    const now = this.clock.monotonicMs();
    this.wallOffsetMs = this.clock.now().getTime() - now;
    for (let ev = this.queue.popDue(now); ev; ev = this.queue.popDue(now)) {
      this.atMs = ev.dueMs;
      ev.run(ev.dueMs);
    }
    this.atMs = now;
  }

  /** Monotonic time of the earliest pending task, if any (for a real-time driver or tests). */
  nextDueMs(): number | undefined {
    return this.queue.peekDue();
  }

  pendingTasks(): number {
    return this.queue.size;
  }

  nowMs(): number {
    return this.atMs;
  }

  /** Wall-clock date of a monotonic instant. */
  wallAt(ms: number): Date {
    return new Date(this.wallOffsetMs + ms);
  }

  private now(): Date {
    return this.wallAt(this.atMs);
  }

  private schedule(delayMs: number, run: () => void): void {
    this.queue.push(this.atMs + Math.max(0, delayMs), () => run());
  }

  setKnobs(partial: Partial<NovaKnobs>): NovaKnobs {
    Object.assign(this.knobs, partial);
    return { ...this.knobs };
  }

  private heartbeat(): HeartbeatSettings {
    return { reportIntervalMs: this.knobs.reportIntervalSeconds * 1000, serviceDownTimeMs: this.knobs.serviceDownTimeSeconds * 1000 };
  }

  private ratios(): AllocationRatios {
    const k = this.knobs;
    return { cpu: k.cpuAllocationRatio, ram: k.ramAllocationRatio, disk: k.diskAllocationRatio, reservedHostMemoryMb: k.reservedHostMemoryMb };
  }

  // ---------------------------------------------------------------- services

  private newService(binary: NovaService["binary"], host: string, phaseMs: number): NovaService {
    const svc: NovaService = {
      uuid: this.rng.uuid(),
      intId: this.nextServiceIntId++,
      binary,
      host,
      disabled: false,
      disabledReason: null,
      forcedDown: false,
      startedAtMs: this.atMs - phaseMs,
      stoppedAtMs: null,
      apiUpdatedAt: null,
      createdAt: this.now(),
    };
    this.servicesByUuid.set(svc.uuid, svc);
    return svc;
  }

  serviceIsUp(svc: NovaService): boolean {
    return serviceIsUp(svc, this.atMs, this.heartbeat());
  }

  /** Nova's updated_at: the last heartbeat or the last API change, whichever is later. */
  serviceUpdatedAt(svc: NovaService): Date {
    const beat = this.wallAt(lastHeartbeatMs(svc, this.atMs, this.heartbeat().reportIntervalMs));
    return svc.apiUpdatedAt && svc.apiUpdatedAt > beat ? svc.apiUpdatedAt : beat;
  }

  serviceZone(svc: NovaService): string {
    return svc.binary === "nova-compute" ? this.hostZone(svc.host) : "internal";
  }

  hostZone(host: string): string {
    return this.zoneOf.get(host) ?? this.knobs.defaultAvailabilityZone;
  }

  listServices(filter: { host?: string; binary?: string } = {}): NovaService[] {
    this.sync();
    const out: NovaService[] = [];
    const consider = (s: NovaService): void => {
      if (filter.host !== undefined && s.host !== filter.host) return;
      if (filter.binary !== undefined && s.binary !== filter.binary) return;
      out.push(s);
    };
    for (const s of this.controlServices) consider(s);
    if (filter.host !== undefined) {
      const h = this.hosts.get(filter.host);
      if (h) consider(h.service);
    } else {
      for (const h of this.hosts.values()) consider(h.service);
    }
    return out;
  }

  /** The service with a UUID (2.53+) or integer id (before 2.53). */
  findService(id: string): NovaService | undefined {
    this.sync();
    const byUuid = this.servicesByUuid.get(id);
    if (byUuid) return byUuid;
    if (!/^\d+$/.test(id)) return undefined;
    const n = Number(id);
    for (const s of this.servicesByUuid.values()) if (s.intId === n) return s;
    return undefined;
  }

  /** PUT /os-services/{service_id} (2.53+). */
  updateService(id: string, u: ServiceUpdate): NovaService {
    this.sync();
    if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
    const svc = this.servicesByUuid.get(id);
    if (!svc) throw notFound(`Service ${id} could not be found.`);
    if (svc.binary !== "nova-compute") throw badRequest(`Updating a ${svc.binary} service is not supported. Only nova-compute services can be updated.`);
    // Nova ignores a reason sent without a status, refuses one sent with "enabled".
    if (u.status === "enabled" && u.disabledReason) throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
    if (u.forcedDown === false) this.checkForEvacuations(svc.host);
    if (u.status === undefined && u.forcedDown === undefined) throw badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
    return this.applyServiceUpdate(svc, u);
  }

  /** The state change shared by the 2.53 (by id) and older (by host) service updates. */
  private applyServiceUpdate(svc: NovaService, u: ServiceUpdate): NovaService {
    if (u.status === "enabled") {
      svc.disabled = false;
      svc.disabledReason = null;
    } else if (u.status === "disabled") {
      svc.disabled = true;
      svc.disabledReason = u.disabledReason ?? null;
    }
    if (u.forcedDown !== undefined) svc.forcedDown = u.forcedDown;
    svc.apiUpdatedAt = this.now();
    return svc;
  }

  /**
   * Nova's `_check_for_evacuations`: forced_down cannot be lifted while evacuations away from
   * the host are `done` — its nova-compute must start first (destroying the evacuated copies
   * and moving those migrations to `completed`).
   */
  private checkForEvacuations(host: string): void {
    if (this.migrations.some((m) => m.sourceCompute === host && m.status === "done" && m.migrationType === "evacuation")) {
      throw badRequest(
        `Unable to force up host ${host} as \`done\` evacuation migration records remain associated with the host. Ensure the compute service has been restarted, allowing these records to move to \`completed\` before retrying this request.`,
      );
    }
  }

  /** The pre-2.53 forms: PUT /os-services/{enable,disable,disable-log-reason,force-down}. */
  updateServiceByHost(host: string, binary: string, u: ServiceUpdate): NovaService {
    this.sync();
    const svc = this.listServices({ host, binary })[0];
    if (!svc) throw notFound(`Service ${binary} on host ${host} not found.`);
    if (u.forcedDown === false) this.checkForEvacuations(svc.host);
    return this.applyServiceUpdate(svc, u);
  }

  deleteService(id: string): void {
    const svc = this.findService(id);
    if (!svc) throw notFound(`Service ${id} not found.`);
    if (svc.binary !== "nova-compute") {
      this.controlServices.splice(this.controlServices.indexOf(svc), 1);
      this.servicesByUuid.delete(svc.uuid);
      return;
    }
    const host = this.hosts.get(svc.host);
    if (host && host.servers.size > 0) throw conflict("Unable to delete compute service that is hosting instances. Migrate or delete the instances first.");
    if (host) {
      this.hosts.delete(host.name);
      this.hostsByHypervisorUuid.delete(host.hypervisorUuid);
      for (const a of this.aggregates.values()) a.hosts.delete(host.name);
      this.recomputeZones();
    }
    this.servicesByUuid.delete(svc.uuid);
  }

  // ---------------------------------------------------------------- hosts (simulation control)

  addHosts(specs: HostSpec[]): ComputeHost[] {
    this.sync();
    const added: ComputeHost[] = [];
    const intervalMs = this.knobs.reportIntervalSeconds * 1000;
    for (const spec of specs) {
      if (this.hosts.has(spec.name)) throw new Error(`host ${spec.name} already exists`);
      const phase = intervalMs > 0 ? hashString(spec.name) % intervalMs : 0;
      const n = this.nextHypervisorIntId;
      const host: ComputeHost = {
        name: spec.name,
        service: this.newService("nova-compute", spec.name, phase),
        hypervisorUuid: this.rng.uuid(),
        hypervisorIntId: this.nextHypervisorIntId++,
        hostIp: spec.hostIp ?? `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
        vcpus: spec.vcpus ?? 64,
        memoryMb: spec.memoryMb ?? 262_144,
        localGb: spec.localGb ?? 2000,
        powered: true,
        rebootedSinceStart: false,
        servers: new Set(),
        used: { vcpus: 0, ramMb: 0, diskGb: 0 },
        staleGuests: new Map(),
        deferred: [],
      };
      this.hosts.set(host.name, host);
      this.hostsByHypervisorUuid.set(host.hypervisorUuid, host);
      if (spec.zone && spec.zone !== this.knobs.defaultAvailabilityZone) this.addHostToZone(host.name, spec.zone);
      added.push(host);
    }
    return added;
  }

  private addHostToZone(host: string, zone: string): void {
    let agg = [...this.aggregates.values()].find((a) => a.name === zone);
    agg ??= this.createAggregate(zone, zone);
    agg.hosts.add(host);
    this.recomputeZones();
  }

  requireHost(name: string): ComputeHost {
    const h = this.hosts.get(name);
    if (!h) throw notFound(`Compute host ${name} not found.`);
    return h;
  }

  /** The machine dies: nova-compute stops heartbeating, its servers keep their database state. */
  killHost(name: string): void {
    this.sync();
    const h = this.requireHost(name);
    h.powered = false;
    h.rebootedSinceStart = true;
    if (h.service.stoppedAtMs === null) h.service.stoppedAtMs = this.atMs;
  }

  /** The machine comes back; nova-compute starts unless told otherwise. */
  restoreHost(name: string, opts: { startCompute?: boolean } = {}): void {
    this.sync();
    const h = this.requireHost(name);
    h.powered = true;
    if (opts.startCompute ?? true) this.startCompute(name);
  }

  /** Only the nova-compute process stops (guests keep running). */
  stopCompute(name: string): void {
    this.sync();
    const h = this.requireHost(name);
    if (h.service.stoppedAtMs === null) h.service.stoppedAtMs = this.atMs;
  }

  /** nova-compute starts: destroys evacuated copies, finishes deferred work, syncs guest power. */
  startCompute(name: string): void {
    this.sync();
    const h = this.requireHost(name);
    if (!h.powered) throw badRequest(`host ${name} is powered off`);
    if (serviceRunning(h.service)) return;
    h.service.startedAtMs = this.atMs;
    h.service.stoppedAtMs = null;
    this.destroyEvacuatedCopies(h);
    const deferred = h.deferred.splice(0);
    for (const run of deferred) run();
    if (h.rebootedSinceStart) this.afterHostBoot(h);
    h.rebootedSinceStart = false;
  }

  /**
   * Nova's `_destroy_evacuated_instances`: the local copies of servers evacuated away are
   * destroyed and their evacuation migrations (accepted or done) become `completed` — but Nova
   * keys those migrations by instance, so of several evacuations of one server (a duplicate
   * evacuate) only the newest is completed per start; a `done` one left behind blocks lifting
   * forced_down until the next start.
   */
  private destroyEvacuatedCopies(h: ComputeHost): void {
    for (const guest of h.staleGuests.values()) this.release(h, guest.flavor);
    h.staleGuests.clear();
    // `accepted` ones still running elsewhere are left alone here (a known simplification).
    const newest = new Map<string, Migration>();
    for (const m of this.migrations) {
      if (m.sourceCompute !== h.name || m.migrationType !== "evacuation") continue;
      if (m.status !== "done" && !(m.status === "accepted" && this.orphanEvacuations.has(m.id))) continue;
      const seen = newest.get(m.instanceUuid);
      if (!seen || m.id > seen.id) newest.set(m.instanceUuid, m);
    }
    for (const m of newest.values()) {
      this.orphanEvacuations.delete(m.id);
      this.setMigration(m, "completed");
    }
  }

  private afterHostBoot(h: ComputeHost): void {
    for (const id of h.servers) {
      const s = this.servers.get(id);
      if (!s || s.vmState !== "active" || s.taskState !== null) continue;
      if (this.knobs.resumeGuestsStateOnHostBoot) {
        s.powerState = PowerState.RUNNING;
      } else {
        s.powerState = PowerState.SHUTDOWN;
        this.schedulePowerSync(s);
      }
    }
  }

  /** Sets the guest's power state as the hypervisor sees it; Nova's power sync follows later. */
  setPowerState(serverId: string, state: SimPowerState): Server {
    this.sync();
    const s = this.servers.get(serverId);
    if (!s) throw notFound(`Instance ${serverId} could not be found.`);
    s.powerState = POWER_BY_NAME[state];
    s.updatedAt = this.now();
    this.schedulePowerSync(s);
    return s;
  }

  /** Nova acting on its own (periodic tasks, lifecycle events): `get_admin_context()`, a fresh request id. */
  private novaItself(): ActionActor {
    return { userId: null, projectId: null, requestId: `req-${this.requestRng.uuid()}` };
  }

  private schedulePowerSync(s: Server): void {
    const gen = s.taskGeneration;
    this.schedule(this.knobs.powerSyncIntervalMs, () => {
      if (this.servers.get(s.id) !== s || s.taskGeneration !== gen || s.taskState !== null) return;
      const h = s.host ? this.hosts.get(s.host) : undefined;
      if (!h || !serviceRunning(h.service)) return;
      const off = s.powerState === PowerState.SHUTDOWN || s.powerState === PowerState.CRASHED;
      // Nova's _sync_instance_power_state calls the compute API's stop with an admin context
      // that has no user or project: the stop action is recorded with user_id/project_id null.
      if (s.vmState === "active" && off) {
        this.recordAction(s, "stop", this.novaItself(), "compute_stop_instance", "Success");
        this.setState(s, "stopped", null, PowerState.SHUTDOWN);
      } else if (s.vmState === "stopped" && s.powerState === PowerState.RUNNING) {
        this.recordAction(s, "stop", this.novaItself(), "compute_stop_instance", "Success");
        s.powerState = PowerState.SHUTDOWN;
      }
    });
  }

  // ---------------------------------------------------------------- capacity

  private claim(h: ComputeHost, f: Flavor): void {
    h.used.vcpus += f.vcpus;
    h.used.ramMb += f.ramMb;
    h.used.diskGb += f.diskGb;
  }

  private release(h: ComputeHost, f: Flavor): void {
    h.used.vcpus -= f.vcpus;
    h.used.ramMb -= f.ramMb;
    h.used.diskGb -= f.diskGb;
  }

  private candidates(group: ServerGroup | undefined, self: string | null): HostCandidate[] {
    const memberCount = new Map<string, number>();
    if (group) {
      for (const id of group.members) {
        if (id === self) continue;
        const m = this.servers.get(id);
        const where = m?.evacuatingTo ?? m?.host;
        if (where) memberCount.set(where, (memberCount.get(where) ?? 0) + 1);
      }
    }
    const out: HostCandidate[] = [];
    for (const h of this.hosts.values()) {
      const svc = h.service;
      out.push({
        name: h.name,
        zone: this.hostZone(h.name),
        schedulable: !svc.disabled && this.serviceIsUp(svc),
        vcpus: h.vcpus,
        memoryMb: h.memoryMb,
        localGb: h.localGb,
        usedVcpus: h.used.vcpus,
        usedRamMb: h.used.ramMb,
        usedDiskGb: h.used.diskGb,
        groupMembers: memberCount.get(h.name) ?? 0,
      });
    }
    return out;
  }

  private place(s: Pick<Server, "id" | "flavor" | "groupId" | "requestedAz">, opts: { exclude?: string; requestedHost?: string | null }): string | null {
    const group = s.groupId ? this.groups.get(s.groupId) : undefined;
    let placed = 0;
    if (group) for (const id of group.members) if (id !== s.id && (this.servers.get(id)?.host ?? null) !== null) placed++;
    const req: PlacementRequest = {
      flavor: s.flavor,
      zone: s.requestedAz,
      requestedHost: opts.requestedHost ?? null,
      excludeHosts: opts.exclude ? new Set([opts.exclude]) : undefined,
      group: group ? { policy: group.policy, maxServerPerHost: group.rules.max_server_per_host, membersPlaced: placed } : undefined,
    };
    const r = pickHost(this.candidates(group, s.id), req, this.ratios());
    return r.ok ? r.host : null;
  }

  // ---------------------------------------------------------------- hypervisors

  /** Hypervisors in id order; `marker` is a hypervisor UUID or integer id. */
  listHypervisors(q: { limit?: number; marker?: string; pattern?: string } = {}): Page<ComputeHost> {
    this.sync();
    let all = [...this.hosts.values()];
    if (q.pattern !== undefined) {
      const p = q.pattern.toLowerCase();
      all = all.filter((h) => h.name.toLowerCase().includes(p));
      if (all.length === 0) throw notFound(`No hypervisor matching '${q.pattern}' could be found.`);
    }
    let start = 0;
    if (q.marker !== undefined) {
      const i = all.findIndex((h) => h.hypervisorUuid === q.marker || String(h.hypervisorIntId) === q.marker);
      if (i < 0) throw badRequest(`marker [${q.marker}] not found`);
      start = i + 1;
    }
    return pageOf(all, start, this.effectiveLimit(q.limit), (h) => h.hypervisorUuid);
  }

  findHypervisor(id: string): ComputeHost {
    this.sync();
    const h = this.hostsByHypervisorUuid.get(id) ?? [...this.hosts.values()].find((x) => String(x.hypervisorIntId) === id);
    if (!h) throw notFound(`Hypervisor with ID '${id}' could not be found.`);
    return h;
  }

  /** Servers on a host, O(servers on that host). */
  serversOnHost(name: string): Server[] {
    this.sync();
    const h = this.hosts.get(name);
    if (!h) return [];
    const out: Server[] = [];
    for (const id of h.servers) {
      const s = this.servers.get(id);
      if (s) out.push(s);
    }
    return out;
  }

  effectiveLimit(limit: number | undefined): number {
    if (limit === undefined) return this.knobs.maxLimit;
    if (limit === Number.POSITIVE_INFINITY) return limit;
    if (!Number.isInteger(limit) || limit < 0) throw badRequest("limit param must be an integer");
    return Math.min(limit, this.knobs.maxLimit);
  }

  // ---------------------------------------------------------------- servers: bulk and lookup

  /** Adds servers directly (simulation set-up): on the given host, or where the scheduler puts them. */
  addServers(specs: ServerSpec[]): Server[] {
    this.sync();
    const out: Server[] = [];
    for (const spec of specs) {
      const flavor = this.requireFlavor(spec.flavorId ?? "2");
      const s = this.newServer({ ...spec, flavor });
      const host = spec.host ?? this.place(s, {});
      if (!host) {
        this.forgetServer(s);
        throw new Error(`no valid host for server ${s.name}`);
      }
      const h = this.requireHost(host);
      const vm = spec.vmState ?? "active";
      this.setState(s, vm, null, vm === "stopped" ? PowerState.SHUTDOWN : vm === "error" ? PowerState.NOSTATE : PowerState.RUNNING);
      s.launchedAt = this.now();
      this.attach(s, h);
      this.recordSeedHistory(s, vm, h.name);
      out.push(s);
    }
    return out;
  }

  /**
   * The instance actions a real Nova would hold for a server set up in this state: its
   * create, plus (for a stopped one) a stop by its owner, or (in error) a failed build. A
   * SHUTOFF server never lacks a stop in Nova: its power-state sync records one too.
   */
  private recordSeedHistory(s: Server, vm: VmState, host: string): void {
    const owner = { userId: s.userId, projectId: s.projectId };
    this.recordAction(s, "create", { ...owner, requestId: `req-${this.requestRng.uuid()}` }, "compute_build_and_run_instance", vm === "error" ? "Error" : "Success", host);
    if (vm === "stopped") this.recordAction(s, "stop", { ...owner, requestId: `req-${this.requestRng.uuid()}` }, "compute_stop_instance", "Success", host);
  }

  requireFlavor(id: string): Flavor {
    const f = this.flavors.get(id) ?? [...this.flavors.values()].find((x) => x.name === id);
    if (!f) throw badRequest(`Flavor ${id} could not be found.`);
    return f;
  }

  private newServer(spec: ServerSpec & { flavor: Flavor }): Server {
    const id = spec.id ?? this.rng.uuid();
    if (this.servers.has(id)) throw new Error(`server ${id} already exists`);
    const seq = this.nextServerSeq++;
    const now = this.now();
    const s: Server = {
      id,
      seq,
      name: spec.name ?? `server-${seq}`,
      projectId: spec.projectId ?? this.defaultProjectId,
      userId: spec.userId ?? this.defaultUserId,
      flavor: spec.flavor,
      imageId: "00000000-0000-4000-8000-000000000001",
      host: null,
      vmState: "building",
      taskState: "scheduling",
      powerState: PowerState.NOSTATE,
      metadata: { ...spec.metadata },
      tags: new Set(spec.tags ?? []),
      locked: false,
      lockedReason: null,
      groupId: null,
      requestedAz: spec.availabilityZone ?? null,
      availabilityZone: null,
      createdAt: now,
      updatedAt: now,
      launchedAt: null,
      fault: null,
      evacuatingTo: null,
      taskGeneration: 0,
      description: null,
    };
    this.servers.set(id, s);
    this.serverOrder.push(s);
    let set = this.byProject.get(s.projectId);
    if (!set) this.byProject.set(s.projectId, (set = new Set()));
    set.add(id);
    if (spec.groupId) {
      const g = this.groups.get(spec.groupId);
      if (!g) throw badRequest(`Invalid server group ${spec.groupId}`);
      g.members.add(id);
      s.groupId = g.id;
    }
    return s;
  }

  private attach(s: Server, h: ComputeHost): void {
    s.host = h.name;
    s.availabilityZone = this.hostZone(h.name);
    h.servers.add(s.id);
    this.claim(h, s.flavor);
  }

  private forgetServer(s: Server): void {
    this.servers.delete(s.id);
    this.byProject.get(s.projectId)?.delete(s.id);
    if (s.groupId) this.groups.get(s.groupId)?.members.delete(s.id);
    this.deletedInOrder++;
    if (this.deletedInOrder > 1000 && this.deletedInOrder > this.serverOrder.length / 4) {
      this.serverOrder = this.serverOrder.filter((x) => this.servers.get(x.id) === x);
      this.deletedInOrder = 0;
    }
  }

  private setState(s: Server, vm: VmState, task: TaskState, power?: PowerStateValue): void {
    s.vmState = vm;
    s.taskState = task;
    if (power !== undefined) s.powerState = power;
    s.updatedAt = this.now();
    s.taskGeneration++;
  }

  /** The server if the caller may see it, else Nova's 404. */
  getServer(ctx: RequestContext, id: string): Server {
    this.sync();
    const s = this.servers.get(id);
    if (!s || (!ctx.isAdmin && s.projectId !== ctx.projectId)) throw notFound(`Instance ${id} could not be found.`);
    return s;
  }

  /** GET /servers[/detail]: newest first (created_at desc), paginated by marker. */
  listServers(ctx: RequestContext, q: ServerListQuery = {}): Page<Server> {
    this.sync();
    const limit = this.effectiveLimit(q.limit);
    const projectId = ctx.isAdmin ? (q.allTenants ? q.projectId : (q.projectId ?? ctx.projectId)) : ctx.projectId;
    let markerSeq = Number.POSITIVE_INFINITY;
    if (q.marker !== undefined) {
      const m = this.servers.get(q.marker);
      if (!m) throw badRequest(`marker [${q.marker}] not found`);
      markerSeq = m.seq;
    }
    const host = ctx.isAdmin ? q.host : undefined;
    const nameRe = q.name !== undefined ? safeRegExp(q.name) : undefined;
    const match = (s: Server): boolean => this.matchesQuery(s, q, projectId, nameRe);
    const items: Server[] = [];
    const take = (s: Server): boolean => {
      if (s.seq < markerSeq && match(s)) items.push(s);
      return items.length >= limit;
    };
    if (host !== undefined || projectId !== undefined) {
      const ids = host !== undefined ? (this.hosts.get(host)?.servers ?? new Set<string>()) : (this.byProject.get(projectId ?? "") ?? new Set<string>());
      const list: Server[] = [];
      for (const id of ids) {
        const s = this.servers.get(id);
        if (s) list.push(s);
      }
      list.sort((a, b) => b.seq - a.seq);
      for (const s of list) if (take(s)) break;
    } else {
      for (let i = upperIndex(this.serverOrder, markerSeq) - 1; i >= 0; i--) {
        const s = this.serverOrder[i];
        if (s && this.servers.get(s.id) === s && take(s)) break;
      }
    }
    const last = items[items.length - 1];
    return { items, next: limit > 0 && items.length === limit && last ? last.id : null };
  }

  private matchesQuery(s: Server, q: ServerListQuery, projectId: string | undefined, nameRe: RegExp | undefined): boolean {
    if (projectId !== undefined && s.projectId !== projectId) return false;
    if (q.host !== undefined && s.host !== q.host) return false;
    if (q.node !== undefined && s.host !== q.node) return false;
    if (nameRe && !nameRe.test(s.name)) return false;
    if (q.status !== undefined && serverStatusOf(s) !== q.status.toUpperCase()) return false;
    if (q.locked !== undefined && s.locked !== q.locked) return false;
    if (q.changesSince && s.updatedAt < q.changesSince) return false;
    if (q.tags && !q.tags.every((t) => s.tags.has(t))) return false;
    if (q.tagsAny && !q.tagsAny.some((t) => s.tags.has(t))) return false;
    if (q.notTags && q.notTags.length > 0 && q.notTags.every((t) => s.tags.has(t))) return false;
    if (q.notTagsAny && q.notTagsAny.some((t) => s.tags.has(t))) return false;
    return true;
  }

  /** POST /servers: scheduled now, ACTIVE after the boot duration (or ERROR: no valid host). */
  createServers(ctx: RequestContext, spec: Omit<ServerSpec, "projectId" | "userId" | "vmState"> & { count?: number }): Server[] {
    this.sync();
    const flavor = this.requireFlavor(spec.flavorId ?? "");
    if (spec.host !== undefined) this.requireHost(spec.host);
    const out: Server[] = [];
    const count = spec.count ?? 1;
    for (let i = 0; i < count; i++) {
      const name = count > 1 && spec.name ? `${spec.name}-${i + 1}` : spec.name;
      const s = this.newServer({ ...spec, id: undefined, name, flavor, projectId: ctx.projectId, userId: ctx.userId });
      this.recordAction(s, "create", ctx, "conductor_schedule_and_build_instances", null);
      const host = this.place(s, { requestedHost: spec.host ?? null });
      const gen = ++s.taskGeneration;
      if (!host) {
        this.schedule(this.knobs.schedulingDelayMs, () => {
          if (this.servers.get(s.id) !== s || s.taskGeneration !== gen) return;
          this.fail(s, 500, "No valid host was found. There are not enough hosts available.");
          this.finishAction(s, ctx.requestId, "Error");
        });
      } else {
        const h = this.requireHost(host);
        this.attach(s, h);
        s.taskState = "spawning";
        const finish = (): void => {
          if (this.servers.get(s.id) !== s || s.taskGeneration !== gen) return;
          // The build waits in the queue of a nova-compute that is not running (BUILD until it starts).
          if (!serviceRunning(h.service)) {
            h.deferred.push(finish);
            return;
          }
          this.setState(s, "active", null, PowerState.RUNNING);
          s.launchedAt = this.now();
          this.finishAction(s, ctx.requestId, "Success", h.name);
        };
        this.schedule(this.knobs.bootDurationMs, finish);
      }
      out.push(s);
    }
    return out;
  }

  /** DELETE /servers/{id}: immediate (a local delete), releasing every claim. */
  deleteServer(ctx: RequestContext, id: string): void {
    const s = this.getServer(ctx, id);
    this.checkLock(ctx, s);
    this.recordAction(s, "delete", ctx, "compute_terminate_instance", "Success", s.host);
    const h = s.host ? this.hosts.get(s.host) : undefined;
    if (h) {
      h.servers.delete(s.id);
      this.release(h, s.flavor);
    }
    const dest = s.evacuatingTo ? this.hosts.get(s.evacuatingTo) : undefined;
    if (dest) this.release(dest, s.flavor);
    s.vmState = "deleted";
    s.taskGeneration++;
    this.forgetServer(s);
  }

  private checkLock(ctx: RequestContext, s: Server): void {
    if (s.locked && !ctx.isAdmin) throw conflict(`Instance ${s.id} is locked`);
  }

  private fail(s: Server, code: number, message: string): void {
    this.setState(s, "error", null);
    s.fault = { code, message, details: "", created: this.now() };
  }

  // ---------------------------------------------------------------- evacuation

  /**
   * POST /servers/{id}/action {"evacuate"}: Nova's guards in Nova's order, then an asynchronous
   * rebuild on the chosen host recorded as a migration of type `evacuation`.
   */
  evacuate(ctx: RequestContext, id: string, opts: EvacuateOptions = {}): Migration {
    const s = this.getServer(ctx, id);
    if (opts.host !== undefined) this.requireHost(opts.host);
    if (opts.host !== undefined && s.host === opts.host) throw badRequest("The target host can't be the same one.");
    if (!["active", "stopped", "error"].includes(s.vmState)) throw invalidStateConflict("evacuate", s.id, "vm_state", s.vmState);
    // No task_state guard: Nova's evacuate is decorated with check_instance_state(task_state=None),
    // which skips the check, so a second evacuate of a server being rebuilt is accepted too.
    const source = s.host ? this.hosts.get(s.host) : undefined;
    if (!source) throw conflict(`Instance ${s.id} has no host`);
    if (this.serviceIsUp(source.service)) throw badRequest(`Compute service of ${source.name} is still in use.`);
    const now = this.now();
    const m: Migration = {
      id: this.nextMigrationId++,
      uuid: this.rng.uuid(),
      instanceUuid: s.id,
      sourceCompute: source.name,
      sourceNode: source.name,
      destCompute: null,
      destNode: null,
      destHost: null,
      status: "accepted",
      migrationType: "evacuation",
      flavorId: s.flavor.id,
      userId: ctx.userId,
      projectId: s.projectId,
      createdAt: now,
      updatedAt: now,
    };
    this.migrations.push(m);
    this.migrationsById.set(m.id, m);
    if (s.taskState === "rebuilding") return this.duplicateEvacuation(s, m, ctx);
    const originalVm = s.vmState;
    this.recordAction(s, "evacuate", ctx, "compute_rebuild_instance", null);
    this.setState(s, s.vmState, "rebuilding");
    const gen = s.taskGeneration;
    const dest = opts.force && opts.host ? opts.host : this.place(s, { exclude: source.name, requestedHost: opts.host ?? null });
    if (!dest) {
      this.schedule(this.knobs.schedulingDelayMs, () => {
        if (!this.current(s, gen)) return;
        this.fail(s, 500, "No valid host was found. There are not enough hosts available.");
        this.setMigration(m, "error");
        this.finishAction(s, ctx.requestId, "Error");
      });
      return m;
    }
    const d = this.requireHost(dest);
    this.claim(d, s.flavor);
    s.evacuatingTo = d.name;
    Object.assign(m, { destCompute: d.name, destNode: d.name, destHost: d.hostIp });
    this.schedule(this.knobs.evacuationDurationMs, () => this.finishEvacuation(s, gen, m, ctx.requestId, originalVm, opts.landStopped ?? false));
    return m;
  }

  /**
   * An evacuate accepted while the server is already being rebuilt. In Nova both rebuilds
   * race on the destination and the loser fails (UnexpectedTaskStateError); here the one in
   * flight always wins: the duplicate's action ends in Error and its migration stays
   * `accepted` until the source's nova-compute starts again.
   */
  private duplicateEvacuation(s: Server, m: Migration, ctx: RequestContext): Migration {
    this.recordAction(s, "evacuate", ctx, "compute_rebuild_instance", null);
    this.orphanEvacuations.add(m.id);
    const dest = s.evacuatingTo;
    this.schedule(this.knobs.evacuationDurationMs, () => this.finishAction(s, ctx.requestId, "Error", dest));
    return m;
  }

  private current(s: Server, gen: number): boolean {
    return this.servers.get(s.id) === s && s.taskGeneration === gen;
  }

  private setMigration(m: Migration, status: Migration["status"]): void {
    m.status = status;
    m.updatedAt = this.now();
  }

  private finishEvacuation(s: Server, gen: number, m: Migration, requestId: string, originalVm: VmState, landStopped: boolean): void {
    if (!this.current(s, gen)) return;
    const dest = s.evacuatingTo ? this.hosts.get(s.evacuatingTo) : undefined;
    if (!dest) return;
    if (!serviceRunning(dest.service)) {
      // The rebuild waits for the destination's nova-compute; on its start Nova errors the instance.
      dest.deferred.push(() => this.abortEvacuation(s, gen, m, requestId, dest, "Instance found in rebuilding state during init_host"));
      return;
    }
    if (this.failureRng.chance(this.knobs.evacuationFailureRate)) {
      this.abortEvacuation(s, gen, m, requestId, dest, this.knobs.evacuationFailureMessage);
      return;
    }
    const source = s.host ? this.hosts.get(s.host) : undefined;
    if (source) {
      source.servers.delete(s.id);
      // The source keeps its local copy (and its claim) until its nova-compute starts again.
      source.staleGuests.set(s.id, { serverId: s.id, migrationId: m.id, flavor: s.flavor });
    }
    s.host = dest.name;
    s.availabilityZone = this.hostZone(dest.name);
    dest.servers.add(s.id);
    s.evacuatingTo = null;
    const stopped = landStopped || originalVm === "stopped";
    this.setState(s, stopped ? "stopped" : "active", null, stopped ? PowerState.SHUTDOWN : dest.powered ? PowerState.RUNNING : PowerState.NOSTATE);
    s.launchedAt = this.now();
    this.setMigration(m, "done");
    this.finishAction(s, requestId, "Success", dest.name);
  }

  private abortEvacuation(s: Server, gen: number, m: Migration, requestId: string, dest: ComputeHost, message: string): void {
    if (!this.current(s, gen)) return;
    this.release(dest, s.flavor);
    s.evacuatingTo = null;
    this.fail(s, 500, message);
    this.setMigration(m, "failed");
    this.finishAction(s, requestId, "Error", dest.name);
  }

  // ---------------------------------------------------------------- power actions, lock, tags, metadata

  start(ctx: RequestContext, id: string): void {
    const s = this.getServer(ctx, id);
    this.checkLock(ctx, s);
    this.guard(s, "start", ["stopped"], [null]);
    this.powerAction(ctx, s, "start", "powering-on", "compute_start_instance", "active", PowerState.RUNNING);
  }

  stop(ctx: RequestContext, id: string): void {
    const s = this.getServer(ctx, id);
    this.checkLock(ctx, s);
    this.guard(s, "stop", ["active", "error"], [null]);
    this.powerAction(ctx, s, "stop", "powering-off", "compute_stop_instance", "stopped", PowerState.SHUTDOWN);
  }

  reboot(ctx: RequestContext, id: string, type: "HARD" | "SOFT"): void {
    const s = this.getServer(ctx, id);
    this.checkLock(ctx, s);
    if (type === "HARD") this.guard(s, "reboot", ["active", "stopped", "error"], [null, "rebooting", "rebooting_hard"]);
    else this.guard(s, "reboot", ["active"], [null]);
    this.powerAction(ctx, s, "reboot", type === "HARD" ? "rebooting_hard" : "rebooting", "compute_reboot_instance", "active", PowerState.RUNNING);
  }

  private guard(s: Server, action: string, vmStates: VmState[], taskStates: TaskState[]): void {
    if (!vmStates.includes(s.vmState)) throw invalidStateConflict(action, s.id, "vm_state", s.vmState);
    if (!taskStates.includes(s.taskState)) throw invalidStateConflict(action, s.id, "task_state", s.taskState);
  }

  private powerAction(ctx: RequestContext, s: Server, action: string, task: TaskState, event: string, endVm: VmState, endPower: PowerStateValue): void {
    this.recordAction(s, action, ctx, event, null);
    this.setState(s, s.vmState, task);
    const gen = s.taskGeneration;
    const finish = (): void => {
      if (!this.current(s, gen)) return;
      const h = s.host ? this.hosts.get(s.host) : undefined;
      if (h && !serviceRunning(h.service)) {
        h.deferred.push(finish);
        return;
      }
      this.setState(s, endVm, null, endPower === PowerState.RUNNING && h && !h.powered ? PowerState.NOSTATE : endPower);
      if (endVm === "active") s.fault = null;
      this.finishAction(s, ctx.requestId, "Success", s.host);
    };
    this.schedule(this.knobs.powerActionDurationMs, finish);
  }

  lock(ctx: RequestContext, id: string, reason: string | null): void {
    const s = this.getServer(ctx, id);
    s.locked = true;
    s.lockedReason = reason;
    s.updatedAt = this.now();
    this.recordAction(s, "lock", ctx, null, "Success");
  }

  unlock(ctx: RequestContext, id: string): void {
    const s = this.getServer(ctx, id);
    s.locked = false;
    s.lockedReason = null;
    s.updatedAt = this.now();
    this.recordAction(s, "unlock", ctx, null, "Success");
  }

  /** Replaces (PUT /tags) or adds one tag; Nova's limits: 50 tags, 60 characters, no '/' or ','. */
  setTags(ctx: RequestContext, id: string, tags: string[], mode: "replace" | "add" | "remove" | "clear"): Server {
    const s = this.getServer(ctx, id);
    this.checkLock(ctx, s);
    if (s.vmState === "building") throw invalidStateConflict("update tags", s.id, "vm_state", s.vmState);
    for (const t of tags) if (t.length === 0 || t.length > 60 || /[/,]/.test(t)) throw badRequest(`Invalid tag: '${t}'`);
    if (mode === "replace") s.tags = new Set(tags);
    if (mode === "add") for (const t of tags) s.tags.add(t);
    if (mode === "remove") for (const t of tags) if (!s.tags.delete(t)) throw notFound(`Tag '${t}' not found for instance ${s.id}`);
    if (mode === "clear") s.tags.clear();
    if (s.tags.size > 50) throw badRequest("The number of tags exceeded the per-server limit 50");
    s.updatedAt = this.now();
    return s;
  }

  setMetadata(ctx: RequestContext, id: string, items: Record<string, string>, mode: "replace" | "merge" | "delete"): Server {
    const s = this.getServer(ctx, id);
    this.checkLock(ctx, s);
    for (const [k, v] of Object.entries(items)) {
      if (k.length === 0 || k.length > 255 || typeof v !== "string" || v.length > 255) throw badRequest(`Invalid metadata item ${k}`);
    }
    if (mode === "replace") s.metadata = { ...items };
    if (mode === "merge") Object.assign(s.metadata, items);
    if (mode === "delete") {
      for (const k of Object.keys(items)) {
        if (!(k in s.metadata)) throw notFound("Metadata item was not found");
        delete s.metadata[k];
      }
    }
    s.updatedAt = this.now();
    return s;
  }

  // ---------------------------------------------------------------- actions and migrations

  private recordAction(s: Server, action: string, ctx: ActionActor, event: string | null, result: "Success" | "Error" | null, host: string | null = s.host): void {
    const now = this.now();
    const a: InstanceAction = {
      action,
      instanceUuid: s.id,
      requestId: ctx.requestId,
      userId: ctx.userId,
      projectId: ctx.projectId,
      startTime: now,
      updatedAt: now,
      message: result === "Error" ? "Error" : null,
      events: event ? [{ event, startTime: now, finishTime: result ? now : null, result, host, traceback: null }] : [],
    };
    let list = this.actions.get(s.id);
    if (!list) this.actions.set(s.id, (list = []));
    list.push(a);
  }

  private finishAction(s: Server, requestId: string, result: "Success" | "Error", host: string | null = s.host): void {
    const a = this.actions.get(s.id)?.findLast((x) => x.requestId === requestId);
    if (!a) return;
    const now = this.now();
    a.updatedAt = now;
    if (result === "Error") a.message = "Error";
    for (const e of a.events) {
      if (e.result !== null) continue;
      e.result = result;
      e.finishTime = now;
      e.host = host;
      if (result === "Error") e.traceback = s.fault?.message ?? null;
    }
  }

  /** Newest first, like Nova. Deleted servers keep their history (admin only in Nova). */
  listInstanceActions(ctx: RequestContext, id: string): InstanceAction[] {
    const s = this.servers.get(id);
    if (!s && !ctx.isAdmin) throw notFound(`Instance ${id} could not be found.`);
    if (s) this.getServer(ctx, id);
    else this.sync();
    const list = this.actions.get(id);
    if (!list && !s) throw notFound(`Instance ${id} could not be found.`);
    return [...(list ?? [])].reverse();
  }

  getInstanceAction(ctx: RequestContext, id: string, requestId: string): InstanceAction {
    const a = this.listInstanceActions(ctx, id).find((x) => x.requestId === requestId);
    if (!a) throw notFound(`Action ${requestId} could not be found.`);
    return a;
  }

  /** GET /os-migrations: newest first; `host` matches source or destination. */
  listMigrations(q: { host?: string; status?: string; sourceCompute?: string; instanceUuid?: string; migrationType?: string; limit?: number; marker?: string } = {}): Page<Migration> {
    this.sync();
    const all = this.migrations.filter(
      (m) =>
        (q.host === undefined || m.sourceCompute === q.host || m.destCompute === q.host) &&
        (q.status === undefined || m.status === q.status) &&
        (q.sourceCompute === undefined || m.sourceCompute === q.sourceCompute) &&
        (q.instanceUuid === undefined || m.instanceUuid === q.instanceUuid) &&
        (q.migrationType === undefined || m.migrationType === q.migrationType),
    );
    all.reverse();
    let start = 0;
    if (q.marker !== undefined) {
      const i = all.findIndex((m) => m.uuid === q.marker);
      if (i < 0) throw badRequest(`Marker ${q.marker} could not be found.`);
      start = i + 1;
    }
    return pageOf(all, start, this.effectiveLimit(q.limit), (m) => m.uuid);
  }

  // ---------------------------------------------------------------- server groups

  createServerGroup(ctx: RequestContext, name: string, policy: GroupPolicy, rules: { max_server_per_host?: number } = {}): ServerGroup {
    this.sync();
    if (rules.max_server_per_host !== undefined) {
      if (policy !== "anti-affinity") throw badRequest("Only anti-affinity policy supports rules.");
      if (!Number.isInteger(rules.max_server_per_host) || rules.max_server_per_host < 1) throw badRequest("Invalid input for field/attribute max_server_per_host.");
    }
    const g: ServerGroup = { id: this.rng.uuid(), name, policy, rules: { ...rules }, members: new Set(), projectId: ctx.projectId, userId: ctx.userId };
    this.groups.set(g.id, g);
    return g;
  }

  getServerGroup(ctx: RequestContext, id: string): ServerGroup {
    this.sync();
    const g = this.groups.get(id);
    if (!g || (!ctx.isAdmin && g.projectId !== ctx.projectId)) throw notFound(`Instance group ${id} could not be found.`);
    return g;
  }

  listServerGroups(ctx: RequestContext, allProjects: boolean): ServerGroup[] {
    this.sync();
    return [...this.groups.values()].filter((g) => (ctx.isAdmin && allProjects) || g.projectId === ctx.projectId);
  }

  deleteServerGroup(ctx: RequestContext, id: string): void {
    const g = this.getServerGroup(ctx, id);
    for (const m of g.members) {
      const s = this.servers.get(m);
      if (s) s.groupId = null;
    }
    this.groups.delete(g.id);
  }

  // ---------------------------------------------------------------- aggregates and zones

  createAggregate(name: string, zone: string | null): Aggregate {
    if ([...this.aggregates.values()].some((a) => a.name === name)) throw conflict(`Aggregate ${name} already exists.`);
    const a: Aggregate = {
      id: this.nextAggregateId++,
      uuid: this.rng.uuid(),
      name,
      availabilityZone: zone,
      hosts: new Set(),
      metadata: zone ? { availability_zone: zone } : {},
      createdAt: this.now(),
      updatedAt: null,
    };
    this.aggregates.set(a.id, a);
    return a;
  }

  requireAggregate(id: number): Aggregate {
    const a = this.aggregates.get(id);
    if (!a) throw notFound(`Aggregate ${id} could not be found.`);
    return a;
  }

  aggregateAddHost(id: number, host: string): Aggregate {
    this.sync();
    const a = this.requireAggregate(id);
    this.requireHost(host);
    if (a.hosts.has(host)) throw conflict(`Aggregate ${id} already has host ${host}.`);
    const zone = this.zoneOf.get(host);
    if (a.availabilityZone && zone && zone !== a.availabilityZone) throw badRequest(`Cannot add host to aggregate ${id}. Reason: One or more hosts already in availability zone(s) ['${zone}'].`);
    a.hosts.add(host);
    a.updatedAt = this.now();
    this.recomputeZones();
    return a;
  }

  aggregateRemoveHost(id: number, host: string): Aggregate {
    this.sync();
    const a = this.requireAggregate(id);
    if (!a.hosts.delete(host)) throw notFound(`Cannot remove host ${host} in aggregate ${id}`);
    a.updatedAt = this.now();
    this.recomputeZones();
    return a;
  }

  aggregateSetMetadata(id: number, metadata: Record<string, string | null>): Aggregate {
    this.sync();
    const a = this.requireAggregate(id);
    for (const [k, v] of Object.entries(metadata)) {
      if (v === null) delete a.metadata[k];
      else a.metadata[k] = v;
    }
    a.availabilityZone = a.metadata.availability_zone ?? null;
    a.updatedAt = this.now();
    this.recomputeZones();
    return a;
  }

  deleteAggregate(id: number): void {
    const a = this.requireAggregate(id);
    if (a.hosts.size > 0) throw badRequest(`Cannot remove aggregate ${id}: it still has hosts.`);
    this.aggregates.delete(id);
  }

  private recomputeZones(): void {
    this.zoneOf.clear();
    for (const a of this.aggregates.values()) {
      if (!a.availabilityZone) continue;
      for (const h of a.hosts) if (!this.zoneOf.has(h)) this.zoneOf.set(h, a.availabilityZone);
    }
    for (const h of this.hosts.values()) {
      for (const id of h.servers) {
        const s = this.servers.get(id);
        if (s) s.availabilityZone = this.hostZone(h.name);
      }
    }
  }

  /** Usage of a project for GET /limits. */
  projectUsage(projectId: string): { instances: number; cores: number; ramMb: number; groups: number } {
    this.sync();
    let cores = 0;
    let ramMb = 0;
    const ids = this.byProject.get(projectId) ?? new Set<string>();
    for (const id of ids) {
      const s = this.servers.get(id);
      if (!s) continue;
      cores += s.flavor.vcpus;
      ramMb += s.flavor.ramMb;
    }
    let groups = 0;
    for (const g of this.groups.values()) if (g.projectId === projectId) groups++;
    return { instances: ids.size, cores, ramMb, groups };
  }

  /** Evacuation and deferred-work internals of a host, for the admin API and tests. */
  hostDebug(name: string): { powered: boolean; computeRunning: boolean; staleGuests: string[]; deferred: number; servers: number } {
    this.sync();
    const h = this.requireHost(name);
    return { powered: h.powered, computeRunning: serviceRunning(h.service), staleGuests: [...h.staleGuests.keys()], deferred: h.deferred.length, servers: h.servers.size };
  }
}

/** A page of `items` from `start`, with the next marker when the page is full. */
export function pageOf<T>(items: readonly T[], start: number, limit: number, markerOf: (t: T) => string): Page<T> {
  const slice = items.slice(start, start + limit);
  const last = slice[slice.length - 1];
  // Like Nova, a full page carries a next link even when nothing follows.
  return { items: slice, next: limit > 0 && slice.length === limit && last !== undefined ? markerOf(last) : null };
}

/** Index of the first item with seq ≥ `seq` in an array sorted by seq. */
function upperIndex(order: readonly Server[], seq: number): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((order[mid]?.seq ?? 0) < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function serverStatusOf(s: Server): string {
  return serverStatus(s.vmState, s.taskState);
}

function safeRegExp(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch {
    return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  }
}

export { NovaError };
