import { randomBytes } from "node:crypto";
import { isRecord, optString, type HttpReply, type Router } from "./http-util.js";
import { atLeast } from "./microversion.js";
import { badRequest, notFound } from "./nova-error.js";
import { checkKeys, nextLinks, queryBool, queryInt, queryList, rejectUnknownQuery, requireAdmin, type NovaRequest } from "./nova-request.js";
import type { ServerListQuery } from "./nova-model.js";
import { instanceActionView, serverView } from "./nova-views.js";

const SERVER_LIST_PARAMS = new Set([
  "all_tenants", "project_id", "tenant_id", "host", "node", "name", "status", "tags", "tags-any", "not-tags", "not-tags-any",
  "locked", "changes-since", "changes-before", "limit", "marker", "sort_key", "sort_dir", "ip", "ip6", "image", "flavor",
  "reservation_id", "launch_index", "user_id", "availability_zone", "deleted", "vm_state", "task_state", "power_state",
  "key_name", "config_drive", "access_ip_v4", "access_ip_v6", "created_at", "description", "display_name",
  "display_description", "hostname", "kernel_id", "ramdisk_id", "launched_at", "terminated_at", "progress",
  "root_device_name", "uuid", "terminated_at", "soft_deleted", "auto_disk_config", "block_device_mapping",
]);

function listQuery(r: NovaRequest): ServerListQuery {
  rejectUnknownQuery(r, SERVER_LIST_PARAMS);
  const allTenants = r.query.has("all_tenants") && r.query.get("all_tenants") !== "0" && r.query.get("all_tenants")?.toLowerCase() !== "false";
  if (allTenants) requireAdmin(r, "os_compute_api:servers:detail:get_all_tenants");
  const changes = r.query.get("changes-since");
  const since = changes !== null ? new Date(changes) : undefined;
  if (since && Number.isNaN(since.getTime())) throw badRequest(`Invalid filter field: changes-since.`);
  const tagsSupported = atLeast(r.version, 26);
  return {
    allTenants,
    projectId: r.query.get("project_id") ?? r.query.get("tenant_id") ?? undefined,
    host: r.query.get("host") ?? undefined,
    node: r.query.get("node") ?? undefined,
    name: r.query.get("name") ?? undefined,
    status: r.query.get("status") ?? undefined,
    tags: tagsSupported ? queryList(r, "tags") : undefined,
    tagsAny: tagsSupported ? queryList(r, "tags-any") : undefined,
    notTags: tagsSupported ? queryList(r, "not-tags") : undefined,
    notTagsAny: tagsSupported ? queryList(r, "not-tags-any") : undefined,
    locked: atLeast(r.version, 73) ? queryBool(r, "locked") : undefined,
    changesSince: since,
    limit: queryInt(r, "limit"),
    marker: r.query.get("marker") ?? undefined,
  };
}

function listServers(r: NovaRequest, detail: boolean): HttpReply {
  const page = r.nova.listServers(r.ctx, listQuery(r));
  const body: Record<string, unknown> = { servers: page.items.map((s) => serverView(r.nova, s, r.version, { detail, isAdmin: r.ctx.isAdmin, baseUrl: r.baseUrl })) };
  const links = nextLinks(r, page.next);
  if (links) body.servers_links = links;
  return { status: 200, body };
}

function showServer(r: NovaRequest, id: string): HttpReply {
  const s = r.nova.getServer(r.ctx, id);
  return { status: 200, body: { server: serverView(r.nova, s, r.version, { detail: true, isAdmin: r.ctx.isAdmin, baseUrl: r.baseUrl, show: true }) } };
}

