import { isRecord } from "../../src/openstack/json-read.js";
import { isKeystoneError } from "../../src/openstack/keystone-errors.js";
import type { AuthenticatedSession } from "../../src/openstack/keystone-session.js";
import type { HttpMethod } from "../../src/openstack/http-transport.js";
import type { NovaClient } from "../../src/openstack/nova-client.js";
import type { Server } from "../../src/openstack/nova-types.js";
import { sleep } from "./eventually.js";

/**
 * Test-only Nova calls that vmkeeper itself never makes (boot, delete, server groups,
 * aggregates), sent raw through a KeystoneSession so they work on any cloud the session
 * reaches: the real Nova lab or the simulator.
 */

export interface RawReply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface BootOptions {
  name: string;
  /** Pins the server (microversion 2.74, admin only). */
  host?: string;
  /** Scheduler hint `group`. */
  groupId?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Called between polls (e.g. to move a virtual clock). */
  tick?: (ms: number) => Promise<void>;
}

/** Microversion for the raw calls: boot on a host needs 2.74. */
const RAW_MICROVERSION = "2.74";

export class NovaFixtures {
  private refs: { flavorRef: string; imageRef: string } | undefined;

  constructor(
    private readonly session: AuthenticatedSession,
    private readonly nova: NovaClient,
    private readonly o: { flavorName: string; imageName: string; tick?: (ms: number) => Promise<void> },
  ) {}

