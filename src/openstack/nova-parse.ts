import {
  asRecord,
  isRecord,
  nullableString,
  optBoolean,
  optNumber,
  optString,
  reqId,
  reqString,
  ResponseShapeError,
  stringArray,
  stringMap,
  type JsonRecord,
} from "./json-read.js";
import type {
  Aggregate,
  AvailabilityZone,
  ComputeService,
  ComputeVersion,
  Flavor,
  Hypervisor,
  InstanceAction,
  InstanceActionEvent,
  Migration,
  Server,
  ServerFlavor,
  ServerGroup,
} from "./nova-types.js";

type Setter<T> = <K extends keyof T>(k: K, v: T[K] | undefined) => void;

function setter<T extends object>(o: T): Setter<T> {
  return (k, v) => {
    if (v !== undefined) o[k] = v;
  };
}

export function parseService(v: unknown, path: string): ComputeService {
  const o = asRecord(v, path);
  const s: ComputeService = {
    id: reqId(o, "id", path),
    binary: reqString(o, "binary", path),
    host: reqString(o, "host", path),
    status: reqString(o, "status", path),
    state: reqString(o, "state", path),
    forcedDown: optBoolean(o, "forced_down") ?? false,
    disabledReason: nullableString(o, "disabled_reason"),
    updatedAt: nullableString(o, "updated_at"),
  };
  setter(s)("zone", optString(o, "zone"));
  return s;
}

export function parseHypervisor(v: unknown, path: string): Hypervisor {
  const o = asRecord(v, path);
  const h: Hypervisor = { id: reqId(o, "id", path), hypervisorHostname: reqString(o, "hypervisor_hostname", path) };
  const set = setter(h);
  set("state", optString(o, "state"));
  set("status", optString(o, "status"));
  set("hypervisorType", optString(o, "hypervisor_type"));
  set("hostIp", optString(o, "host_ip"));
  if (isRecord(o.service)) {
    set("serviceHost", optString(o.service, "host"));
    const sid = o.service.id;
    set("serviceId", typeof sid === "string" || typeof sid === "number" ? String(sid) : undefined);
  }
  if (Array.isArray(o.servers)) {
    h.servers = o.servers.flatMap((s) => (isRecord(s) && typeof s.uuid === "string" ? [{ uuid: s.uuid, name: typeof s.name === "string" ? s.name : "" }] : []));
  }
  set("vcpus", optNumber(o, "vcpus"));
  set("vcpusUsed", optNumber(o, "vcpus_used"));
  set("memoryMb", optNumber(o, "memory_mb"));
  set("memoryMbUsed", optNumber(o, "memory_mb_used"));
  set("localGb", optNumber(o, "local_gb"));
  set("localGbUsed", optNumber(o, "local_gb_used"));
  set("runningVms", optNumber(o, "running_vms"));
  return h;
}

export function parseAggregate(v: unknown, path: string): Aggregate {
  const o = asRecord(v, path);
  const a: Aggregate = {
    id: reqId(o, "id", path),
    name: reqString(o, "name", path),
    availabilityZone: nullableString(o, "availability_zone"),
    hosts: stringArray(o.hosts),
    metadata: stringMap(o.metadata),
  };
  setter(a)("uuid", optString(o, "uuid"));
  return a;
}

export function parseAvailabilityZone(v: unknown, path: string): AvailabilityZone {
  const o = asRecord(v, path);
  const state = isRecord(o.zoneState) ? o.zoneState : {};
  const hosts = isRecord(o.hosts) ? o.hosts : {};
  return {
    name: reqString(o, "zoneName", path),
    available: state.available === true,
    hosts: Object.entries(hosts).map(([name, services]) => ({ name, services: parseAzServices(services) })),
  };
}

function parseAzServices(v: unknown): AvailabilityZone["hosts"][number]["services"] {
  const out: AvailabilityZone["hosts"][number]["services"] = {};
  if (!isRecord(v)) return out;
  for (const [binary, s] of Object.entries(v)) {
    if (!isRecord(s)) continue;
    out[binary] = { available: s.available === true, active: s.active === true, updatedAt: nullableString(s, "updated_at") };
  }
  return out;
}

