import { atLeast, type Microversion } from "./microversion.js";
import type { NovaModel } from "./nova-model.js";
import type { Aggregate, ComputeHost, Flavor, InstanceAction, Migration, NovaService, Server, ServerGroup } from "./nova-types.js";
import { serverStatus } from "./server-status.js";
import { serviceRunning } from "./service-state.js";

type Json = Record<string, unknown>;

/** Nova's oslo timestamp without zone: 2026-01-01T00:00:00.000000. */
export function novaTime(d: Date | null): string | null {
  return d ? `${d.toISOString().slice(0, 19)}.${String(d.getUTCMilliseconds() * 1000).padStart(6, "0")}` : null;
}

/** The ISO 8601 form servers use: 2026-01-01T00:00:00Z. */
export function isoZ(d: Date | null): string | null {
  return d ? `${d.toISOString().slice(0, 19)}Z` : null;
}

export function serviceView(model: NovaModel, s: NovaService, v: Microversion): Json {
  const out: Json = {
    id: atLeast(v, 53) ? s.uuid : s.intId,
    binary: s.binary,
    disabled_reason: s.disabledReason,
    host: s.host,
    state: model.serviceIsUp(s) ? "up" : "down",
    status: s.disabled ? "disabled" : "enabled",
    updated_at: novaTime(model.serviceUpdatedAt(s)),
    zone: model.serviceZone(s),
  };
  if (atLeast(v, 11)) out.forced_down = s.forcedDown;
  return out;
}

export interface HypervisorViewOptions {
  detail: boolean;
  withServers: boolean;
}

export function hypervisorView(model: NovaModel, h: ComputeHost, v: Microversion, o: HypervisorViewOptions): Json {
  const svc = h.service;
  const out: Json = {
    id: atLeast(v, 53) ? h.hypervisorUuid : h.hypervisorIntId,
    hypervisor_hostname: h.name,
    state: model.serviceIsUp(svc) ? "up" : "down",
    status: svc.disabled ? "disabled" : "enabled",
  };
  if (o.withServers) {
    const servers = model.serversOnHost(h.name).map((s) => ({ name: instanceName(s), uuid: s.id }));
    if (servers.length > 0 || atLeast(v, 75)) out.servers = servers;
  }
  if (!o.detail) return out;
  Object.assign(out, {
    hypervisor_type: "fake",
    hypervisor_version: 1000,
    host_ip: h.hostIp,
    service: { host: h.name, id: atLeast(v, 53) ? svc.uuid : svc.intId, disabled_reason: svc.disabledReason },
  });
  if (!atLeast(v, 88)) {
    const ram = h.used.ramMb + model.knobs.reservedHostMemoryMb;
    Object.assign(out, {
      vcpus: h.vcpus,
      memory_mb: h.memoryMb,
      local_gb: h.localGb,
      vcpus_used: h.used.vcpus,
      memory_mb_used: ram,
      local_gb_used: h.used.diskGb,
      free_ram_mb: h.memoryMb - ram,
      free_disk_gb: h.localGb - h.used.diskGb,
      current_workload: 0,
      running_vms: h.servers.size + h.staleGuests.size,
      disk_available_least: h.localGb - h.used.diskGb,
      cpu_info: atLeast(v, 28) ? { arch: "x86_64", model: "Nehalem", vendor: "Intel", features: [], topology: { cores: 1, threads: 1, sockets: h.vcpus } } : "?",
    });
  } else {
    out.uptime = serviceRunning(svc) ? " 08:32:11 up 93 days, 18:25,  1 user,  load average: 0.20, 0.12, 0.14" : null;
  }
  return out;
}

function instanceName(s: Server): string {
  return `instance-${s.seq.toString(16).padStart(8, "0")}`;
}

export interface ServerViewOptions {
  detail: boolean;
  isAdmin: boolean;
  baseUrl: string;
  /** GET /servers/{id} (server_groups appear only there, 2.71+). */
  show?: boolean;
}

