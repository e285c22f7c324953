import { isRecord, optString, Router, type HttpReply } from "./http-util.js";
import { atLeast, formatMicroversion, MIN_MICROVERSION, type Microversion } from "./microversion.js";
import { badRequest, notFound } from "./nova-error.js";
import { checkKeys, nextLinks, queryBool, queryInt, requireAdmin, type NovaRequest } from "./nova-request.js";
import type { GroupPolicy } from "./nova-types.js";
import { addServerRoutes } from "./nova-server-routes.js";
import { aggregateView, flavorView, hypervisorView, migrationView, novaTime, serverGroupView, serviceView } from "./nova-views.js";

/** Nova's version document entry for v2.1. */
export function computeVersionEntry(baseUrl: string, max: Microversion): Record<string, unknown> {
  return {
    id: "v2.1",
    status: "CURRENT",
    version: formatMicroversion(max),
    min_version: formatMicroversion(MIN_MICROVERSION),
    updated: "2013-07-23T11:33:21Z",
    links: [{ rel: "self", href: `${baseUrl}/v2.1/` }],
  };
}

/** GET / on the compute endpoint: every API version. */
export function computeVersions(baseUrl: string, max: Microversion): Record<string, unknown> {
  return {
    versions: [
      { id: "v2.0", status: "SUPPORTED", version: "", min_version: "", updated: "2011-01-21T11:33:21Z", links: [{ rel: "self", href: `${baseUrl}/v2/` }] },
      computeVersionEntry(baseUrl, max),
    ],
  };
}

function addServiceRoutes(router: Router<NovaRequest>): void {
  router.add("GET", "/os-services", (r) => {
    requireAdmin(r, "os_compute_api:os-services:list");
    const list = r.nova.listServices({ host: r.query.get("host") ?? undefined, binary: r.query.get("binary") ?? undefined });
    return { status: 200, body: { services: list.map((s) => serviceView(r.nova, s, r.version)) } };
  });
  router.add("PUT", "/os-services/{id}", (r, p) => {
    requireAdmin(r, "os_compute_api:os-services:update");
    const id = p.id ?? "";
    const body = isRecord(r.body) ? r.body : {};
    if (!atLeast(r.version, 53)) return legacyServiceUpdate(r, id, body);
    checkKeys("service", body, ["status", "disabled_reason", "forced_down"]);
    const status = body.status;
    if (status !== undefined && status !== "enabled" && status !== "disabled") throw badRequest(`Invalid input for field/attribute status. Value: ${JSON.stringify(status)}. ${JSON.stringify(status)} is not one of ['enabled', 'disabled']`);
    const reason = body.disabled_reason;
    if (reason !== undefined && (typeof reason !== "string" || reason.length === 0 || reason.length > 255)) throw badRequest("Invalid input for field/attribute disabled_reason.");
    const forced = body.forced_down;
    if (forced !== undefined && typeof forced !== "boolean") throw badRequest(`Invalid input for field/attribute forced_down. Value: ${JSON.stringify(forced)}.`);
    const svc = r.nova.updateService(id, { status, disabledReason: reason, forcedDown: forced });
    return { status: 200, body: { service: serviceView(r.nova, svc, r.version) } };
  });
  router.add("DELETE", "/os-services/{id}", (r, p) => {
    requireAdmin(r, "os_compute_api:os-services:delete");
    r.nova.deleteService(p.id ?? "");
    return { status: 204 };
  });
}

/** Before 2.53: PUT /os-services/enable | disable | disable-log-reason | force-down (2.11+). */
function legacyServiceUpdate(r: NovaRequest, action: string, body: Record<string, unknown>): HttpReply {
  const host = optString(body, "host");
  const binary = optString(body, "binary");
  const known = ["enable", "disable", "disable-log-reason", ...(atLeast(r.version, 11) ? ["force-down"] : [])];
  if (!known.includes(action)) throw notFound("Unknown action");
  if (!host || !binary) throw badRequest("Invalid input for field/attribute service. 'host' and 'binary' are required properties");
  if (action === "force-down") {
    if (typeof body.forced_down !== "boolean") throw badRequest("Missing forced_down field");
    r.nova.updateServiceByHost(host, binary, { forcedDown: body.forced_down });
    return { status: 200, body: { service: { host, binary, forced_down: body.forced_down } } };
  }
  const reason = optString(body, "disabled_reason");
  if (action === "disable-log-reason" && !reason) throw badRequest("Missing disabled reason field");
  const status = action === "enable" ? "enabled" : "disabled";
  r.nova.updateServiceByHost(host, binary, { status, disabledReason: action === "disable-log-reason" ? reason : undefined });
  return { status: 200, body: { service: { host, binary, status, ...(reason && action === "disable-log-reason" ? { disabled_reason: reason } : {}) } } };
}

