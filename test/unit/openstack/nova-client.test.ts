import assert from "node:assert/strict";
import { parseCloudsYaml } from "../../../src/openstack/clouds-config.js";
import { TransportError } from "../../../src/openstack/http-transport.js";
import { KeystoneSession } from "../../../src/openstack/keystone-session.js";
import { NovaClient, computeVersionUrl } from "../../../src/openstack/nova-client.js";
import {
  NovaConflictError,
  NovaForbiddenError,
  NovaInvalidResponseError,
  NovaNotFoundError,
  NovaRateLimitedError,
  NovaServerError,
  NovaServiceStillUpError,
  NovaUnauthorizedError,
  NovaUnavailableError,
  NovaUnsupportedMicroversionError,
} from "../../../src/openstack/nova-errors.js";
import { FakeClock } from "../../../src/util/fake-clock.js";
import type { Logger } from "../../../src/util/logger.js";
import { silentLogger } from "../../../src/util/logger.js";
import { FakeOpenStack, KEYSTONE, NOVA, PROJECT_ID, captureLogger, json, novaFault, settle } from "./fake-openstack.js";

const SECRET = "Pass-Word-77";
const CLOUD = parseCloudsYaml(
  `clouds:\n  t:\n    region_name: RegionOne\n    auth:\n      auth_url: ${KEYSTONE}\n      username: vmkeeper\n      password: ${SECRET}\n      project_id: ${PROJECT_ID}\n      user_domain_id: default\n`,
  { cloudName: "t", env: {} },
);
const SERVER_ID = "11111111-2222-3333-4444-555555555555";

function service(id: string, host: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, binary: "nova-compute", host, zone: "nova", status: "enabled", state: "up", forced_down: false, disabled_reason: null, updated_at: "2026-01-01T00:00:00.000000", ...extra };
}

function server(id: string, host: string, metadata: Record<string, string> = {}): Record<string, unknown> {
  return { id, name: `vm-${id}`, status: "ACTIVE", tenant_id: "p-9", user_id: "u", metadata, tags: ["ha"], "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": null, "OS-EXT-SRV-ATTR:host": host, flavor: { vcpus: 2, ram: 2048, disk: 20, original_name: "m1" }, unknown_field: { x: 1 } };
}

function setup(computeMax = "2.93", logger: Logger = silentLogger()): { clock: FakeClock; fake: FakeOpenStack; session: KeystoneSession; nova: NovaClient } {
  const clock = new FakeClock();
  const fake = new FakeOpenStack(clock);
  fake.computeMax = computeMax;
  const session = new KeystoneSession({ cloud: CLOUD, transport: fake, clock, logger });
  const nova = new NovaClient({ session, clock, logger, random: () => 0, retry: { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 4000 } });
  return { clock, fake, session, nova };
}

describe("NovaClient microversion negotiation", () => {
  it("uses the cloud's maximum when it is below vmkeeper's (2.1–2.93 → 2.93) and sends both headers", async () => {
    const { fake, nova } = setup("2.93");
    fake.on("GET", /^\/os-services$/, () => json(200, { services: [] }));
    await nova.listServices({ binary: "nova-compute" });
    const call = fake.novaCalls("GET", /^\/os-services$/)[0];
    assert.equal(call?.headers["openstack-api-version"], "compute 2.93");
    assert.equal(call?.headers["x-openstack-nova-api-version"], "2.93");
    assert.equal(call?.query.get("binary"), "nova-compute");
  });

  it("uses vmkeeper's maximum when the cloud goes higher (2.1–2.96 → 2.95)", async () => {
    const { nova } = setup("2.96");
    const n = await nova.negotiate();
    assert.deepEqual(n.version, { major: 2, minor: 95 });
    assert.deepEqual(n.serverRange.max, { major: 2, minor: 96 });
  });

  it("refuses a cloud below 2.53 with a typed error that names both ranges", async () => {
    const { nova } = setup("2.50");
    await assert.rejects(nova.listServices(), (e: unknown) => e instanceof NovaUnsupportedMicroversionError && /2\.1–2\.50/.test(e.message) && /2\.53/.test(e.message) && e.serverRangeText === "2.1-2.50");
  });

  it("reads the version document next to the catalog URL, without the project id", () => {
    assert.equal(computeVersionUrl(`${NOVA}/${PROJECT_ID}`), `${NOVA}/`);
    assert.equal(computeVersionUrl("https://cloud.example/compute/v2.1"), "https://cloud.example/compute/v2.1/");
    assert.equal(computeVersionUrl("https://nova.example:8774"), "https://nova.example:8774/");
  });

  it("maps Nova's 406 to UnsupportedMicroversion", async () => {
    const { fake, nova } = setup("2.93");
    fake.script("GET", /^\/os-services$/, [novaFault(406, "computeFault", "Version 2.93 is not supported by the API. Minimum is 2.1 and maximum is 2.90.")]);
    await assert.rejects(nova.listServices(), NovaUnsupportedMicroversionError);
  });
});

