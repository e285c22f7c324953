import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { buildEvacuateBody, evacuateMicroversion, evacuationLandsStopped, type EvacuateOptions } from "./evacuate-body.js";
import { asRecord, isRecord, stringArray, stringMap } from "./json-read.js";
import type { EndpointOptions } from "./keystone-catalog.js";
import type { AuthenticatedSession } from "./keystone-session.js";
import { MAX_MICROVERSION, MIN_MICROVERSION, atLeast, formatMicroversion, negotiateMicroversion, parseMicroversion, type Microversion, type MicroversionRange } from "./microversion.js";
import { NovaNotFoundError, NovaUnsupportedMicroversionError } from "./nova-errors.js";
import { NovaHttp, type CallOptions, type NovaCall, type NovaResponse, type QueryValue } from "./nova-http.js";
import {
  parseAbsoluteLimits,
  parseAggregate,
  parseAvailabilityZone,
  parseFlavor,
  parseHypervisor,
  parseInstanceAction,
  parseMigration,
  parseServer,
  parseServerGroup,
  parseService,
  parseVersionDocument,
} from "./nova-parse.js";
import type { AbsoluteLimits, Aggregate, AvailabilityZone, ComputeService, Flavor, Hypervisor, InstanceAction, Migration, Server, ServerGroup, ServerRef } from "./nova-types.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry-policy.js";
import { SecretValue } from "./secret-value.js";

export type { CallOptions } from "./nova-http.js";

export interface NovaClientOptions {
  session: AuthenticatedSession;
  clock: Clock;
  logger: Logger;
  /** Interface/region overrides for the compute endpoint (default: the cloud's). */
  endpoint?: EndpointOptions;
  /** Per-attempt deadline (default 30 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number;
  /** `limit` of paginated lists (default 1000, Nova's usual max_limit). */
  pageSize?: number;
  /** Cap below vmkeeper's own maximum (e.g. to test older behaviour). */
  maxMicroversion?: Microversion;
}

export interface NegotiatedCompute {
  version: Microversion;
  serverRange: MicroversionRange;
  endpoint: string;
}

export interface ServerFilter {
  /** `all_tenants=1` (admin); default true. */
  allProjects?: boolean;
  /** Admin filters: the compute host (`host`) and hypervisor node (`node`). */
  host?: string;
  node?: string;
  /** Servers carrying all of these tags / any of these tags. */
  tags?: string[];
  tagsAny?: string[];
  /** Filtered here: Nova's list API has no metadata filter. */
  metadata?: Record<string, string>;
  status?: string;
  changesSince?: string;
}

export interface MigrationFilter {
  migrationType?: "evacuation" | "live-migration" | "migration" | "resize";
  instanceUuid?: string;
  /** Source or destination compute host. */
  host?: string;
  status?: string;
  changesSince?: string;
  /** 2.80+. */
  userId?: string;
  projectId?: string;
}

export interface EvacuateResult {
  serverId: string;
  requestId: string | undefined;
  /** Microversion the request went out with. */
  microversion: string;
  /** True when Nova will leave the server stopped on the target (2.95+). */
  landsStopped: boolean;
  /** Only below 2.14 with enable_instance_password; never logged. */
  adminPass?: SecretValue;
}

type Parser<T> = (v: unknown, path: string) => T;

/**
 * Typed Nova client. Retry policy: GETs and the idempotent PUTs (service force-down/up,
 * disable/enable, tag add, metadata item set) and the metadata merge POST are retried on
 * 5xx/timeouts with capped backoff; server actions (evacuate, start, stop, reboot, lock,
 * unlock) are sent once — after a failure with `outcomeUnknown`, re-read the server
 * (`getServer`, `listInstanceActions`, `listMigrations`) before deciding anything.
 */
export class NovaClient {
  private readonly http: NovaHttp;
  private negotiated: NegotiatedCompute | undefined;
  private negotiating: Promise<NegotiatedCompute> | undefined;
  private readonly log: Logger;
  private readonly pageSize: number;

