import assert from "node:assert/strict";
import { parseCloudsYaml, type CloudConfig } from "../../../src/openstack/clouds-config.js";
import { KeystoneError } from "../../../src/openstack/keystone-errors.js";
import { KeystoneSession } from "../../../src/openstack/keystone-session.js";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { silentLogger } from "../../../src/util/logger.js";
import { FakeOpenStack, KEYSTONE, NOVA, NOVA_R2, PROJECT_ID, captureLogger, json } from "./fake-openstack.js";

const SECRET = "Very-Secret-42";

function cloud(auth: string, extra = ""): CloudConfig {
  return parseCloudsYaml(`clouds:\n  t:\n${extra}    auth:\n      auth_url: ${KEYSTONE}\n${auth}`, { cloudName: "t", env: {} });
}

const PASSWORD = `      username: vmkeeper\n      password: ${SECRET}\n      project_name: admin\n      user_domain_name: Default\n      project_domain_id: default\n`;

function setup(c: CloudConfig = cloud(PASSWORD)): { clock: FakeClock; fake: FakeOpenStack; session: KeystoneSession } {
  const clock = new FakeClock();
  const fake = new FakeOpenStack(clock);
  const session = new KeystoneSession({ cloud: c, transport: fake, clock, logger: silentLogger() });
  return { clock, fake, session };
}

