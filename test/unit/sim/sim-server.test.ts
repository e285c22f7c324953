import assert from "node:assert/strict";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { createSimCloud, type SimCloud } from "../../../src/sim/sim-cloud.js";
import { SimServer } from "../../../src/sim/sim-server.js";
import { seedCloud } from "../../../src/sim/seed-cloud.js";

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe("sim HTTP server on 127.0.0.1", () => {
  let clock: FakeClock;
  let cloud: SimCloud;
  let server: SimServer;
  let token: string;

  async function call(method: string, path: string, opts: { body?: unknown; version?: string; token?: string | null; signal?: AbortSignal } = {}): Promise<Reply> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const t = opts.token === undefined ? token : opts.token;
    if (t) headers["x-auth-token"] = t;
    if (opts.version) headers["openstack-api-version"] = `compute ${opts.version}`;
    const res = await fetch(`${server.url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function login(): Promise<string> {
    const r = await call("POST", "/v3/auth/tokens", {
      token: null,
      body: { auth: { identity: { methods: ["password"], password: { user: { name: "admin", domain: { name: "Default" }, password: "admin-secret" } } }, scope: { project: { name: "admin", domain: { name: "Default" } } } } },
    });
    assert.equal(r.status, 201);
    return r.headers.get("x-subject-token") ?? "";
  }

  beforeEach(async () => {
    clock = new FakeClock();
    cloud = createSimCloud(clock, { nova: { evacuationDurationMs: 1000, schedulingDelayMs: 10 } });
    seedCloud(cloud, { hosts: 4, serversPerHost: 3, antiAffinityPairs: false });
    server = new SimServer(cloud);
    await server.start();
    token = await login();
  });

  afterEach(async () => {
    await server.stop();
  });

  it("serves the version document without a token, and a token body with expires_at, roles and the catalog", async () => {
    const root = await call("GET", "/", { token: null });
    const versions = root.body.versions as Array<Record<string, string>>;
    assert.equal(versions.find((v) => v.id === "v2.1")?.version, "2.93");
    const v21 = await call("GET", "/v2.1", { token: null });
    assert.equal((v21.body.version as Record<string, string>).min_version, "2.1");
    const check = await fetch(`${server.url}/v3/auth/tokens`, { headers: { "x-auth-token": token, "x-subject-token": token } });
    const body = (await check.json()) as { token: { expires_at: string; roles: Array<{ name: string }>; catalog: Array<{ type: string; endpoints: Array<{ interface: string; region: string }> }> } };
    assert.match(body.token.expires_at, /Z$/);
    assert.ok(body.token.roles.some((r) => r.name === "admin"));
    const compute = body.token.catalog.find((c) => c.type === "compute");
    assert.deepEqual(compute?.endpoints.map((e) => `${e.interface}/${e.region}`).sort(), ["admin/RegionOne", "internal/RegionOne", "public/RegionOne"]);
  });

  it("answers 401 without a token and after all tokens are expired; a new token works", async () => {
    assert.equal((await call("GET", "/v2.1/servers", { token: null })).status, 401);
    assert.equal((await call("GET", "/v2.1/servers")).status, 200);
    assert.equal((await call("POST", "/_sim/tokens/expire")).status, 200);
    const r = await call("GET", "/v2.1/servers");
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } });
    token = await login();
    assert.equal((await call("GET", "/v2.1/servers")).status, 200);
  });

  it("negotiates microversions: echo header, 406 outside the range", async () => {
    const ok = await call("GET", "/v2.1/os-services", { version: "2.53" });
    assert.equal(ok.headers.get("openstack-api-version"), "compute 2.53");
    const services = ok.body.services as Array<{ id: unknown; binary: string; forced_down: boolean }>;
    assert.match(String(services.find((s) => s.binary === "nova-compute")?.id), /^[0-9a-f-]{36}$/);
    const old = await call("GET", "/v2.1/os-services");
    assert.equal(typeof (old.body.services as Array<{ id: unknown }>)[0]?.id, "number");
    const tooNew = await call("GET", "/v2.1/os-services", { version: "2.95" });
    assert.equal(tooNew.status, 406);
    assert.ok("computeFault" in tooNew.body);
  });

  it("forces a service down by UUID at 2.53, and evacuates through HTTP with Nova's guards", async () => {
    const list = await call("GET", "/v2.1/os-services?binary=nova-compute&host=compute-0001", { version: "2.53" });
    const svc = (list.body.services as Array<{ id: string }>)[0];
    assert.ok(svc);
    const servers = await call("GET", "/v2.1/servers/detail?all_tenants=1&host=compute-0001", { version: "2.53" });
    const victim = (servers.body.servers as Array<{ id: string }>)[0];
    assert.ok(victim);
    const refused = await call("POST", `/v2.1/servers/${victim.id}/action`, { version: "2.53", body: { evacuate: {} } });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body, { badRequest: { code: 400, message: "Compute service of compute-0001 is still in use." } });
    assert.equal((await call("PUT", "/v2.1/os-services/force-down", { version: "2.53", body: { host: "compute-0001", binary: "nova-compute", forced_down: true } })).status, 400);
    cloud.nova.killHost("compute-0001");
    const forced = await call("PUT", `/v2.1/os-services/${svc.id}`, { version: "2.53", body: { forced_down: true } });
    assert.equal(forced.status, 200);
    assert.equal((forced.body.service as { state: string }).state, "down");
    const withForce = await call("POST", `/v2.1/servers/${victim.id}/action`, { version: "2.68", body: { evacuate: { host: "compute-0002", force: true } } });
    assert.equal(withForce.status, 400);
    const accepted = await call("POST", `/v2.1/servers/${victim.id}/action`, { version: "2.68", body: { evacuate: {} } });
    assert.equal(accepted.status, 200);
    // Like Nova, evacuate checks vm_state only: a second request during the rebuild is accepted too.
    const again = await call("POST", `/v2.1/servers/${victim.id}/action`, { version: "2.68", body: { evacuate: {} } });
    assert.equal(again.status, 200);
    await clock.advance(1000);
    const shown = await call("GET", `/v2.1/servers/${victim.id}`, { version: "2.73" });
    const s = shown.body.server as Record<string, unknown>;
    assert.equal(s.status, "ACTIVE");
    assert.notEqual(s["OS-EXT-SRV-ATTR:host"], "compute-0001");
    const migrations = await call("GET", "/v2.1/os-migrations?migration_type=evacuation", { version: "2.59" });
    assert.deepEqual((migrations.body.migrations as Array<{ status: string }>).map((m) => m.status), ["accepted", "done"]);
  });

  it("paginates with servers_links and lists hypervisors with their servers", async () => {
    const page = await call("GET", "/v2.1/servers?all_tenants=1&limit=5");
    assert.equal((page.body.servers as unknown[]).length, 5);
    const next = (page.body.servers_links as Array<{ href: string }>)[0]?.href ?? "";
    assert.match(next, /marker=/);
    const hv = await call("GET", "/v2.1/os-hypervisors?with_servers=true&hypervisor_hostname_pattern=compute-0003", { version: "2.53" });
    const h = (hv.body.hypervisors as Array<{ servers: unknown[] }>)[0];
    assert.equal(h?.servers.length, 3);
  });

  it("injects per-endpoint errors, latency on the virtual clock, and hangs", async () => {
    await call("PUT", "/_sim/faults", { body: { rules: [{ match: "GET /v2.1/os-services", errorRate: 1, errorStatus: 503, count: 1 }] } });
    const failed = await call("GET", "/v2.1/os-services");
    assert.equal(failed.status, 503);
    assert.ok("serviceUnavailable" in failed.body);
    assert.equal((await call("GET", "/v2.1/os-services")).status, 200);

    await call("PUT", "/_sim/faults", { body: { rules: [{ match: "GET /v2.1/flavors*", latencyMs: 5000 }] } });
    let done = false;
    const slow = call("GET", "/v2.1/flavors").then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false);
    await clock.advance(5000);
    assert.equal((await slow).status, 200);

    await call("PUT", "/_sim/faults", { body: { rules: [{ match: "* /v2.1/limits", hangRate: 1 }] } });
    await assert.rejects(call("GET", "/v2.1/limits", { signal: AbortSignal.timeout(200) }));
  });

  it("simulates whole-API outages: 503, and connection refused until the duration passes", async () => {
    await call("PUT", "/_sim/outage", { body: { mode: "503" } });
    assert.equal((await call("GET", "/v2.1/servers")).status, 503);
    await call("DELETE", "/_sim/outage");
    assert.equal((await call("GET", "/v2.1/servers")).status, 200);
    await call("PUT", "/_sim/outage", { body: { mode: "refuse", durationMs: 10_000 } });
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(call("GET", "/v2.1/servers"), (e: unknown) => e instanceof Error && /ECONNREFUSED/.test(String((e as { cause?: unknown }).cause)));
    await clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await call("GET", "/v2.1/servers")).status, 200);
  });

  it("drives host failures through the admin API", async () => {
    assert.equal((await call("POST", "/_sim/hosts/compute-0004/kill")).status, 200);
    await clock.advance(71_000);
    const svc = await call("GET", "/v2.1/os-services?host=compute-0004&binary=nova-compute", { version: "2.53" });
    assert.equal((svc.body.services as Array<{ state: string }>)[0]?.state, "down");
    const restored = await call("POST", "/_sim/hosts/compute-0004/restore");
    assert.equal((restored.body.host as { computeRunning: boolean }).computeRunning, true);
    const up = await call("GET", "/v2.1/os-services?host=compute-0004&binary=nova-compute", { version: "2.53" });
    assert.equal((up.body.services as Array<{ state: string }>)[0]?.state, "up");
  });
});