  /** Any Nova call, answered as is (no typed errors). `path` is below the compute endpoint. */
  async raw(method: HttpMethod, path: string, opts: { body?: unknown; microversion?: string } = {}): Promise<RawReply> {
    const base = await this.session.endpoint("compute");
    const version = opts.microversion ?? RAW_MICROVERSION;
    const res = await this.session.request({
      operation: `fixture ${method} ${path}`,
      method,
      url: `${base}${path}`,
      headers: { "openstack-api-version": `compute ${version}`, "x-openstack-nova-api-version": version },
      timeoutMs: 60_000,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    let body: unknown = undefined;
    if (res.body.trim() !== "") {
      try {
        body = JSON.parse(res.body) as unknown;
      } catch {
        body = res.body;
      }
    }
    return { status: res.status, body, headers: res.headers };
  }

  /** A raw call that must answer one of `ok`; returns the body. */
  async expect(method: HttpMethod, path: string, ok: number[], opts: { body?: unknown; microversion?: string } = {}): Promise<unknown> {
    const r = await this.raw(method, path, opts);
    if (!ok.includes(r.status)) throw new Error(`${method} ${path}: HTTP ${r.status} (expected ${ok.join("/")}): ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /**
   * The flavor id (looked up by name through vmkeeper's client) and the image id (through
   * Glance when the catalog has an image service; a cloud without one — the simulator, which
   * does not check imageRef — gets the image name).
   */
  async bootRefs(): Promise<{ flavorRef: string; imageRef: string }> {
    if (this.refs) return this.refs;
    const flavor = (await this.nova.listFlavors()).find((f) => f.name === this.o.flavorName);
    if (!flavor) throw new Error(`flavor ${this.o.flavorName} not found`);
    let imageRef = this.o.imageName;
    let glance: string | undefined;
    try {
      glance = await this.session.endpoint("image");
    } catch (e: unknown) {
      if (!isKeystoneError(e) || e.reason !== "EndpointNotFound") throw e;
    }
    if (glance !== undefined) {
      const res = await this.session.request({ operation: "fixture glance images", method: "GET", url: `${glance}/v2/images?name=${encodeURIComponent(this.o.imageName)}`, timeoutMs: 30_000 });
      const doc = JSON.parse(res.body) as unknown;
      const images = isRecord(doc) && Array.isArray(doc.images) ? doc.images : [];
      const first: unknown = images[0];
      if (res.status !== 200 || !isRecord(first) || typeof first.id !== "string") throw new Error(`image ${this.o.imageName} not found in Glance (HTTP ${res.status})`);
      imageRef = first.id;
    }
    this.refs = { flavorRef: flavor.id, imageRef };
    return this.refs;
  }

  /** POST /servers without networks (`"networks": "none"`); returns the server id (BUILD). */
  async bootServer(o: BootOptions): Promise<string> {
    const { flavorRef, imageRef } = await this.bootRefs();
    const server: Record<string, unknown> = { name: o.name, flavorRef, imageRef, networks: "none" };
    if (o.host !== undefined) server.host = o.host;
    const body: Record<string, unknown> = { server };
    if (o.groupId !== undefined) body["os:scheduler_hints"] = { group: o.groupId };
    const reply = await this.expect("POST", "/servers", [202], { body });
    const id = isRecord(reply) && isRecord(reply.server) ? reply.server.id : undefined;
    if (typeof id !== "string") throw new Error(`POST /servers answered without a server id: ${JSON.stringify(reply)}`);
    return id;
  }

  /** Boots the servers and waits until all are ACTIVE (or throws on ERROR). */
  async bootActive(list: BootOptions[], wait: WaitOptions = {}): Promise<Server[]> {
    const ids: string[] = [];
    for (const o of list) ids.push(await this.bootServer(o));
    const out: Server[] = [];
    for (const id of ids) out.push(await this.waitServer(id, (s) => s.status === "ACTIVE" && s.taskState === null, { timeoutMs: 120_000, ...wait }));
    return out;
  }

  /** DELETE /servers/{id}; already gone is fine. */
  async deleteServer(id: string): Promise<void> {
    await this.expect("DELETE", `/servers/${id}`, [204, 404]);
  }

  /** Deletes and waits until Nova no longer shows the server. */
  async deleteServers(ids: readonly string[], wait: WaitOptions = {}): Promise<void> {
    for (const id of ids) await this.deleteServer(id);
    for (const id of ids) await this.poll(async () => (await this.raw("GET", `/servers/${id}`)).status === 404, `server ${id} deleted`, { timeoutMs: 60_000, ...wait });
  }

  /**
   * Polls the server (through vmkeeper's client) until `done` holds. Fails early when the
   * server turns ERROR and `done` does not accept it.
   */
  async waitServer(id: string, done: (s: Server) => boolean, wait: WaitOptions = {}): Promise<Server> {
    let last: Server | undefined;
    await this.poll(async () => {
      last = await this.nova.getServer(id);
      if (done(last)) return true;
      if (last.status === "ERROR") throw new Error(`server ${id} went ERROR: ${JSON.stringify(last)}`);
      return false;
    }, `server ${id} to settle`, { timeoutMs: 120_000, ...wait }, () => JSON.stringify(last));
    if (!last) throw new Error("unreachable");
    return last;
  }

  /** Server group with Nova's 2.64 body; returns its id. */
  async createServerGroup(name: string, policy: string, rules?: Record<string, number>): Promise<string> {
    const group: Record<string, unknown> = { name, policy };
    if (rules) group.rules = rules;
    const reply = await this.expect("POST", "/os-server-groups", [200], { body: { server_group: group }, microversion: "2.64" });
    const id = isRecord(reply) && isRecord(reply.server_group) ? reply.server_group.id : undefined;
    if (typeof id !== "string") throw new Error(`POST /os-server-groups answered without an id: ${JSON.stringify(reply)}`);
    return id;
  }

  async deleteServerGroup(id: string): Promise<void> {
    await this.expect("DELETE", `/os-server-groups/${id}`, [204, 404]);
  }

  /** Aggregate with an availability zone; returns its integer id. */
  async createAggregate(name: string, availabilityZone: string): Promise<number> {
    const reply = await this.expect("POST", "/os-aggregates", [200], { body: { aggregate: { name, availability_zone: availabilityZone } } });
    const id = isRecord(reply) && isRecord(reply.aggregate) ? reply.aggregate.id : undefined;
    if (typeof id !== "number") throw new Error(`POST /os-aggregates answered without an id: ${JSON.stringify(reply)}`);
    return id;
  }

  async aggregateHost(id: number, action: "add_host" | "remove_host", host: string): Promise<void> {
    await this.expect("POST", `/os-aggregates/${id}/action`, [200], { body: { [action]: { host } } });
  }

  async deleteAggregate(id: number): Promise<void> {
    await this.expect("DELETE", `/os-aggregates/${id}`, [200, 404]);
  }

  /** Polls `check` until it returns true; `describe` adds the last state to the timeout message. */
  async poll(check: () => Promise<boolean>, what: string, wait: WaitOptions = {}, describe?: () => string): Promise<void> {
    const timeoutMs = wait.timeoutMs ?? 60_000;
    const intervalMs = wait.intervalMs ?? 250;
    const tick = wait.tick ?? this.o.tick;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `: ${describe()}` : ""}`);
      if (tick) await tick(intervalMs);
      else await sleep(intervalMs);
    }
  }
}