  constructor(private readonly o: NovaClientOptions) {
    this.log = o.logger.child({ component: "nova" });
    this.pageSize = o.pageSize ?? 1000;
    this.http = new NovaHttp({
      session: o.session,
      clock: o.clock,
      logger: this.log,
      timeoutMs: o.timeoutMs ?? 30_000,
      retry: { ...DEFAULT_RETRY_POLICY, ...o.retry },
      random: o.random ?? Math.random,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    });
  }

  /** The negotiated microversion, once known. */
  get microversion(): Microversion | undefined {
    return this.negotiated?.version;
  }

  /** Reads the version document and picks the microversion (done lazily by every call). */
  negotiate(opts: CallOptions = {}): Promise<NegotiatedCompute> {
    if (this.negotiated) return Promise.resolve(this.negotiated);
    this.negotiating ??= this.doNegotiate(opts).finally(() => {
      this.negotiating = undefined;
    });
    return this.negotiating;
  }

  /** Forgets the negotiated version (e.g. after a Nova upgrade). */
  resetNegotiation(): void {
    this.negotiated = undefined;
  }

  private async doNegotiate(opts: CallOptions): Promise<NegotiatedCompute> {
    const operation = "nova.versions";
    const endpoint = await this.http.endpoint();
    const res = await this.http.callUrl({ operation, method: "GET", path: "", idempotent: true, microversion: MIN_MICROVERSION }, computeVersionUrl(endpoint), opts);
    let server: MicroversionRange | undefined;
    try {
      const doc = parseVersionDocument(res.body);
      const min = parseMicroversion(doc.min);
      const max = parseMicroversion(doc.max);
      server = min && max ? { min, max } : undefined;
    } catch (e: unknown) {
      throw this.http.invalid(operation, e, res.status, res.requestId);
    }
    const cap = this.o.maxMicroversion ?? MAX_MICROVERSION;
    const result = negotiateMicroversion(server, { min: MIN_MICROVERSION, max: cap });
    if (!result.ok) {
      throw new NovaUnsupportedMicroversionError({ operation, novaMessage: result.message, ...(res.requestId ? { requestId: res.requestId } : {}) }, result.server);
    }
    this.negotiated = { version: result.version, serverRange: result.server, endpoint };
    this.log.info({ microversion: formatMicroversion(result.version), serverMin: formatMicroversion(result.server.min), serverMax: formatMicroversion(result.server.max) }, "negotiated compute microversion");
    return this.negotiated;
  }

  private async send(c: Omit<NovaCall, "microversion"> & { microversion?: Microversion }, opts: CallOptions): Promise<NovaResponse> {
    const { version } = await this.negotiate(opts);
    return this.http.call({ ...c, microversion: c.microversion ?? version }, opts);
  }

  private async read<T>(c: Omit<NovaCall, "microversion" | "method" | "idempotent">, key: string, parse: Parser<T>, opts: CallOptions): Promise<T> {
    const res = await this.send({ ...c, method: "GET", idempotent: true }, opts);
    return this.parseOne(c.operation, res, key, parse);
  }

  private parseOne<T>(operation: string, res: NovaResponse, key: string, parse: Parser<T>): T {
    try {
      return parse(asRecord(res.body, "(body)")[key], key);
    } catch (e: unknown) {
      throw this.http.invalid(operation, e, res.status, res.requestId);
    }
  }

  private parseList<T>(operation: string, res: NovaResponse, key: string, parse: Parser<T>): T[] {
    return this.parseOne(operation, res, key, (v, path) => {
      if (!Array.isArray(v)) throw this.http.invalid(operation, new Error(`response field "${path}" is missing or not an array`), res.status, res.requestId);
      return v.map((x, i) => parse(x, `${path}[${i}]`));
    });
  }

  /**
   * Follows `limit`/`marker` pages until Nova stops sending a `next` link. The marker is
   * the last item's id (not the link's href, whose host may not be reachable from here).
   */
  private async paginate<T>(operation: string, path: string, query: Record<string, QueryValue>, key: string, parse: Parser<T>, markerOf: (t: T) => string, opts: CallOptions): Promise<T[]> {
    const all: T[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const res = await this.send({ operation, method: "GET", path, query: { ...query, limit: this.pageSize, marker }, idempotent: true }, opts);
      const items = this.parseList(operation, res, key, parse);
      all.push(...items);
      const last = items[items.length - 1];
      if (!last || !hasNextLink(res.body, `${key}_links`)) break;
      const next = markerOf(last);
      if (next === marker) break;
      marker = next;
    }
    return all;
  }

