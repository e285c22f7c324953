import assert from "node:assert/strict";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { KeystoneError } from "../../../src/sim/keystone-model.js";
import { createSimCloud } from "../../../src/sim/sim-cloud.js";

describe("sim Keystone model", () => {
  const scope = { projectName: "admin", domainName: "Default" };

  it("issues project-scoped tokens for a password with the user's roles", () => {
    const cloud = createSimCloud(new FakeClock());
    const t = cloud.keystone.authenticate({ methods: ["password"], password: { userName: "admin", password: "admin-secret" }, scope });
    assert.equal(cloud.keystone.projects.get(t.projectId ?? "")?.name, "admin");
    assert.ok(t.roles.includes("admin"));
    assert.throws(() => cloud.keystone.authenticate({ methods: ["password"], password: { userName: "admin", password: "wrong" }, scope }), (e: unknown) => e instanceof KeystoneError && e.status === 401);
  });

  it("authenticates an application credential to its own project", () => {
    const cloud = createSimCloud(new FakeClock());
    const t = cloud.keystone.authenticate({ methods: ["application_credential"], applicationCredential: { id: "7f3c6a4e0b1d4c2a9e8f5a6b7c8d9e0f", secret: "vmkeeper-app-secret" } });
    assert.equal(cloud.keystone.projects.get(t.projectId ?? "")?.name, "admin");
    assert.throws(() => cloud.keystone.authenticate({ methods: ["application_credential"], applicationCredential: { id: "7f3c6a4e0b1d4c2a9e8f5a6b7c8d9e0f", secret: "nope" } }), KeystoneError);
  });

  it("expires tokens after their lifetime, keeps the expiry on a token exchange, and expires all on demand", async () => {
    const clock = new FakeClock();
    const cloud = createSimCloud(clock, { identity: { tokenLifetimeSeconds: 60 } });
    const t = cloud.keystone.authenticate({ methods: ["password"], password: { userName: "admin", password: "admin-secret" }, scope });
    await clock.advance(30_000);
    const t2 = cloud.keystone.authenticate({ methods: ["token"], token: { id: t.id } });
    assert.equal(t2.expiresAtMs, t.expiresAtMs);
    await clock.advance(30_000);
    assert.equal(cloud.keystone.validate(t.id), undefined);
    const t3 = cloud.keystone.authenticate({ methods: ["password"], password: { userName: "admin", password: "admin-secret" }, scope });
    assert.ok(cloud.keystone.validate(t3.id));
    assert.equal(cloud.keystone.expireAllTokens(), 1);
    assert.equal(cloud.keystone.validate(t3.id), undefined);
  });
});