function hostStatus(model: NovaModel, s: Server): string {
  const h = s.host ? model.hosts.get(s.host) : undefined;
  if (!h) return "";
  if (h.service.forcedDown) return "DOWN";
  if (h.service.disabled) return "MAINTENANCE";
  return model.serviceIsUp(h.service) ? "UP" : "UNKNOWN";
}

function flavorRef(s: Server, v: Microversion, baseUrl: string): Json {
  const f = s.flavor;
  if (!atLeast(v, 47)) return { id: f.id, links: [{ rel: "bookmark", href: `${baseUrl}/flavors/${f.id}` }] };
  const out: Json = { vcpus: f.vcpus, ram: f.ramMb, disk: f.diskGb, ephemeral: 0, swap: 0, original_name: f.name };
  out.extra_specs = { ...f.extraSpecs };
  return out;
}

export function serverView(model: NovaModel, s: Server, v: Microversion, o: ServerViewOptions): Json {
  const links = [
    { rel: "self", href: `${o.baseUrl}/v2.1/servers/${s.id}` },
    { rel: "bookmark", href: `${o.baseUrl}/servers/${s.id}` },
  ];
  if (!o.detail) return { id: s.id, name: s.name, links };
  const status = serverStatus(s.vmState, s.taskState);
  const out: Json = {
    id: s.id,
    name: s.name,
    status,
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: { ...s.metadata },
    hostId: s.host ? hostIdOf(s.host, s.projectId) : "",
    image: { id: s.imageId, links: [{ rel: "bookmark", href: `${o.baseUrl}/images/${s.imageId}` }] },
    flavor: flavorRef(s, v, o.baseUrl),
    created: isoZ(s.createdAt),
    updated: isoZ(s.updatedAt),
    addresses: {},
    accessIPv4: "",
    accessIPv6: "",
    links,
    "OS-DCF:diskConfig": "MANUAL",
    progress: 0,
    "OS-EXT-AZ:availability_zone": s.availabilityZone ?? "",
    config_drive: "",
    key_name: null,
    "OS-SRV-USG:launched_at": novaTime(s.launchedAt),
    "OS-SRV-USG:terminated_at": null,
    security_groups: [{ name: "default" }],
    "OS-EXT-STS:task_state": s.taskState,
    "OS-EXT-STS:vm_state": s.vmState,
    "OS-EXT-STS:power_state": s.powerState,
    "os-extended-volumes:volumes_attached": [],
  };
  if (o.isAdmin) {
    out["OS-EXT-SRV-ATTR:host"] = s.host;
    out["OS-EXT-SRV-ATTR:instance_name"] = instanceName(s);
    out["OS-EXT-SRV-ATTR:hypervisor_hostname"] = s.host;
  }
  if ((status === "ERROR" || status === "DELETED") && s.fault) {
    const f: Json = { code: s.fault.code, created: isoZ(s.fault.created), message: s.fault.message };
    if (o.isAdmin) f.details = s.fault.details;
    out.fault = f;
  }
  addVersionedServerFields(model, s, v, o, out);
  return out;
}

function addVersionedServerFields(model: NovaModel, s: Server, v: Microversion, o: ServerViewOptions, out: Json): void {
  if (atLeast(v, 9)) out.locked = s.locked;
  if (atLeast(v, 16)) out.host_status = hostStatus(model, s);
  if (atLeast(v, 19)) out.description = s.description;
  if (atLeast(v, 26)) out.tags = [...s.tags];
  if (atLeast(v, 63)) out.trusted_image_certificates = null;
  if (atLeast(v, 71) && o.show) out.server_groups = s.groupId ? [s.groupId] : [];
  if (atLeast(v, 73)) out.locked_reason = s.lockedReason;
  if (atLeast(v, 90)) out["OS-EXT-SRV-ATTR:hostname"] = s.name.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  if (atLeast(v, 96)) out.pinned_availability_zone = s.requestedAz;
}

/** Nova's hostId: an opaque hash of host and project. */
function hostIdOf(host: string, projectId: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  const text = `${projectId}${host}`;
  for (let i = 0; i < text.length; i++) {
    h1 = Math.imul(h1 ^ text.charCodeAt(i), 0x01000193);
    h2 = Math.imul(h2 ^ text.charCodeAt(i), 0x5bd1e995);
  }
  return ((h1 >>> 0).toString(16) + (h2 >>> 0).toString(16)).padEnd(56, "0");
}