  // ---- services ----

  /** `GET /os-services`, optionally by binary (e.g. nova-compute) and host. */
  async listServices(filter: { binary?: string; host?: string } = {}, opts: CallOptions = {}): Promise<ComputeService[]> {
    const res = await this.send({ operation: "nova.listServices", method: "GET", path: "/os-services", query: { binary: filter.binary, host: filter.host }, idempotent: true }, opts);
    return this.parseList("nova.listServices", res, "services", parseService);
  }

  /** `PUT /os-services/{id}` `{"forced_down": …}` (2.53). Idempotent: retried on 5xx/timeouts. */
  forceDownService(serviceId: string, forcedDown: boolean, opts: CallOptions = {}): Promise<ComputeService> {
    return this.updateService("nova.forceDownService", serviceId, { forced_down: forcedDown }, opts);
  }

  /** Disables scheduling to the service with a reason. Force it down first if it may be dead (a disable RPC to a dead host can block for rpc_response_timeout). */
  disableService(serviceId: string, reason: string, opts: CallOptions = {}): Promise<ComputeService> {
    return this.updateService("nova.disableService", serviceId, { status: "disabled", disabled_reason: reason }, opts);
  }

  enableService(serviceId: string, opts: CallOptions = {}): Promise<ComputeService> {
    return this.updateService("nova.enableService", serviceId, { status: "enabled" }, opts);
  }

  private async updateService(operation: string, serviceId: string, body: Record<string, unknown>, opts: CallOptions): Promise<ComputeService> {
    const res = await this.send({ operation, method: "PUT", path: `/os-services/${enc(serviceId)}`, body, idempotent: true }, opts);
    const service = this.parseOne(operation, res, "service", parseService);
    this.log.info({ operation, serviceId, host: service.host, requestId: res.requestId, forcedDown: service.forcedDown, status: service.status }, "compute service updated");
    return service;
  }

  // ---- hypervisors, aggregates, availability zones ----

  /** `GET /os-hypervisors/detail`; `hostnamePattern` is Nova's substring match (a 404 "no match" gives []). */
  async listHypervisors(filter: { withServers?: boolean; hostnamePattern?: string } = {}, opts: CallOptions = {}): Promise<Hypervisor[]> {
    const operation = "nova.listHypervisors";
    const query = { with_servers: filter.withServers ? "true" : undefined };
    if (filter.hostnamePattern === undefined) return this.paginate(operation, "/os-hypervisors/detail", query, "hypervisors", parseHypervisor, (h) => h.id, opts);
    try {
      const res = await this.send({ operation, method: "GET", path: "/os-hypervisors/detail", query: { ...query, hypervisor_hostname_pattern: filter.hostnamePattern }, idempotent: true }, opts);
      return this.parseList(operation, res, "hypervisors", parseHypervisor);
    } catch (e: unknown) {
      if (e instanceof NovaNotFoundError) return [];
      throw e;
    }
  }

  getHypervisor(id: string, opts: CallOptions = {}): Promise<Hypervisor> {
    return this.read({ operation: "nova.getHypervisor", path: `/os-hypervisors/${enc(id)}` }, "hypervisor", parseHypervisor, opts);
  }

  /** Servers on the hypervisor named exactly `hostname` (the pattern search also matches longer names). */
  async serversOnHypervisor(hostname: string, opts: CallOptions = {}): Promise<ServerRef[]> {
    const hypervisors = await this.listHypervisors({ withServers: true, hostnamePattern: hostname }, opts);
    return hypervisors.filter((h) => h.hypervisorHostname === hostname).flatMap((h) => h.servers ?? []);
  }

  async listAggregates(opts: CallOptions = {}): Promise<Aggregate[]> {
    const res = await this.send({ operation: "nova.listAggregates", method: "GET", path: "/os-aggregates", idempotent: true }, opts);
    return this.parseList("nova.listAggregates", res, "aggregates", parseAggregate);
  }