function listHypervisors(r: NovaRequest, detail: boolean): HttpReply {
  requireAdmin(r, "os_compute_api:os-hypervisors:list");
  const v = r.version;
  const withServers = atLeast(v, 53) ? (queryBool(r, "with_servers") ?? false) : false;
  const pattern = atLeast(v, 53) ? (r.query.get("hypervisor_hostname_pattern") ?? undefined) : undefined;
  const paged = atLeast(v, 33);
  const limit = paged ? queryInt(r, "limit") : undefined;
  const marker = paged ? (r.query.get("marker") ?? undefined) : undefined;
  if (pattern !== undefined && (limit !== undefined || marker !== undefined)) throw badRequest("Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.");
  const page = r.nova.listHypervisors({ limit: paged && pattern === undefined ? limit : Number.POSITIVE_INFINITY, marker, pattern });
  const body: Record<string, unknown> = { hypervisors: page.items.map((h) => hypervisorView(r.nova, h, v, { detail, withServers })) };
  const links = paged && pattern === undefined ? nextLinks(r, page.next) : undefined;
  if (links) body.hypervisors_links = links;
  return { status: 200, body };
}

function addHypervisorRoutes(router: Router<NovaRequest>): void {
  router.add("GET", "/os-hypervisors", (r) => listHypervisors(r, false));
  router.add("GET", "/os-hypervisors/detail", (r) => listHypervisors(r, true));
  router.add("GET", "/os-hypervisors/{id}", (r, p) => {
    requireAdmin(r, "os_compute_api:os-hypervisors:show");
    const h = r.nova.findHypervisor(p.id ?? "");
    const withServers = atLeast(r.version, 53) ? (queryBool(r, "with_servers") ?? false) : false;
    return { status: 200, body: { hypervisor: hypervisorView(r.nova, h, r.version, { detail: true, withServers }) } };
  });
  router.add("GET", "/os-hypervisors/{pattern}/servers", (r, p) => {
    requireAdmin(r, "os_compute_api:os-hypervisors:servers");
    if (atLeast(r.version, 53)) throw notFound("The resource could not be found.");
    const hosts = r.nova.listHypervisors({ pattern: p.pattern ?? "", limit: Number.POSITIVE_INFINITY }).items;
    return { status: 200, body: { hypervisors: hosts.map((h) => hypervisorView(r.nova, h, r.version, { detail: false, withServers: true })) } };
  });
}

function addMigrationRoutes(router: Router<NovaRequest>): void {
  router.add("GET", "/os-migrations", (r) => {
    requireAdmin(r, "os_compute_api:os-migrations:index");
    const paged = atLeast(r.version, 59);
    const page = r.nova.listMigrations({
      host: r.query.get("host") ?? undefined,
      status: r.query.get("status") ?? undefined,
      sourceCompute: r.query.get("source_compute") ?? undefined,
      instanceUuid: r.query.get("instance_uuid") ?? undefined,
      migrationType: r.query.get("migration_type") ?? undefined,
      limit: paged ? queryInt(r, "limit") : Number.POSITIVE_INFINITY,
      marker: paged ? (r.query.get("marker") ?? undefined) : undefined,
    });
    const body: Record<string, unknown> = { migrations: page.items.map((m) => migrationView(m, r.version)) };
    const links = paged ? nextLinks(r, page.next) : undefined;
    if (links) body.migrations_links = links;
    return { status: 200, body };
  });
}

const POLICIES: readonly GroupPolicy[] = ["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"];