export function parseServer(v: unknown, path: string): Server {
  const o = asRecord(v, path);
  const s: Server = {
    id: reqString(o, "id", path),
    name: typeof o.name === "string" ? o.name : "",
    status: reqString(o, "status", path),
    taskState: nullableString(o, "OS-EXT-STS:task_state"),
    projectId: reqString(o, "tenant_id", path),
    metadata: stringMap(o.metadata),
    tags: stringArray(o.tags),
    flavor: parseServerFlavor(o.flavor),
  };
  const set = setter(s);
  set("vmState", optString(o, "OS-EXT-STS:vm_state"));
  set("powerState", optNumber(o, "OS-EXT-STS:power_state"));
  if ("OS-EXT-SRV-ATTR:host" in o) s.host = nullableString(o, "OS-EXT-SRV-ATTR:host");
  if ("OS-EXT-SRV-ATTR:hypervisor_hostname" in o) s.hypervisorHostname = nullableString(o, "OS-EXT-SRV-ATTR:hypervisor_hostname");
  set("availabilityZone", optString(o, "OS-EXT-AZ:availability_zone"));
  set("hostStatus", optString(o, "host_status"));
  set("userId", optString(o, "user_id"));
  set("locked", optBoolean(o, "locked"));
  if ("locked_reason" in o) s.lockedReason = nullableString(o, "locked_reason");
  if (Array.isArray(o.server_groups)) s.serverGroups = stringArray(o.server_groups);
  if (o.image === "" || o.image === null) s.imageId = "";
  else if (isRecord(o.image)) set("imageId", optString(o.image, "id"));
  const volumes = o["os-extended-volumes:volumes_attached"];
  if (Array.isArray(volumes)) s.volumesAttached = volumes.flatMap((x) => (isRecord(x) && typeof x.id === "string" ? [x.id] : []));
  set("created", optString(o, "created"));
  set("updated", optString(o, "updated"));
  if (isRecord(o.fault) && typeof o.fault.message === "string") s.fault = { message: o.fault.message, ...(typeof o.fault.code === "number" ? { code: o.fault.code } : {}) };
  return s;
}

/** 2.47+ embeds the flavor; older microversions only give its id (not used by vmkeeper). */
function parseServerFlavor(v: unknown): ServerFlavor {
  const f: ServerFlavor = {};
  if (!isRecord(v)) return f;
  const set = setter(f);
  set("id", optString(v, "id"));
  set("originalName", optString(v, "original_name"));
  set("vcpus", optNumber(v, "vcpus"));
  set("ramMb", optNumber(v, "ram"));
  set("diskGb", optNumber(v, "disk"));
  set("ephemeralGb", optNumber(v, "ephemeral"));
  set("swapMb", optNumber(v, "swap"));
  if (isRecord(v.extra_specs)) f.extraSpecs = stringMap(v.extra_specs);
  return f;
}

export function parseMigration(v: unknown, path: string): Migration {
  const o = asRecord(v, path);
  const m: Migration = {
    id: reqId(o, "id", path),
    status: reqString(o, "status", path),
    instanceUuid: reqString(o, "instance_uuid", path),
    sourceCompute: nullableString(o, "source_compute"),
    destCompute: nullableString(o, "dest_compute"),
    sourceNode: nullableString(o, "source_node"),
    destNode: nullableString(o, "dest_node"),
    destHost: nullableString(o, "dest_host"),
    createdAt: reqString(o, "created_at", path),
    updatedAt: nullableString(o, "updated_at"),
  };
  const set = setter(m);
  set("uuid", optString(o, "uuid"));
  set("migrationType", optString(o, "migration_type"));
  set("userId", optString(o, "user_id"));
  set("projectId", optString(o, "project_id"));
  return m;
}