  async listAvailabilityZones(opts: CallOptions = {}): Promise<AvailabilityZone[]> {
    const res = await this.send({ operation: "nova.listAvailabilityZones", method: "GET", path: "/os-availability-zone/detail", idempotent: true }, opts);
    return this.parseList("nova.listAvailabilityZones", res, "availabilityZoneInfo", parseAvailabilityZone);
  }

  // ---- servers ----

  /** `GET /servers/detail`, all pages. */
  async listServers(filter: ServerFilter = {}, opts: CallOptions = {}): Promise<Server[]> {
    const query: Record<string, QueryValue> = {
      all_tenants: filter.allProjects === false ? undefined : "1",
      host: filter.host,
      node: filter.node,
      tags: filter.tags?.length ? filter.tags.join(",") : undefined,
      "tags-any": filter.tagsAny?.length ? filter.tagsAny.join(",") : undefined,
      status: filter.status,
      "changes-since": filter.changesSince,
    };
    const servers = await this.paginate("nova.listServers", "/servers/detail", query, "servers", parseServer, (s) => s.id, opts);
    const wanted = Object.entries(filter.metadata ?? {});
    return wanted.length === 0 ? servers : servers.filter((s) => wanted.every(([k, v]) => s.metadata[k] === v));
  }

  getServer(serverId: string, opts: CallOptions = {}): Promise<Server> {
    return this.read({ operation: "nova.getServer", path: `/servers/${enc(serverId)}` }, "server", parseServer, opts);
  }

  startServer(serverId: string, opts: CallOptions = {}): Promise<string | undefined> {
    return this.action("nova.startServer", serverId, { "os-start": null }, opts);
  }

  stopServer(serverId: string, opts: CallOptions = {}): Promise<string | undefined> {
    return this.action("nova.stopServer", serverId, { "os-stop": null }, opts);
  }

  hardRebootServer(serverId: string, opts: CallOptions = {}): Promise<string | undefined> {
    return this.action("nova.hardRebootServer", serverId, { reboot: { type: "HARD" } }, opts);
  }

  /** Locks the server; the reason is sent from 2.73 on (dropped before). */
  async lockServer(serverId: string, reason?: string, opts: CallOptions = {}): Promise<string | undefined> {
    const { version } = await this.negotiate(opts);
    const body = reason !== undefined && atLeast(version, "2.73") ? { lock: { locked_reason: reason } } : { lock: null };
    return this.action("nova.lockServer", serverId, body, opts);
  }

  unlockServer(serverId: string, opts: CallOptions = {}): Promise<string | undefined> {
    return this.action("nova.unlockServer", serverId, { unlock: null }, opts);
  }

  /** A server action: sent once, never retried here. Returns Nova's request id. */
  private async action(operation: string, serverId: string, body: Record<string, unknown>, opts: CallOptions, microversion?: Microversion): Promise<string | undefined> {
    const res = await this.send({ operation, method: "POST", path: `/servers/${enc(serverId)}/action`, body, idempotent: false, ...(microversion ? { microversion } : {}) }, opts);
    this.log.info({ operation, serverId, requestId: res.requestId, status: res.status }, "server action accepted");
    return res.requestId;
  }

  async listServerTags(serverId: string, opts: CallOptions = {}): Promise<string[]> {
    const res = await this.send({ operation: "nova.listServerTags", method: "GET", path: `/servers/${enc(serverId)}/tags`, idempotent: true }, opts);
    return this.parseOne("nova.listServerTags", res, "tags", (v) => stringArray(v));
  }

  /** `PUT /servers/{id}/tags/{tag}`: 201 or 204, idempotent. */
  async addServerTag(serverId: string, tag: string, opts: CallOptions = {}): Promise<void> {
    await this.send({ operation: "nova.addServerTag", method: "PUT", path: `/servers/${enc(serverId)}/tags/${enc(tag)}`, idempotent: true }, opts);
  }

  /** `DELETE /servers/{id}/tags/{tag}`; 404 when the tag is absent. Not retried (a repeat would 404). */
  async removeServerTag(serverId: string, tag: string, opts: CallOptions = {}): Promise<void> {
    await this.send({ operation: "nova.removeServerTag", method: "DELETE", path: `/servers/${enc(serverId)}/tags/${enc(tag)}`, idempotent: false }, opts);
  }