export function flavorView(f: Flavor, v: Microversion, detail: boolean, baseUrl: string): Json {
  const out: Json = {
    id: f.id,
    name: f.name,
    links: [
      { rel: "self", href: `${baseUrl}/v2.1/flavors/${f.id}` },
      { rel: "bookmark", href: `${baseUrl}/flavors/${f.id}` },
    ],
  };
  if (atLeast(v, 55)) out.description = null;
  if (!detail) return out;
  Object.assign(out, {
    vcpus: f.vcpus,
    ram: f.ramMb,
    disk: f.diskGb,
    "OS-FLV-EXT-DATA:ephemeral": 0,
    swap: atLeast(v, 75) ? 0 : "",
    rxtx_factor: 1.0,
    "os-flavor-access:is_public": true,
    "OS-FLV-DISABLED:disabled": false,
  });
  if (atLeast(v, 61)) out.extra_specs = { ...f.extraSpecs };
  return out;
}

export function migrationView(m: Migration, v: Microversion): Json {
  const out: Json = {
    id: m.id,
    source_node: m.sourceNode,
    dest_node: m.destNode,
    source_compute: m.sourceCompute,
    dest_compute: m.destCompute,
    dest_host: m.destHost,
    status: m.status,
    instance_uuid: m.instanceUuid,
    old_instance_type_id: Number(m.flavorId) || 0,
    new_instance_type_id: Number(m.flavorId) || 0,
    created_at: novaTime(m.createdAt),
    updated_at: novaTime(m.updatedAt),
  };
  if (atLeast(v, 23)) out.migration_type = m.migrationType;
  if (atLeast(v, 59)) out.uuid = m.uuid;
  if (atLeast(v, 80)) {
    out.user_id = m.userId;
    out.project_id = m.projectId;
  }
  return out;
}

export function instanceActionView(a: InstanceAction, v: Microversion, withEvents: boolean, isAdmin: boolean): Json {
  const out: Json = {
    action: a.action,
    instance_uuid: a.instanceUuid,
    request_id: a.requestId,
    user_id: a.userId,
    project_id: a.projectId,
    start_time: novaTime(a.startTime),
    message: a.message,
  };
  if (atLeast(v, 58)) out.updated_at = novaTime(a.updatedAt);
  if (withEvents && (isAdmin || atLeast(v, 51))) {
    out.events = a.events.map((e) => {
      const ev: Json = { event: e.event, start_time: novaTime(e.startTime), finish_time: novaTime(e.finishTime), result: e.result };
      if (isAdmin) ev.traceback = e.traceback;
      if (atLeast(v, 62)) {
        ev.hostId = e.host ? hostIdOf(e.host, a.projectId ?? "") : "";
        if (isAdmin) ev.host = e.host ?? "";
      }
      if (atLeast(v, 84) && isAdmin) ev.details = e.result === "Error" ? e.traceback : null;
      return ev;
    });
  }
  return out;
}

export function serverGroupView(g: ServerGroup, v: Microversion): Json {
  const out: Json = { id: g.id, name: g.name, members: [...g.members] };
  if (atLeast(v, 64)) {
    out.policy = g.policy;
    out.rules = { ...g.rules };
  } else {
    out.policies = [g.policy];
    out.metadata = {};
  }
  if (atLeast(v, 13)) {
    out.project_id = g.projectId;
    out.user_id = g.userId;
  }
  return out;
}

export function aggregateView(a: Aggregate, v: Microversion): Json {
  const out: Json = {
    id: a.id,
    name: a.name,
    availability_zone: a.availabilityZone,
    hosts: [...a.hosts],
    metadata: { ...a.metadata },
    created_at: novaTime(a.createdAt),
    updated_at: novaTime(a.updatedAt),
    deleted: false,
    deleted_at: null,
  };
  if (atLeast(v, 41)) out.uuid = a.uuid;
  return out;
}