export function parseInstanceAction(v: unknown, path: string): InstanceAction {
  const o = asRecord(v, path);
  const a: InstanceAction = {
    action: reqString(o, "action", path),
    requestId: reqString(o, "request_id", path),
    instanceUuid: reqString(o, "instance_uuid", path),
    startTime: reqString(o, "start_time", path),
    message: nullableString(o, "message"),
  };
  const set = setter(a);
  set("updatedAt", optString(o, "updated_at"));
  // null (Nova's own actions, e.g. the power-state sync's stop) is kept apart from absent.
  if (o.user_id === null) a.userId = null;
  else set("userId", optString(o, "user_id"));
  if (o.project_id === null) a.projectId = null;
  else set("projectId", optString(o, "project_id"));
  if (Array.isArray(o.events)) a.events = o.events.map((e, i) => parseActionEvent(e, `${path}.events[${i}]`));
  return a;
}

function parseActionEvent(v: unknown, path: string): InstanceActionEvent {
  const o = asRecord(v, path);
  const e: InstanceActionEvent = {
    event: reqString(o, "event", path),
    startTime: nullableString(o, "start_time"),
    finishTime: nullableString(o, "finish_time"),
    result: nullableString(o, "result"),
  };
  setter(e)("host", optString(o, "host"));
  return e;
}

export function parseServerGroup(v: unknown, path: string): ServerGroup {
  const o = asRecord(v, path);
  const policy = optString(o, "policy") ?? stringArray(o.policies)[0];
  if (policy === undefined) throw new ResponseShapeError(`${path}.policy`, "a string (or policies[0])");
  const rules: ServerGroup["rules"] = {};
  if (isRecord(o.rules)) {
    for (const [k, r] of Object.entries(o.rules)) if (typeof r === "number" || typeof r === "string") rules[k] = r;
  }
  const g: ServerGroup = { id: reqString(o, "id", path), name: typeof o.name === "string" ? o.name : "", policy, rules, members: stringArray(o.members) };
  const set = setter(g);
  set("projectId", optString(o, "project_id"));
  set("userId", optString(o, "user_id"));
  return g;
}

export function parseFlavor(v: unknown, path: string): Flavor {
  const o = asRecord(v, path);
  const num = (k: string, fallback?: number): number => {
    const n = optNumber(o, k) ?? fallback;
    if (n === undefined) throw new ResponseShapeError(`${path}.${k}`, "a number");
    return n;
  };
  const f: Flavor = {
    id: reqId(o, "id", path),
    name: reqString(o, "name", path),
    vcpus: num("vcpus"),
    ramMb: num("ram"),
    diskGb: num("disk"),
    ephemeralGb: num("OS-FLV-EXT-DATA:ephemeral", 0),
    swapMb: optNumber(o, "swap") ?? 0, // Nova sends "" for no swap
    isPublic: optBoolean(o, "os-flavor-access:is_public") ?? true,
  };
  const set = setter(f);
  set("disabled", optBoolean(o, "OS-FLV-DISABLED:disabled"));
  if (isRecord(o.extra_specs)) f.extraSpecs = stringMap(o.extra_specs);
  return f;
}

export function parseAbsoluteLimits(body: unknown): Record<string, number> {
  const limits = asRecord(asRecord(body, "(body)").limits, "limits");
  const absolute = asRecord(limits.absolute, "limits.absolute");
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(absolute)) if (typeof v === "number") out[k] = v;
  return out;
}

/**
 * The version document of the compute endpoint: `{"version": {...}}` at /v2.1/, or
 * `{"versions": [...]}` at the root (the v2.1 entry, else the CURRENT one).
 */
export function parseVersionDocument(body: unknown): ComputeVersion {
  const doc = asRecord(body, "(body)");
  let v: JsonRecord | undefined = isRecord(doc.version) ? doc.version : undefined;
  if (!v && Array.isArray(doc.versions)) {
    const all = doc.versions.filter(isRecord);
    v = all.find((x) => x.id === "v2.1") ?? all.find((x) => x.status === "CURRENT");
  }
  if (!v) throw new ResponseShapeError("version", "an object (or versions[] with v2.1)");
  const out: ComputeVersion = { id: reqString(v, "id", "version"), min: optString(v, "min_version") ?? "", max: optString(v, "version") ?? "" };
  setter(out)("status", optString(v, "status"));
  return out;
}