function createServerGroup(r: NovaRequest): HttpReply {
  const g = isRecord(r.body) ? r.body.server_group : undefined;
  if (!isRecord(g)) throw badRequest("Invalid input for field/attribute server_group. 'server_group' is a required property");
  const name = optString(g, "name");
  if (!name) throw badRequest("Invalid input for field/attribute name.");
  let policy: unknown;
  let rules: Record<string, unknown> = {};
  if (atLeast(r.version, 64)) {
    checkKeys("server_group", g, ["name", "policy", "rules"], ["name", "policy"]);
    policy = g.policy;
    rules = isRecord(g.rules) ? g.rules : {};
    checkKeys("rules", rules, ["max_server_per_host"]);
  } else {
    checkKeys("server_group", g, ["name", "policies"], ["name", "policies"]);
    const policies = Array.isArray(g.policies) ? g.policies : [];
    if (policies.length !== 1) throw badRequest("Invalid input for field/attribute policies.");
    policy = policies[0];
  }
  if (!POLICIES.includes(policy as GroupPolicy)) throw badRequest(`Invalid input for field/attribute policy. Value: ${String(policy)}.`);
  const max = rules.max_server_per_host;
  const parsedMax = typeof max === "string" && /^\d+$/.test(max) ? Number(max) : max;
  if (parsedMax !== undefined && typeof parsedMax !== "number") throw badRequest("Invalid input for field/attribute max_server_per_host.");
  const created = r.nova.createServerGroup(r.ctx, name, policy as GroupPolicy, parsedMax === undefined ? {} : { max_server_per_host: parsedMax });
  return { status: 200, body: { server_group: serverGroupView(created, r.version) } };
}

function addServerGroupRoutes(router: Router<NovaRequest>): void {
  router.add("GET", "/os-server-groups", (r) => {
    const all = r.nova.listServerGroups(r.ctx, queryBool(r, "all_projects") ?? false);
    const offset = queryInt(r, "offset") ?? 0;
    const limit = r.nova.effectiveLimit(queryInt(r, "limit"));
    return { status: 200, body: { server_groups: all.slice(offset, offset + limit).map((g) => serverGroupView(g, r.version)) } };
  });
  router.add("POST", "/os-server-groups", (r) => createServerGroup(r));
  router.add("GET", "/os-server-groups/{id}", (r, p) => ({ status: 200, body: { server_group: serverGroupView(r.nova.getServerGroup(r.ctx, p.id ?? ""), r.version) } }));
  router.add("DELETE", "/os-server-groups/{id}", (r, p) => {
    r.nova.deleteServerGroup(r.ctx, p.id ?? "");
    return { status: 204 };
  });
}

function aggregateId(p: Record<string, string>): number {
  const id = Number(p.id);
  if (!Number.isInteger(id)) throw badRequest(`Invalid aggregate id ${p.id ?? ""}`);
  return id;
}

function aggregateAction(r: NovaRequest, id: number): HttpReply {
  if (!isRecord(r.body) || Object.keys(r.body).length !== 1) throw badRequest("Malformed request body");
  const [name, arg] = Object.entries(r.body)[0] ?? ["", undefined];
  const a = isRecord(arg) ? arg : {};
  if (name === "add_host") return { status: 200, body: { aggregate: aggregateView(r.nova.aggregateAddHost(id, optString(a, "host") ?? ""), r.version) } };
  if (name === "remove_host") return { status: 200, body: { aggregate: aggregateView(r.nova.aggregateRemoveHost(id, optString(a, "host") ?? ""), r.version) } };
  if (name === "set_metadata") {
    const md = isRecord(a.metadata) ? a.metadata : {};
    const clean: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(md)) clean[k] = v === null ? null : typeof v === "string" ? v : JSON.stringify(v);
    return { status: 200, body: { aggregate: aggregateView(r.nova.aggregateSetMetadata(id, clean), r.version) } };
  }
  throw badRequest(`Invalid request body: unknown action ${name}`);
}