  async getServerMetadata(serverId: string, opts: CallOptions = {}): Promise<Record<string, string>> {
    const res = await this.send({ operation: "nova.getServerMetadata", method: "GET", path: `/servers/${enc(serverId)}/metadata`, idempotent: true }, opts);
    return this.parseOne("nova.getServerMetadata", res, "metadata", (v) => stringMap(v));
  }

  /** `PUT /servers/{id}/metadata/{key}`: idempotent. */
  async setServerMetadataItem(serverId: string, key: string, value: string, opts: CallOptions = {}): Promise<void> {
    await this.send({ operation: "nova.setServerMetadataItem", method: "PUT", path: `/servers/${enc(serverId)}/metadata/${enc(key)}`, body: { meta: { [key]: value } }, idempotent: true }, opts);
  }

  /** `POST /servers/{id}/metadata` merges keys; setting the same values twice is harmless, so it is retried. */
  async updateServerMetadata(serverId: string, metadata: Record<string, string>, opts: CallOptions = {}): Promise<Record<string, string>> {
    const res = await this.send({ operation: "nova.updateServerMetadata", method: "POST", path: `/servers/${enc(serverId)}/metadata`, body: { metadata }, idempotent: true }, opts);
    return this.parseOne("nova.updateServerMetadata", res, "metadata", (v) => stringMap(v));
  }

  // ---- evacuate ----

  /**
   * Evacuates a server whose host is down (fenced and forced down first, or Nova answers
   * ServiceStillUp). Sent once: on NovaError with `outcomeUnknown`, look for an `evacuate`
   * instance action / an `evacuation` migration before trying again.
   */
  async evacuateServer(serverId: string, options: EvacuateOptions = {}, opts: CallOptions = {}): Promise<EvacuateResult> {
    const operation = "nova.evacuateServer";
    const { version: session } = await this.negotiate(opts);
    const version = evacuateMicroversion(session, options);
    const body = buildEvacuateBody(version, options);
    const res = await this.send({ operation, method: "POST", path: `/servers/${enc(serverId)}/action`, body, idempotent: false, microversion: version }, opts);
    const result: EvacuateResult = { serverId, requestId: res.requestId, microversion: formatMicroversion(version), landsStopped: evacuationLandsStopped(version) };
    if (isRecord(res.body) && typeof res.body.adminPass === "string") result.adminPass = new SecretValue(res.body.adminPass);
    this.log.info({ operation, serverId, targetHost: options.host, requestId: res.requestId, microversion: result.microversion, landsStopped: result.landsStopped }, "evacuation accepted");
    return result;
  }

  // ---- migrations and instance actions ----

  /** `GET /os-migrations` (paginated from 2.59). */
  async listMigrations(filter: MigrationFilter = {}, opts: CallOptions = {}): Promise<Migration[]> {
    const operation = "nova.listMigrations";
    const { version } = await this.negotiate(opts);
    const query: Record<string, QueryValue> = {
      migration_type: filter.migrationType,
      instance_uuid: filter.instanceUuid,
      host: filter.host,
      status: filter.status,
      "changes-since": filter.changesSince,
      user_id: atLeast(version, "2.80") ? filter.userId : undefined,
      project_id: atLeast(version, "2.80") ? filter.projectId : undefined,
    };
    if (atLeast(version, "2.59")) return this.paginate(operation, "/os-migrations", query, "migrations", parseMigration, (m) => m.uuid ?? m.id, opts);
    const res = await this.send({ operation, method: "GET", path: "/os-migrations", query, idempotent: true }, opts);
    return this.parseList(operation, res, "migrations", parseMigration);
  }

  /** `GET /servers/{id}/os-instance-actions`, newest first (paginated from 2.58). */
  async listInstanceActions(serverId: string, filter: { changesSince?: string } = {}, opts: CallOptions = {}): Promise<InstanceAction[]> {
    const operation = "nova.listInstanceActions";
    const path = `/servers/${enc(serverId)}/os-instance-actions`;
    const { version } = await this.negotiate(opts);
    const query = { "changes-since": filter.changesSince };
    if (atLeast(version, "2.58")) return this.paginate(operation, path, query, "instanceActions", parseInstanceAction, (a) => a.requestId, opts);
    const res = await this.send({ operation, method: "GET", path, query, idempotent: true }, opts);
    return this.parseList(operation, res, "instanceActions", parseInstanceAction);
  }