describe("NovaClient retries", () => {
  it("retries a GET on 503 with capped exponential backoff", async () => {
    const { clock, fake, nova } = setup();
    await nova.negotiate();
    fake.on("GET", /^\/os-services$/, () => json(200, { services: [service("s1", "compute-1")] }));
    fake.script("GET", /^\/os-services$/, [novaFault(503, "computeFault", "busy"), novaFault(503, "computeFault", "busy")]);
    const started = clock.monotonicMs();
    let doneAt = -1;
    const p = nova.listServices().then((r) => {
      doneAt = clock.monotonicMs();
      return r;
    });
    await clock.advance(400); // random=0: delays are base/2 = 500, then 1000
    assert.equal(doneAt, -1, "must not retry before the backoff");
    const services = await settle(clock, p, 100);
    assert.equal(services.length, 1);
    assert.equal(fake.novaCalls("GET", /^\/os-services$/).length, 3);
    assert.ok(doneAt - started >= 1500, `finished after ${doneAt - started} ms`);
  });

  it("gives up after maxAttempts with the last typed error", async () => {
    const { clock, fake, nova } = setup();
    fake.on("GET", /^\/os-hypervisors\/detail$/, () => novaFault(502, "computeFault", "bad gateway"));
    await assert.rejects(settle(clock, nova.listHypervisors()), (e: unknown) => e instanceof NovaUnavailableError && e.status === 502);
    assert.equal(fake.novaCalls("GET", /^\/os-hypervisors/).length, 4);
  });

  it("retries force-down (an idempotent PUT) on 500 (F6)", async () => {
    const { clock, fake, nova } = setup();
    fake.on("PUT", /^\/os-services\/s1$/, (c) => json(200, { service: service("s1", "compute-1", { forced_down: (c.body as { forced_down: boolean }).forced_down, state: "down" }) }));
    fake.script("PUT", /^\/os-services\/s1$/, [novaFault(500, "computeFault", "oops"), novaFault(500, "computeFault", "oops")]);
    const s = await settle(clock, nova.forceDownService("s1", true));
    assert.equal(s.forcedDown, true);
    const puts = fake.novaCalls("PUT", /^\/os-services\/s1$/);
    assert.equal(puts.length, 3);
    assert.deepEqual(puts.map((c) => c.body), [{ forced_down: true }, { forced_down: true }, { forced_down: true }]);
  });

  it("never retries an evacuate POST on 500, and says the outcome is unknown", async () => {
    const { clock, fake, nova } = setup();
    fake.on("POST", /\/action$/, () => novaFault(500, "computeFault", "Unexpected API Error", "req-evac"));
    const err = await settle(clock, nova.evacuateServer(SERVER_ID)).then(
      () => assert.fail("should fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NovaServerError);
    assert.equal(err.outcomeUnknown, true);
    assert.equal(err.requestId, "req-evac");
    assert.equal(err.operation, "nova.evacuateServer");
    assert.equal(fake.novaCalls("POST").length, 1);
  });

  it("never retries an evacuate POST on a timeout", async () => {
    const { clock, fake, nova } = setup();
    fake.on("POST", /\/action$/, () => {
      throw new TransportError("timeout", "POST http://nova.test/... no complete response within 30000 ms");
    });
    await assert.rejects(settle(clock, nova.evacuateServer(SERVER_ID)), (e: unknown) => e instanceof NovaUnavailableError && e.outcomeUnknown && e.status === undefined);
    assert.equal(fake.novaCalls("POST").length, 1);
  });

  it("says a refused connection did not execute the POST", async () => {
    const { clock, fake, nova } = setup();
    fake.on("POST", /\/action$/, () => {
      throw new TransportError("connection", "connection failed", "ECONNREFUSED");
    });
    await assert.rejects(settle(clock, nova.startServer(SERVER_ID)), (e: unknown) => e instanceof NovaUnavailableError && !e.outcomeUnknown);
  });

  it("honours Retry-After on 429 for GETs", async () => {
    const { clock, fake, nova } = setup();
    await nova.negotiate();
    fake.on("GET", /^\/os-aggregates$/, () => json(200, { aggregates: [] }));
    fake.script("GET", /^\/os-aggregates$/, [{ ...novaFault(429, "overLimit", "slow down"), headers: { "retry-after": "3" } }]);
    const p = nova.listAggregates();
    p.catch(() => undefined);
    await clock.advance(0); // the 429 arrives and the retry is scheduled
    await clock.advance(2900); // backoff alone would be 500 ms; Retry-After says 3 s
    assert.equal(fake.novaCalls("GET", /^\/os-aggregates$/).length, 1);
    await settle(clock, p);
    assert.equal(fake.novaCalls("GET", /^\/os-aggregates$/).length, 2);
  });
});

describe("NovaClient token expiry mid-sequence (F19)", () => {
  it("re-authenticates once, resends the PUT once, and sends the 401'd evacuate exactly once more", async () => {
    const { fake, session, nova } = setup();
    let forced = false;
    fake.on("GET", /^\/os-services$/, () => json(200, { services: [service("s1", "compute-1", { forced_down: forced })] }));
    fake.on("PUT", /^\/os-services\/s1$/, () => {
      forced = true;
      return json(200, { service: service("s1", "compute-1", { forced_down: true, state: "down" }) });
    });
    let accepted = 0;
    fake.on("POST", /^\/servers\/.+\/action$/, () => {
      accepted++;
      return json(200, {}, { "x-openstack-request-id": "req-evac-ok" });
    });

    const [svc] = await nova.listServices({ binary: "nova-compute", host: "compute-1" });
    assert.ok(svc);
    fake.revokeTokens();
    await nova.forceDownService(svc.id, true);
    assert.equal(session.authCount, 2);
    assert.equal(fake.novaCalls("PUT").length, 2, "one 401, one accepted");

    fake.revokeTokens();
    const r = await nova.evacuateServer(SERVER_ID, { host: "compute-2" });
    assert.equal(session.authCount, 3);
    assert.equal(fake.novaCalls("POST").length, 2, "one rejected with 401, one sent after re-auth");
    assert.equal(accepted, 1, "exactly one evacuation reached Nova");
    assert.equal(r.requestId, "req-evac-ok");
    assert.equal(forced, true);
  });

  it("gives Unauthorized when Nova still says 401 after re-authenticating", async () => {
    const { fake, session, nova } = setup();
    fake.on("GET", /^\/os-services$/, () => json(401, { error: { code: 401, message: "The request you have made requires authentication." } }));
    await assert.rejects(nova.listServices(), NovaUnauthorizedError);
    assert.equal(session.authCount, 2);
  });
});

describe("NovaClient error mapping", () => {
  it("recognises evacuate refused because the source compute service is up", async () => {
    const { fake, nova } = setup();
    fake.on("POST", /\/action$/, () => novaFault(400, "badRequest", "Compute service of compute-1 is still in use.", "req-up"));
    await assert.rejects(nova.evacuateServer(SERVER_ID), (e: unknown) => e instanceof NovaServiceStillUpError && e.host === "compute-1" && e.status === 400 && !e.outcomeUnknown && e.requestId === "req-up");
  });

  it("maps 409 to Conflict with the task state, and 404/403 to their types", async () => {
    const { fake, nova } = setup();
    fake.on("POST", /\/action$/, () => novaFault(409, "conflictingRequest", `Cannot 'evacuate' instance ${SERVER_ID} while it is in task_state rebuilding`));
    await assert.rejects(nova.evacuateServer(SERVER_ID), (e: unknown) => e instanceof NovaConflictError && e.taskState === "rebuilding");
    fake.on("GET", /^\/servers\/missing$/, () => novaFault(404, "itemNotFound", "Instance missing could not be found."));
    await assert.rejects(nova.getServer("missing"), (e: unknown) => e instanceof NovaNotFoundError && /could not be found/.test(e.novaMessage));
    fake.on("GET", /^\/os-migrations$/, () => novaFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-migrations:index to be performed."));
    await assert.rejects(nova.listMigrations(), NovaForbiddenError);
  });

  it("turns a response without required fields into InvalidResponse, ignoring unknown fields", async () => {
    const { fake, nova } = setup();
    fake.on("GET", /^\/os-services$/, () => json(200, { services: [{ id: "s1", binary: "nova-compute", status: "enabled", state: "up" }] }));
    await assert.rejects(nova.listServices(), (e: unknown) => e instanceof NovaInvalidResponseError && /services\[0\]\.host/.test(e.message));
    fake.on("GET", /^\/servers\/ok$/, () => json(200, { server: server("ok", "compute-1") }));
    const s = await nova.getServer("ok");
    assert.equal(s.host, "compute-1");
    assert.equal(s.taskState, null);
    assert.equal(s.flavor.ramMb, 2048);
  });

  it("keeps tokens and passwords out of errors and logs", async () => {
    const cap = captureLogger();
    const { clock, fake, nova } = setup("2.93", cap.logger);
    fake.on("GET", /^\/os-services$/, (c) => novaFault(503, "computeFault", `proxy echoed X-Auth-Token: ${c.token ?? ""} and gAAAAABlongfernettokenvalue1234567890`));
    const err = await settle(clock, nova.listServices()).then(
      () => assert.fail("should fail"),
      (e: unknown) => e as Error,
    );
    await new Promise((r) => setImmediate(r));
    for (const text of [err.message, cap.text()]) {
      for (const s of [SECRET, "tok-1", "gAAAAABlongfernettokenvalue"]) assert.ok(!text.includes(s), `leaked ${s} in ${text.slice(0, 300)}`);
    }
    assert.match(cap.text(), /req-503/);
  });
});

describe("NovaClient operations", () => {
  it("builds the evacuate body and microversion: 2.93 lands active, 2.95 lands stopped unless asked otherwise", async () => {
    const old = setup("2.93");
    old.fake.on("POST", /\/action$/, () => json(200, {}));
    const r1 = await old.nova.evacuateServer(SERVER_ID, { host: "compute-2" });
    assert.deepEqual(old.fake.novaCalls("POST")[0]?.body, { evacuate: { host: "compute-2" } });
    assert.equal(r1.landsStopped, false);
    assert.equal(r1.microversion, "2.93");

    const modern = setup("2.96");
    modern.fake.on("POST", /\/action$/, () => json(200, {}));
    const r2 = await modern.nova.evacuateServer(SERVER_ID);
    assert.deepEqual(modern.fake.novaCalls("POST")[0]?.body, { evacuate: {} });
    assert.equal(modern.fake.novaCalls("POST")[0]?.headers["openstack-api-version"], "compute 2.95");
    assert.equal(r2.landsStopped, true);
    const r3 = await modern.nova.evacuateServer(SERVER_ID, { landStopped: false });
    assert.equal(modern.fake.novaCalls("POST")[1]?.headers["openstack-api-version"], "compute 2.94");
    assert.equal(r3.landsStopped, false);
  });

  it("lists servers across projects by host with limit/marker pagination and filters metadata locally", async () => {
    const { fake } = setup();
    const page1 = Array.from({ length: 2 }, (_, i) => server(`a${i}`, "compute-1", { ha: i === 0 ? "true" : "false" }));
    const page2 = [server("b0", "compute-1", { ha: "true" })];
    fake.on("GET", /^\/servers\/detail$/, (c) =>
      c.query.get("marker") === null
        ? json(200, { servers: page1, servers_links: [{ rel: "next", href: "http://elsewhere/v2.1/servers/detail?marker=a1" }] })
        : json(200, { servers: page2 }),
    );
    const all = await new NovaClient({ session: new KeystoneSession({ cloud: CLOUD, transport: fake, clock: new FakeClock(), logger: silentLogger() }), clock: new FakeClock(), logger: silentLogger(), pageSize: 2 }).listServers({ host: "compute-1", metadata: { ha: "true" }, tags: ["ha"] });
    assert.deepEqual(all.map((s) => s.id), ["a0", "b0"]);
    const calls = fake.novaCalls("GET", /^\/servers\/detail$/);
    assert.equal(calls.length, 2);
    assert.equal(calls[0]?.query.get("all_tenants"), "1");
    assert.equal(calls[0]?.query.get("host"), "compute-1");
    assert.equal(calls[0]?.query.get("tags"), "ha");
    assert.equal(calls[0]?.query.get("limit"), "2");
    assert.equal(calls[1]?.query.get("marker"), "a1");
  });

  it("sends lock with locked_reason (2.73+) and unlock, start, stop, hard reboot as single POSTs", async () => {
    const { fake, nova } = setup();
    fake.on("POST", /\/action$/, () => json(202, undefined, { "x-openstack-request-id": "req-a" }));
    assert.equal(await nova.lockServer(SERVER_ID, "vmkeeper: recovering"), "req-a");
    await nova.unlockServer(SERVER_ID);
    await nova.startServer(SERVER_ID);
    await nova.stopServer(SERVER_ID);
    await nova.hardRebootServer(SERVER_ID);
    assert.deepEqual(fake.novaCalls("POST").map((c) => c.body), [{ lock: { locked_reason: "vmkeeper: recovering" } }, { unlock: null }, { "os-start": null }, { "os-stop": null }, { reboot: { type: "HARD" } }]);
  });

  it("disables with a reason and enables compute services", async () => {
    const { fake, nova } = setup();
    fake.on("PUT", /^\/os-services\/s1$/, (c) => json(200, { service: service("s1", "compute-1", c.body as Record<string, unknown>) }));
    const d = await nova.disableService("s1", "vmkeeper: fenced");
    assert.equal(d.status, "disabled");
    assert.equal(d.disabledReason, "vmkeeper: fenced");
    await nova.enableService("s1");
    assert.deepEqual(fake.novaCalls("PUT").map((c) => c.body), [{ status: "disabled", disabled_reason: "vmkeeper: fenced" }, { status: "enabled" }]);
  });

  it("finds servers on a hypervisor by exact name (the pattern also matches compute-10)", async () => {
    const { fake, nova } = setup();
    fake.on("GET", /^\/os-hypervisors\/detail$/, (c) =>
      c.query.get("hypervisor_hostname_pattern") === "compute-9"
        ? novaFault(404, "itemNotFound", "No hypervisor matching 'compute-9' could be found.")
        : json(200, {
            hypervisors: [
              { id: "h1", hypervisor_hostname: "compute-1", state: "up", status: "enabled", servers: [{ uuid: "v1", name: "one" }] },
              { id: "h10", hypervisor_hostname: "compute-10", state: "up", status: "enabled", servers: [{ uuid: "v10", name: "ten" }] },
            ],
          }),
    );
    assert.deepEqual(await nova.serversOnHypervisor("compute-1"), [{ uuid: "v1", name: "one" }]);
    assert.equal(fake.novaCalls("GET", /hypervisors/)[0]?.query.get("with_servers"), "true");
    assert.deepEqual(await nova.serversOnHypervisor("compute-9"), []);
  });

  it("lists evacuation migrations with filters and reads instance actions", async () => {
    const { fake, nova } = setup();
    fake.on("GET", /^\/os-migrations$/, () =>
      json(200, { migrations: [{ id: 7, uuid: "m-7", status: "completed", migration_type: "evacuation", instance_uuid: SERVER_ID, source_compute: "compute-1", dest_compute: "compute-2", source_node: "compute-1", dest_node: "compute-2", dest_host: "127.0.0.1", created_at: "2026-01-01T00:00:01.000000", updated_at: null, user_id: "u", project_id: "p" }] }),
    );
    const ms = await nova.listMigrations({ migrationType: "evacuation", instanceUuid: SERVER_ID, host: "compute-1" });
    assert.equal(ms[0]?.id, "7");
    assert.equal(ms[0]?.destCompute, "compute-2");
    const q = fake.novaCalls("GET", /^\/os-migrations$/)[0]?.query;
    assert.equal(q?.get("migration_type"), "evacuation");
    assert.equal(q?.get("instance_uuid"), SERVER_ID);
    assert.equal(q?.get("host"), "compute-1");

    fake.on("GET", /os-instance-actions$/, () => json(200, { instanceActions: [{ action: "evacuate", request_id: "req-e", instance_uuid: SERVER_ID, start_time: "2026-01-01T00:00:05.000000", message: null, user_id: "u", project_id: "p" }, { action: "create", request_id: "req-c", instance_uuid: SERVER_ID, start_time: "2025-12-31T00:00:00.000000", message: null }] }));
    const found = await nova.findInstanceActions(SERVER_ID, "evacuate", new Date("2026-01-01T00:00:00Z"));
    assert.deepEqual(found.map((a) => a.requestId), ["req-e"]);
    fake.on("GET", /os-instance-actions\/req-e$/, () => json(200, { instanceAction: { action: "evacuate", request_id: "req-e", instance_uuid: SERVER_ID, start_time: "2026-01-01T00:00:05", message: null, events: [{ event: "compute_rebuild_instance", start_time: "2026-01-01T00:00:06", finish_time: null, result: null, host: "compute-2" }] } }));
    const detail = await nova.getInstanceAction(SERVER_ID, "req-e");
    assert.equal(detail.events?.[0]?.host, "compute-2");
  });

  it("reads server groups in both shapes (policies before 2.64, policy+rules after)", async () => {
    const { fake, nova } = setup();
    fake.on("GET", /^\/os-server-groups$/, () =>
      json(200, { server_groups: [{ id: "g1", name: "db", policy: "anti-affinity", rules: { max_server_per_host: 1 }, members: ["v1", "v2"] }, { id: "g2", name: "old", policies: ["affinity"], members: [] }] }),
    );
    const groups = await nova.listServerGroups();
    assert.deepEqual(groups.map((g) => [g.policy, g.rules]), [["anti-affinity", { max_server_per_host: 1 }], ["affinity", {}]]);
    assert.equal(fake.novaCalls("GET", /server-groups/)[0]?.query.get("all_projects"), "True");
  });

  it("reads aggregates, availability zones, flavors and absolute limits", async () => {
    const { fake, nova } = setup();
    fake.on("GET", /^\/os-aggregates$/, () => json(200, { aggregates: [{ id: 1, uuid: "a-1", name: "ha", availability_zone: "az1", hosts: ["compute-1"], metadata: { ha: "true" } }] }));
    fake.on("GET", /^\/os-availability-zone\/detail$/, () => json(200, { availabilityZoneInfo: [{ zoneName: "az1", zoneState: { available: true }, hosts: { "compute-1": { "nova-compute": { available: true, active: false, updated_at: null } } } }, { zoneName: "internal", zoneState: { available: true }, hosts: null }] }));
    fake.on("GET", /^\/flavors\/detail$/, () => json(200, { flavors: [{ id: "f1", name: "m1", vcpus: 2, ram: 2048, disk: 20, "OS-FLV-EXT-DATA:ephemeral": 0, swap: "", "os-flavor-access:is_public": true, extra_specs: { "hw:cpu_policy": "dedicated" } }] }));
    fake.on("GET", /^\/limits$/, () => json(200, { limits: { rate: [], absolute: { maxTotalInstances: -1, totalInstancesUsed: 12 } } }));
    const [agg] = await nova.listAggregates();
    assert.deepEqual([agg?.id, agg?.hosts, agg?.metadata], ["1", ["compute-1"], { ha: "true" }]);
    const azs = await nova.listAvailabilityZones();
    assert.equal(azs[0]?.hosts[0]?.services["nova-compute"]?.active, false);
    assert.deepEqual(azs[1]?.hosts, []);
    const [f] = await nova.listFlavors();
    assert.deepEqual([f?.ramMb, f?.swapMb, f?.extraSpecs?.["hw:cpu_policy"]], [2048, 0, "dedicated"]);
    assert.equal((await nova.getAbsoluteLimits()).totalInstancesUsed, 12);
  });

  it("adds tags and sets metadata idempotently", async () => {
    const { fake, nova } = setup();
    fake.on("PUT", /\/tags\/vmkeeper-evacuated$/, () => json(201, undefined));
    fake.on("GET", /\/tags$/, () => json(200, { tags: ["ha", "vmkeeper-evacuated"] }));
    fake.on("PUT", /\/metadata\/vmkeeper\.io%2Fincident$/, (c) => json(200, { meta: (c.body as { meta: unknown }).meta }));
    fake.on("GET", /\/metadata$/, () => json(200, { metadata: { a: "1" } }));
    await nova.addServerTag(SERVER_ID, "vmkeeper-evacuated");
    assert.deepEqual(await nova.listServerTags(SERVER_ID), ["ha", "vmkeeper-evacuated"]);
    await nova.setServerMetadataItem(SERVER_ID, "vmkeeper.io/incident", "inc-1");
    assert.deepEqual(fake.novaCalls("PUT", /metadata/)[0]?.body, { meta: { "vmkeeper.io/incident": "inc-1" } });
    assert.deepEqual(await nova.getServerMetadata(SERVER_ID), { a: "1" });
  });

  it("is typed when a rate-limited POST is refused, without retrying it", async () => {
    const { fake, nova } = setup();
    fake.on("POST", /\/action$/, () => novaFault(429, "overLimit", "Too many requests", "req-429"));
    await assert.rejects(nova.stopServer(SERVER_ID), (e: unknown) => e instanceof NovaRateLimitedError && !e.outcomeUnknown);
    assert.equal(fake.novaCalls("POST").length, 1);
  });
});