describe("KeystoneSession", () => {
  it("authenticates with a password, project-scoped", async () => {
    const { fake, session } = setup();
    const info = await session.authenticate();
    assert.equal(info.projectId, PROJECT_ID);
    assert.deepEqual(fake.authBodies[0], {
      auth: {
        identity: { methods: ["password"], password: { user: { name: "vmkeeper", domain: { name: "Default" }, password: SECRET } } },
        scope: { project: { name: "admin", domain: { id: "default" } } },
      },
    });
  });

  it("authenticates with an application credential by id, without a scope", async () => {
    const { fake, session } = setup(cloud(`      application_credential_id: ac-9\n      application_credential_secret: ${SECRET}\n`));
    await session.authenticate();
    assert.deepEqual(fake.authBodies[0], { auth: { identity: { methods: ["application_credential"], application_credential: { id: "ac-9", secret: SECRET } } } });
  });

  it("authenticates with an application credential by name and user", async () => {
    const { fake, session } = setup(cloud(`      application_credential_name: vmk\n      username: op\n      user_domain_id: default\n      application_credential_secret: ${SECRET}\n`));
    await session.authenticate();
    assert.deepEqual(fake.authBodies[0], { auth: { identity: { methods: ["application_credential"], application_credential: { name: "vmk", user: { name: "op", domain: { id: "default" } }, secret: SECRET } } } });
  });

  it("authenticates with a token, scoped by project id", async () => {
    const { fake, session } = setup(cloud(`      token: ${SECRET}\n      project_id: ${PROJECT_ID}\n`, "    auth_type: v3token\n"));
    await session.authenticate();
    assert.deepEqual(fake.authBodies[0], { auth: { identity: { methods: ["token"], token: { id: SECRET } }, scope: { project: { id: PROJECT_ID } } } });
  });

  it("selects endpoints by interface and region, and refuses to guess between regions", async () => {
    const { session } = setup(cloud(PASSWORD, "    region_name: RegionOne\n"));
    assert.equal(await session.endpoint("compute"), `${NOVA}/${PROJECT_ID}`);
    assert.equal(await session.endpoint("compute", { interface: "internal" }), "http://nova-internal.test:8774/v2.1");
    assert.equal(await session.endpoint("compute", { region: "RegionTwo" }), NOVA_R2);
    await assert.rejects(session.endpoint("compute", { interface: "admin" }), (e: unknown) => e instanceof KeystoneError && e.reason === "EndpointNotFound" && /public@RegionOne/.test(e.message));
    await assert.rejects(session.endpoint("volumev3"), (e: unknown) => e instanceof KeystoneError && /no "volumev3" service/.test(e.message));
    const { session: noRegion } = setup();
    await assert.rejects(noRegion.endpoint("compute"), (e: unknown) => e instanceof KeystoneError && /several regions/.test(e.message));
  });

  it("reuses the token and refreshes it before expires_at", async () => {
    const { clock, fake, session } = setup(cloud(PASSWORD, "    region_name: RegionOne\n"));
    fake.on("GET", /^\/os-services$/, () => json(200, { services: [] }));
    const url = `${NOVA}/${PROJECT_ID}/os-services`;
    await session.request({ operation: "t", method: "GET", url });
    await clock.advance(30 * 60_000);
    await session.request({ operation: "t", method: "GET", url });
    assert.equal(session.authCount, 1);
    await clock.advance(26 * 60_000); // 4 min before expiry: inside the 5-min margin
    await session.request({ operation: "t", method: "GET", url });
    assert.equal(session.authCount, 2);
    assert.equal(fake.novaCalls().filter((c) => c.path === "/os-services").length, 3);
  });

  it("keeps the refresh margin below a quarter of a short token's life", async () => {
    const { clock, fake, session } = setup(cloud(PASSWORD, "    region_name: RegionOne\n"));
    fake.tokenLifetimeMs = 60_000;
    fake.on("GET", /^\/x$/, () => json(200, {}));
    await session.request({ operation: "t", method: "GET", url: `${NOVA}/x` });
    await clock.advance(40_000);
    await session.request({ operation: "t", method: "GET", url: `${NOVA}/x` });
    assert.equal(session.authCount, 1);
    await clock.advance(6_000);
    await session.request({ operation: "t", method: "GET", url: `${NOVA}/x` });
    assert.equal(session.authCount, 2);
  });

  it("re-authenticates once on 401 and resends once; concurrent requests share that one re-auth", async () => {
    const { fake, session } = setup(cloud(PASSWORD, "    region_name: RegionOne\n"));
    fake.on("GET", /^\/x$/, () => json(200, { ok: true }));
    await session.request({ operation: "t", method: "GET", url: `${NOVA}/x` });
    fake.revokeTokens();
    const results = await Promise.all([1, 2, 3].map(() => session.request({ operation: "t", method: "GET", url: `${NOVA}/x` })));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
    assert.equal(session.authCount, 2);
    assert.equal(fake.novaCalls("GET", /^\/x$/).length, 1 + 3 + 3);
  });

  it("returns a second 401 instead of looping", async () => {
    const { fake, session } = setup(cloud(PASSWORD, "    region_name: RegionOne\n"));
    fake.on("GET", /^\/x$/, () => json(401, { error: { message: "nope" } }));
    const res = await session.request({ operation: "t", method: "GET", url: `${NOVA}/x` });
    assert.equal(res.status, 401);
    assert.equal(session.authCount, 2);
    assert.equal(fake.novaCalls("GET", /^\/x$/).length, 2);
  });

  it("fails with AuthFailed naming the user, never the password, in errors or logs", async () => {
    const clock = new FakeClock();
    const fake = new FakeOpenStack(clock);
    fake.authStatus = 401;
    const cap = captureLogger();
    const session = new KeystoneSession({ cloud: cloud(PASSWORD), transport: fake, clock, logger: cap.logger });
    const err = await session.authenticate().then(
      () => assert.fail("should fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof KeystoneError);
    assert.equal(err.reason, "AuthFailed");
    assert.match(err.message, /user "vmkeeper"/);
    assert.match(err.message, /req-ks/);
    assert.ok(!err.message.includes(SECRET));
    await new Promise((r) => setImmediate(r));
    assert.ok(!cap.text().includes(SECRET));
  });

  it("never logs tokens or passwords while working", async () => {
    const clock = new FakeClock();
    const fake = new FakeOpenStack(clock);
    fake.on("GET", /^\/x$/, () => json(200, {}, { "x-openstack-request-id": "req-abc" }));
    const cap = captureLogger();
    const session = new KeystoneSession({ cloud: cloud(PASSWORD, "    region_name: RegionOne\n"), transport: fake, clock, logger: cap.logger });
    await session.request({ operation: "t", method: "GET", url: `${NOVA}/x` });
    fake.revokeTokens();
    await session.request({ operation: "t", method: "GET", url: `${NOVA}/x` });
    await new Promise((r) => setImmediate(r));
    const text = cap.text();
    assert.match(text, /req-abc/);
    for (const s of [SECRET, "tok-1", "tok-2"]) assert.ok(!text.includes(s), `leaked ${s}`);
  });

  it("reports an unreachable Keystone as a transient KeystoneError and passes the CA bundle", async () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const c = { ...cloud(PASSWORD), caCertPem: pem, verify: true };
    const clock = new FakeClock();
    const seen: { ca?: string; verify?: boolean }[] = [];
    const session = new KeystoneSession({
      cloud: c,
      clock,
      logger: silentLogger(),
      transport: {
        request: (req) => {
          seen.push({ ...(req.caPem ? { ca: req.caPem } : {}), ...(req.rejectUnauthorized !== undefined ? { verify: req.rejectUnauthorized } : {}) });
          return Promise.reject(new Error("ECONNREFUSED"));
        },
      },
    });
    await assert.rejects(session.authenticate(), (e: unknown) => e instanceof KeystoneError && e.reason === "Unreachable" && e.transient);
    assert.deepEqual(seen, [{ ca: pem, verify: true }]);
  });
});