  getInstanceAction(serverId: string, requestId: string, opts: CallOptions = {}): Promise<InstanceAction> {
    return this.read({ operation: "nova.getInstanceAction", path: `/servers/${enc(serverId)}/os-instance-actions/${enc(requestId)}` }, "instanceAction", parseInstanceAction, opts);
  }

  /** Actions named `action` (e.g. "evacuate") started at or after `since`: did a POST that timed out go through? */
  async findInstanceActions(serverId: string, action: string, since: Date, opts: CallOptions = {}): Promise<InstanceAction[]> {
    const actions = await this.listInstanceActions(serverId, {}, opts);
    return actions.filter((a) => a.action === action && Date.parse(withZone(a.startTime)) >= since.getTime() - 1000);
  }

  // ---- server groups, flavors, limits ----

  /** `GET /os-server-groups?all_projects=True`, paged with limit/offset. */
  async listServerGroups(filter: { allProjects?: boolean } = {}, opts: CallOptions = {}): Promise<ServerGroup[]> {
    const operation = "nova.listServerGroups";
    const all: ServerGroup[] = [];
    for (let offset = 0; ; offset += this.pageSize) {
      const query = { all_projects: filter.allProjects === false ? undefined : "True", limit: this.pageSize, offset };
      const res = await this.send({ operation, method: "GET", path: "/os-server-groups", query, idempotent: true }, opts);
      const page = this.parseList(operation, res, "server_groups", parseServerGroup);
      all.push(...page);
      if (page.length < this.pageSize) return all;
    }
  }

  getServerGroup(id: string, opts: CallOptions = {}): Promise<ServerGroup> {
    return this.read({ operation: "nova.getServerGroup", path: `/os-server-groups/${enc(id)}` }, "server_group", parseServerGroup, opts);
  }

  /** `GET /flavors/detail`; `is_public=None` lists private flavors too (admin). */
  listFlavors(filter: { includePrivate?: boolean } = {}, opts: CallOptions = {}): Promise<Flavor[]> {
    const query = { is_public: filter.includePrivate === false ? undefined : "None" };
    return this.paginate("nova.listFlavors", "/flavors/detail", query, "flavors", parseFlavor, (f) => f.id, opts);
  }

  getFlavor(id: string, opts: CallOptions = {}): Promise<Flavor> {
    return this.read({ operation: "nova.getFlavor", path: `/flavors/${enc(id)}` }, "flavor", parseFlavor, opts);
  }

  /** `GET /limits` absolute limits, of the token's project or (admin) of `projectId`. */
  async getAbsoluteLimits(filter: { projectId?: string } = {}, opts: CallOptions = {}): Promise<AbsoluteLimits> {
    const res = await this.send({ operation: "nova.getLimits", method: "GET", path: "/limits", query: { tenant_id: filter.projectId }, idempotent: true }, opts);
    try {
      return parseAbsoluteLimits(res.body);
    } catch (e: unknown) {
      throw this.http.invalid("nova.getLimits", e, res.status, res.requestId);
    }
  }
}

/**
 * Where the version document lives: the compute endpoint cut after its `/v2.1` (or `/v2`)
 * segment (catalogs may append the project id), with a trailing slash.
 */
export function computeVersionUrl(endpoint: string): string {
  const u = new URL(endpoint);
  const m = /^(.*?\/v2(?:\.1)?)(?:\/|$)/.exec(u.pathname);
  u.pathname = `${m?.[1] ?? u.pathname.replace(/\/+$/, "")}/`;
  u.search = "";
  return u.toString();
}

function hasNextLink(body: unknown, key: string): boolean {
  if (!isRecord(body)) return false;
  const links = body[key];
  return Array.isArray(links) && links.some((l) => isRecord(l) && l.rel === "next");
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** Nova timestamps often lack a zone; they are UTC. */
function withZone(ts: string): string {
  return /[zZ]|[+-]\d\d:?\d\d$/.test(ts) ? ts : `${ts}Z`;
}