function createServer(r: NovaRequest): HttpReply {
  const b = isRecord(r.body) ? r.body : {};
  const server = b.server;
  if (!isRecord(server)) throw badRequest("Invalid input for field/attribute server. 'server' is a required property");
  if (atLeast(r.version, 37) && server.networks === undefined) throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(server)}. 'networks' is a required property`);
  const name = optString(server, "name");
  if (!name) throw badRequest("Invalid input for field/attribute name.");
  const flavorRef = optString(server, "flavorRef") ?? (typeof server.flavorRef === "number" ? String(server.flavorRef) : "");
  const host = optString(server, "host");
  if (host !== undefined && !atLeast(r.version, 74)) throw badRequest(`Invalid input for field/attribute server. Additional properties are not allowed ('host' was unexpected)`);
  if (host !== undefined) requireAdmin(r, "compute:servers:create:requested_destination");
  const hints = isRecord(b["os:scheduler_hints"]) ? b["os:scheduler_hints"] : {};
  const groupId = optString(hints, "group");
  if (groupId) r.nova.getServerGroup(r.ctx, groupId);
  const count = typeof server.min_count === "number" ? server.min_count : 1;
  const metadata = isRecord(server.metadata) ? (Object.fromEntries(Object.entries(server.metadata).map(([k, v]) => [k, String(v)])) as Record<string, string>) : undefined;
  const tags = atLeast(r.version, 52) && Array.isArray(server.tags) ? server.tags.map(String) : undefined;
  const created = r.nova.createServers(r.ctx, { name, flavorId: flavorRef, host, groupId, count, metadata, tags, availabilityZone: optString(server, "availability_zone") });
  const first = created[0];
  if (!first) throw badRequest("min_count must be at least 1");
  const view = serverView(r.nova, first, r.version, { detail: false, isAdmin: r.ctx.isAdmin, baseUrl: r.baseUrl });
  return { status: 202, body: { server: { ...view, "OS-DCF:diskConfig": "MANUAL", security_groups: [{ name: "default" }], adminPass: randomBytes(9).toString("base64url") } } };
}

function evacuate(r: NovaRequest, id: string, arg: unknown): HttpReply {
  requireAdmin(r, "os_compute_api:os-evacuate");
  const v = r.version;
  const body = isRecord(arg) ? arg : {};
  if (arg !== null && arg !== undefined && !isRecord(arg)) throw badRequest("Invalid input for field/attribute evacuate.");
  const allowed = ["host", "adminPass"];
  if (!atLeast(v, 14)) allowed.push("onSharedStorage");
  if (atLeast(v, 29) && !atLeast(v, 68)) allowed.push("force");
  checkKeys("evacuate", body, allowed, atLeast(v, 14) ? [] : ["onSharedStorage"]);
  const host = body.host;
  if (host !== undefined && (typeof host !== "string" || host.length === 0 || host.length > 255)) throw badRequest(`Invalid input for field/attribute host. Value: ${JSON.stringify(host)}.`);
  if (body.force !== undefined && typeof body.force !== "boolean") throw badRequest("Invalid input for field/attribute force.");
  if (body.force === true && host === undefined) throw badRequest("Forced evacuation requires a host.");
  r.nova.evacuate(r.ctx, id, { host, force: body.force === true, landStopped: atLeast(v, 95) });
  if (!atLeast(v, 14)) return { status: 200, body: { adminPass: typeof body.adminPass === "string" ? body.adminPass : randomBytes(9).toString("base64url") } };
  return { status: 200 };
}

function lockServer(r: NovaRequest, id: string, arg: unknown): HttpReply {
  let reason: string | null = null;
  if (isRecord(arg)) {
    if (!atLeast(r.version, 73) && Object.keys(arg).length > 0) throw badRequest(`Invalid input for field/attribute lock. Value: ${JSON.stringify(arg)}. Additional properties are not allowed`);
    checkKeys("lock", arg, ["locked_reason"]);
    const lr = arg.locked_reason;
    if (lr !== undefined && (typeof lr !== "string" || lr.length > 255)) throw badRequest("Invalid input for field/attribute locked_reason.");
    reason = typeof lr === "string" ? lr : null;
  } else if (arg !== null && arg !== undefined) {
    throw badRequest("Invalid input for field/attribute lock.");
  }
  r.nova.lock(r.ctx, id, reason);
  return { status: 202 };
}

function serverAction(r: NovaRequest, id: string): HttpReply {
  if (!isRecord(r.body) || Object.keys(r.body).length !== 1) throw badRequest("Malformed request body");
  const [name, arg] = Object.entries(r.body)[0] ?? ["", undefined];
  switch (name) {
    case "evacuate":
      return evacuate(r, id, arg);
    case "os-start":
      r.nova.start(r.ctx, id);
      return { status: 202 };
    case "os-stop":
      r.nova.stop(r.ctx, id);
      return { status: 202 };
    case "reboot": {
      const type = isRecord(arg) ? arg.type : undefined;
      if (type !== "HARD" && type !== "SOFT") throw badRequest(`Invalid input for field/attribute type. Value: ${String(type)}. '${String(type)}' is not one of ['HARD', 'Hard', 'SOFT', 'Soft']`);
      r.nova.reboot(r.ctx, id, type);
      return { status: 202 };
    }
    case "lock":
      return lockServer(r, id, arg);
    case "unlock":
      r.nova.unlock(r.ctx, id);
      return { status: 202 };
    default:
      throw notFound(`There is no such action: ${name}`);
  }
}

function requireTags(r: NovaRequest): void {
  if (!atLeast(r.version, 26)) throw notFound("The resource could not be found.");
}

function addTagRoutes(router: Router<NovaRequest>): void {
  router.add("GET", "/servers/{id}/tags", (r, p) => {
    requireTags(r);
    return { status: 200, body: { tags: [...r.nova.getServer(r.ctx, p.id ?? "").tags] } };
  });
  router.add("PUT", "/servers/{id}/tags", (r, p) => {
    requireTags(r);
    const tags = isRecord(r.body) && Array.isArray(r.body.tags) ? r.body.tags : undefined;
    if (!tags || !tags.every((t): t is string => typeof t === "string")) throw badRequest("Invalid input for field/attribute tags.");
    return { status: 200, body: { tags: [...r.nova.setTags(r.ctx, p.id ?? "", tags, "replace").tags] } };
  });
  router.add("DELETE", "/servers/{id}/tags", (r, p) => {
    requireTags(r);
    r.nova.setTags(r.ctx, p.id ?? "", [], "clear");
    return { status: 204 };
  });
  router.add("GET", "/servers/{id}/tags/{tag}", (r, p) => {
    requireTags(r);
    if (!r.nova.getServer(r.ctx, p.id ?? "").tags.has(p.tag ?? "")) throw notFound(`Tag '${p.tag ?? ""}' not found for instance ${p.id ?? ""}`);
    return { status: 204 };
  });
  router.add("PUT", "/servers/{id}/tags/{tag}", (r, p) => {
    requireTags(r);
    const had = r.nova.getServer(r.ctx, p.id ?? "").tags.has(p.tag ?? "");
    r.nova.setTags(r.ctx, p.id ?? "", [p.tag ?? ""], "add");
    return { status: had ? 204 : 201, headers: { location: `${r.baseUrl}/v2.1/servers/${p.id ?? ""}/tags/${p.tag ?? ""}` } };
  });
  router.add("DELETE", "/servers/{id}/tags/{tag}", (r, p) => {
    requireTags(r);
    r.nova.setTags(r.ctx, p.id ?? "", [p.tag ?? ""], "remove");
    return { status: 204 };
  });
}

function metadataBody(body: unknown, key: "metadata" | "meta"): Record<string, string> {
  const m = isRecord(body) ? body[key] : undefined;
  if (!isRecord(m)) throw badRequest(`Malformed request body. ${key} must be object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== "string") throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(m)}.`);
    out[k] = v;
  }
  return out;
}

function addMetadataRoutes(router: Router<NovaRequest>): void {
  router.add("GET", "/servers/{id}/metadata", (r, p) => ({ status: 200, body: { metadata: { ...r.nova.getServer(r.ctx, p.id ?? "").metadata } } }));
  router.add("POST", "/servers/{id}/metadata", (r, p) => ({ status: 200, body: { metadata: { ...r.nova.setMetadata(r.ctx, p.id ?? "", metadataBody(r.body, "metadata"), "merge").metadata } } }));
  router.add("PUT", "/servers/{id}/metadata", (r, p) => ({ status: 200, body: { metadata: { ...r.nova.setMetadata(r.ctx, p.id ?? "", metadataBody(r.body, "metadata"), "replace").metadata } } }));
  router.add("GET", "/servers/{id}/metadata/{key}", (r, p) => {
    const md = r.nova.getServer(r.ctx, p.id ?? "").metadata;
    const key = p.key ?? "";
    if (!(key in md)) throw notFound("Metadata item was not found");
    return { status: 200, body: { meta: { [key]: md[key] } } };
  });
  router.add("PUT", "/servers/{id}/metadata/{key}", (r, p) => {
    const meta = metadataBody(r.body, "meta");
    const key = p.key ?? "";
    if (Object.keys(meta).length !== 1 || !(key in meta)) throw badRequest("Request body and URI mismatch");
    r.nova.setMetadata(r.ctx, p.id ?? "", meta, "merge");
    return { status: 200, body: { meta } };
  });
  router.add("DELETE", "/servers/{id}/metadata/{key}", (r, p) => {
    r.nova.setMetadata(r.ctx, p.id ?? "", { [p.key ?? ""]: "" }, "delete");
    return { status: 204 };
  });
}

/** Servers, their actions, tags, metadata and instance actions. */
export function addServerRoutes(router: Router<NovaRequest>): void {
  router.add("GET", "/servers", (r) => listServers(r, false));
  router.add("GET", "/servers/detail", (r) => listServers(r, true));
  router.add("POST", "/servers", (r) => createServer(r));
  router.add("GET", "/servers/{id}", (r, p) => showServer(r, p.id ?? ""));
  router.add("DELETE", "/servers/{id}", (r, p) => {
    r.nova.deleteServer(r.ctx, p.id ?? "");
    return { status: 204 };
  });
  router.add("POST", "/servers/{id}/action", (r, p) => serverAction(r, p.id ?? ""));
  router.add("GET", "/servers/{id}/os-instance-actions", (r, p) => {
    const all = r.nova.listInstanceActions(r.ctx, p.id ?? "");
    let start = 0;
    const marker = atLeast(r.version, 58) ? r.query.get("marker") : null;
    if (marker !== null) {
      start = all.findIndex((a) => a.requestId === marker) + 1;
      if (start === 0) throw badRequest(`Marker ${marker} could not be found.`);
    }
    const limit = atLeast(r.version, 58) ? r.nova.effectiveLimit(queryInt(r, "limit")) : all.length;
    const items = all.slice(start, start + limit);
    const body: Record<string, unknown> = { instanceActions: items.map((a) => instanceActionView(a, r.version, false, r.ctx.isAdmin)) };
    const last = items[items.length - 1];
    const links = atLeast(r.version, 58) && last && items.length === limit ? nextLinks(r, last.requestId) : undefined;
    if (links) body.links = links;
    return { status: 200, body };
  });
  router.add("GET", "/servers/{id}/os-instance-actions/{req}", (r, p) => ({
    status: 200,
    body: { instanceAction: instanceActionView(r.nova.getInstanceAction(r.ctx, p.id ?? "", p.req ?? ""), r.version, true, r.ctx.isAdmin) },
  }));
  addTagRoutes(router);
  addMetadataRoutes(router);
}