function addAggregateRoutes(router: Router<NovaRequest>): void {
  router.add("GET", "/os-aggregates", (r) => {
    requireAdmin(r, "os_compute_api:os-aggregates:index");
    r.nova.sync();
    return { status: 200, body: { aggregates: [...r.nova.aggregates.values()].map((a) => aggregateView(a, r.version)) } };
  });
  router.add("POST", "/os-aggregates", (r) => {
    requireAdmin(r, "os_compute_api:os-aggregates:create");
    const a = isRecord(r.body) && isRecord(r.body.aggregate) ? r.body.aggregate : undefined;
    const name = a ? optString(a, "name") : undefined;
    if (!a || !name) throw badRequest("Invalid input for field/attribute aggregate.");
    return { status: 200, body: { aggregate: aggregateView(r.nova.createAggregate(name, optString(a, "availability_zone") ?? null), r.version) } };
  });
  router.add("GET", "/os-aggregates/{id}", (r, p) => {
    requireAdmin(r, "os_compute_api:os-aggregates:show");
    return { status: 200, body: { aggregate: aggregateView(r.nova.requireAggregate(aggregateId(p)), r.version) } };
  });
  router.add("DELETE", "/os-aggregates/{id}", (r, p) => {
    requireAdmin(r, "os_compute_api:os-aggregates:delete");
    r.nova.deleteAggregate(aggregateId(p));
    return { status: 200 };
  });
  router.add("POST", "/os-aggregates/{id}/action", (r, p) => {
    requireAdmin(r, "os_compute_api:os-aggregates:add_host");
    return aggregateAction(r, aggregateId(p));
  });
}

function availabilityZones(r: NovaRequest, detail: boolean): HttpReply {
  if (detail) requireAdmin(r, "os_compute_api:os-availability-zone:detail");
  const zones = new Map<string, Record<string, Record<string, { available: boolean; active: boolean; updated_at: string | null }>>>();
  for (const svc of r.nova.listServices()) {
    const zone = r.nova.serviceZone(svc);
    if (!detail && zone === "internal") continue;
    let hosts = zones.get(zone);
    if (!hosts) zones.set(zone, (hosts = {}));
    hosts[svc.host] ??= {};
    hosts[svc.host] = { ...hosts[svc.host], [svc.binary]: { available: r.nova.serviceIsUp(svc), active: !svc.disabled, updated_at: novaTime(r.nova.serviceUpdatedAt(svc)) } };
  }
  const info = [...zones.entries()].map(([zoneName, hosts]) => {
    const available = zoneName === "internal" || Object.values(hosts).some((b) => Object.values(b).some((s) => s.available && s.active));
    return { zoneName, zoneState: { available }, hosts: detail ? hosts : null };
  });
  return { status: 200, body: { availabilityZoneInfo: info } };
}

function addCatalogRoutes(router: Router<NovaRequest>): void {
  router.add("GET", "/os-availability-zone", (r) => availabilityZones(r, false));
  router.add("GET", "/os-availability-zone/detail", (r) => availabilityZones(r, true));
  const flavors = (r: NovaRequest, detail: boolean): HttpReply => ({ status: 200, body: { flavors: [...r.nova.flavors.values()].map((f) => flavorView(f, r.version, detail, r.baseUrl)) } });
  router.add("GET", "/flavors", (r) => flavors(r, false));
  router.add("GET", "/flavors/detail", (r) => flavors(r, true));
  router.add("GET", "/flavors/{id}", (r, p) => {
    const f = r.nova.flavors.get(p.id ?? "");
    if (!f) throw notFound(`Flavor ${p.id ?? ""} could not be found.`);
    return { status: 200, body: { flavor: flavorView(f, r.version, true, r.baseUrl) } };
  });
  router.add("GET", "/limits", (r) => {
    const u = r.nova.projectUsage(r.ctx.projectId);
    const absolute: Record<string, number> = {
      maxServerMeta: 128, maxTotalInstances: -1, maxTotalCores: -1, maxTotalRAMSize: -1, maxServerGroups: -1, maxServerGroupMembers: -1,
      maxTotalKeypairs: 100, maxImageMeta: 128, maxPersonality: 5, maxPersonalitySize: 10240,
      totalInstancesUsed: u.instances, totalCoresUsed: u.cores, totalRAMUsed: u.ramMb, totalServerGroupsUsed: u.groups,
    };
    if (atLeast(r.version, 57)) for (const k of ["maxPersonality", "maxPersonalitySize"]) delete absolute[k];
    return { status: 200, body: { limits: { rate: [], absolute } } };
  });
}

/** Every compute route below /v2.1 that needs a token. */
export function novaRouter(): Router<NovaRequest> {
  const router = new Router<NovaRequest>();
  addServerRoutes(router);
  addServiceRoutes(router);
  addHypervisorRoutes(router);
  addMigrationRoutes(router);
  addServerGroupRoutes(router);
  addAggregateRoutes(router);
  addCatalogRoutes(router);
  return router;
}
