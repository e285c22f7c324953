import { HttpError, isRecord, Router, type HttpReply } from "./http-util.js";
import type { FaultRule } from "./fault-injector.js";
import type { HostSpec, ServerSpec, SimPowerState } from "./nova-model.js";
import type { SimCloud } from "./sim-cloud.js";

export type OutageMode = "none" | "refuse" | "503";

/** What the admin namespace needs from the HTTP server besides the model. */
export interface AdminRequest {
  cloud: SimCloud;
  body: unknown;
  setOutage: (mode: OutageMode, durationMs?: number) => void;
  outage: () => OutageMode;
}

function bodyList<T>(body: unknown, key: string): T[] {
  const list = isRecord(body) ? body[key] : undefined;
  if (!Array.isArray(list)) throw new HttpError(400, `expected {"${key}": [...]}`);
  return list as T[];
}

function state(cloud: SimCloud, outage: OutageMode): HttpReply {
  const nova = cloud.nova;
  nova.sync();
  let up = 0;
  for (const h of nova.hosts.values()) if (nova.serviceIsUp(h.service)) up++;
  return {
    status: 200,
    body: {
      hosts: nova.hosts.size,
      hostsUp: up,
      servers: nova.servers.size,
      serverGroups: nova.groups.size,
      pendingTasks: nova.pendingTasks(),
      activeTokens: cloud.keystone.activeTokenCount(),
      outage,
      faults: cloud.faults.rules(),
      now: cloud.clock.now().toISOString(),
    },
  };
}

const HOST_OPS: Record<string, (cloud: SimCloud, host: string) => void> = {
  kill: (c, h) => c.nova.killHost(h),
  restore: (c, h) => c.nova.restoreHost(h),
  "stop-compute": (c, h) => c.nova.stopCompute(h),
  "start-compute": (c, h) => c.nova.startCompute(h),
};

/** The /_sim namespace: set-up, host failures, fault knobs. Never faulted, never authenticated. */
export function adminRouter(): Router<AdminRequest> {
  const router = new Router<AdminRequest>();
  router.add("GET", "/_sim/state", (r) => state(r.cloud, r.outage()));
  router.add("GET", "/_sim/config", (r) => ({ status: 200, body: { nova: r.cloud.nova.knobs, identity: { tokenLifetimeSeconds: r.cloud.keystone.tokenLifetimeSeconds } } }));
  router.add("PUT", "/_sim/config", (r) => {
    const b = isRecord(r.body) ? r.body : {};
    if (isRecord(b.nova)) r.cloud.nova.setKnobs(b.nova);
    if (isRecord(b.identity) && typeof b.identity.tokenLifetimeSeconds === "number") r.cloud.keystone.tokenLifetimeSeconds = b.identity.tokenLifetimeSeconds;
    return { status: 200, body: { nova: r.cloud.nova.knobs, identity: { tokenLifetimeSeconds: r.cloud.keystone.tokenLifetimeSeconds } } };
  });
  router.add("POST", "/_sim/hosts", (r) => ({ status: 201, body: { hosts: r.cloud.nova.addHosts(bodyList<HostSpec>(r.body, "hosts")).map((h) => h.name) } }));
  router.add("GET", "/_sim/hosts/{name}", (r, p) => ({ status: 200, body: { host: r.cloud.nova.hostDebug(p.name ?? "") } }));
  router.add("POST", "/_sim/hosts/{name}/{op}", (r, p) => {
    const op = HOST_OPS[p.op ?? ""];
    if (!op) throw new HttpError(404, `unknown host operation ${p.op ?? ""}`);
    op(r.cloud, p.name ?? "");
    return { status: 200, body: { host: r.cloud.nova.hostDebug(p.name ?? "") } };
  });
  router.add("POST", "/_sim/servers", (r) => ({ status: 201, body: { servers: r.cloud.nova.addServers(bodyList<ServerSpec>(r.body, "servers")).map((s) => ({ id: s.id, name: s.name, host: s.host })) } }));
  router.add("POST", "/_sim/servers/{id}/power", (r, p) => {
    const st = isRecord(r.body) ? r.body.state : undefined;
    if (!["running", "shutdown", "crashed", "paused", "suspended"].includes(String(st))) throw new HttpError(400, "state must be running, shutdown, crashed, paused or suspended");
    const s = r.cloud.nova.setPowerState(p.id ?? "", st as SimPowerState);
    return { status: 200, body: { id: s.id, powerState: s.powerState } };
  });
  router.add("GET", "/_sim/faults", (r) => ({ status: 200, body: { rules: r.cloud.faults.rules() } }));
  router.add("PUT", "/_sim/faults", (r) => {
    r.cloud.faults.setRules(bodyList<FaultRule>(r.body, "rules"));
    return { status: 200, body: { rules: r.cloud.faults.rules() } };
  });
  router.add("DELETE", "/_sim/faults", (r) => {
    r.cloud.faults.setRules([]);
    return { status: 204 };
  });
  router.add("POST", "/_sim/tokens/expire", (r) => ({ status: 200, body: { expired: r.cloud.keystone.expireAllTokens() } }));
  router.add("PUT", "/_sim/outage", (r) => {
    const b = isRecord(r.body) ? r.body : {};
    const mode = b.mode;
    if (mode !== "refuse" && mode !== "503" && mode !== "none") throw new HttpError(400, "mode must be refuse, 503 or none");
    if (mode === "refuse" && typeof b.durationMs !== "number") throw new HttpError(400, "mode refuse needs durationMs (the admin API is unreachable meanwhile)");
    r.setOutage(mode, typeof b.durationMs === "number" ? b.durationMs : undefined);
    return { status: 200, body: { outage: mode } };
  });
  router.add("DELETE", "/_sim/outage", (r) => {
    r.setOutage("none");
    return { status: 204 };
  });
  return router;
}
