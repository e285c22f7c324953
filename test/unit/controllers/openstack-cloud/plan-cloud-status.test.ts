import assert from "node:assert/strict";
import { checkCloudSecret } from "../../../../src/controllers/openstack-cloud/cloud-secret-check.js";
import { planCloudStatus, type CloudStatus, type ConnectionOutcome } from "../../../../src/controllers/openstack-cloud/plan-cloud-status.js";

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const spec = { secretRef: { name: "creds" }, cloudName: "lab" };
const good = checkCloudSecret(spec, { data: { "clouds.yaml": b64("clouds:\n  lab:\n    auth:\n      auth_url: https://keystone.test:5000/v3\n") } }, undefined);
const bad = checkCloudSecret(spec, undefined, undefined);
const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-01T00:05:00Z");
const connected: ConnectionOutcome = { kind: "Connected", computeEndpoint: "https://nova.test:8774/v2.1", microversion: { min: "2.1", max: "2.93", negotiated: "2.93" }, hostCount: 3 };

const conds = (s: CloudStatus): string[][] => (s.conditions ?? []).map((c) => [c.type, c.status, c.reason]);

describe("planCloudStatus", () => {
  it("a missing Secret makes SecretValid and Ready False", () => {
    const s = planCloudStatus(undefined, 1, bad, undefined, t0);
    assert.deepEqual(conds(s), [["Ready", "False", "SecretInvalid"], ["SecretValid", "False", "SecretNotFound"]]);
    assert.equal(s.observedGeneration, 1);
  });

  it("a connected cloud is Ready with its microversion range and host count", () => {
    const s = planCloudStatus(undefined, 2, good, connected, t0);
    assert.deepEqual(conds(s), [
      ["AuthFailed", "False", "Authenticated"],
      ["EndpointUnreachable", "False", "Reachable"],
      ["Ready", "True", "Connected"],
      ["SecretValid", "True", "SecretValid"],
    ]);
    assert.deepEqual(s.novaMicroversion, { min: "2.1", max: "2.93", negotiated: "2.93" });
    assert.equal(s.hostCount, 3);
    assert.equal(s.lastCheckTime, "2026-01-01T00:00:00Z");
    assert.equal(s.authUrl, "https://keystone.test:5000/v3");
  });

  it("a wrong password gives AuthFailed=True and Ready=False, keeping transition times when re-checked", () => {
    const first = planCloudStatus(undefined, 1, good, { kind: "AuthFailed", message: "Keystone refused the credentials" }, t0);
    assert.deepEqual(conds(first).filter(([t]) => t === "AuthFailed" || t === "Ready"), [["AuthFailed", "True", "AuthFailed"], ["Ready", "False", "AuthFailed"]]);
    const again = planCloudStatus(first, 1, good, { kind: "AuthFailed", message: "Keystone refused the credentials" }, t1);
    assert.equal(again.conditions?.find((c) => c.type === "AuthFailed")?.lastTransitionTime, "2026-01-01T00:00:00Z");
    assert.equal(again.lastCheckTime, "2026-01-01T00:05:00Z");
  });

  it("an unreachable endpoint keeps the last known microversion and host count", () => {
    const up = planCloudStatus(undefined, 1, good, connected, t0);
    const down = planCloudStatus(up, 1, good, { kind: "EndpointUnreachable", message: "connect ECONNREFUSED" }, t1);
    assert.deepEqual(conds(down).filter(([t]) => t === "EndpointUnreachable" || t === "Ready"), [["EndpointUnreachable", "True", "EndpointUnreachable"], ["Ready", "False", "EndpointUnreachable"]]);
    assert.equal(down.hostCount, 3);
  });

  it("a clouds.yaml the client cannot use is reported as an invalid Secret", () => {
    const s = planCloudStatus(undefined, 1, good, { kind: "InvalidConfig", reason: "CloudsYamlMissingKey", message: "clouds.lab.auth.password is missing" }, t0);
    assert.deepEqual(conds(s), [["Ready", "False", "SecretInvalid"], ["SecretValid", "False", "CloudsYamlMissingKey"]]);
    assert.equal(s.authUrl, undefined);
  });

  it("planning again from its own result with the same inputs changes nothing", () => {
    const s = planCloudStatus(undefined, 1, good, connected, t0);
    assert.deepEqual(planCloudStatus(s, 1, good, connected, t0), s);
  });
});
