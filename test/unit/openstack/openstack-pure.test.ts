import assert from "node:assert/strict";
import fc from "fast-check";
import { parseErrorBody } from "../../../src/openstack/error-body.js";
import { buildEvacuateBody, evacuateMicroversion } from "../../../src/openstack/evacuate-body.js";
import { keystoneV3Url } from "../../../src/openstack/clouds-config.js";
import { mv, negotiateMicroversion } from "../../../src/openstack/microversion.js";
import { backoffDelayMs, parseRetryAfter } from "../../../src/openstack/retry-policy.js";
import { SecretValue, scrubSecrets } from "../../../src/openstack/secret-value.js";

describe("microversion negotiation (pure)", () => {
  const range = (min: string, max: string): { min: ReturnType<typeof mv>; max: ReturnType<typeof mv> } => ({ min: mv(min), max: mv(max) });
  it("picks the highest common version and refuses ranges without one", () => {
    assert.deepEqual(negotiateMicroversion(range("2.1", "2.93")), { ok: true, version: mv("2.93"), server: range("2.1", "2.93") });
    const r = negotiateMicroversion(range("2.1", "2.96"));
    assert.ok(r.ok && r.version.minor === 95);
    const old = negotiateMicroversion(range("2.1", "2.50"));
    assert.ok(!old.ok && old.reason === "TooOld");
    const future = negotiateMicroversion(range("2.100", "2.110"));
    assert.ok(!future.ok && future.reason === "TooNew");
    assert.ok(!negotiateMicroversion(undefined).ok);
  });

  it("compares minors numerically (2.100 > 2.95)", () => {
    const r = negotiateMicroversion(range("2.1", "2.100"));
    assert.ok(r.ok && r.version.minor === 95);
  });
});

describe("evacuate body", () => {
  it("sends host only when given, onSharedStorage only before 2.14, never force or adminPass", () => {
    assert.deepEqual(buildEvacuateBody(mv("2.93"), { host: "c2" }), { evacuate: { host: "c2" } });
    assert.deepEqual(buildEvacuateBody(mv("2.60"), {}), { evacuate: {} });
    assert.deepEqual(buildEvacuateBody(mv("2.13"), { onSharedStorage: true }), { evacuate: { onSharedStorage: "True" } });
    assert.deepEqual(evacuateMicroversion(mv("2.95"), { landStopped: false }), mv("2.94"));
    assert.deepEqual(evacuateMicroversion(mv("2.93"), { landStopped: false }), mv("2.93"));
  });
});

describe("retry backoff", () => {
  const policy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 8000 };
  it("grows exponentially, stays within [half, full] of the step and under the cap", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (n, r) => {
        const step = Math.min(8000, 500 * 2 ** (n - 1));
        const d = backoffDelayMs(policy, n, () => r);
        return d >= Math.floor(step / 2) && d <= step && d <= 8000;
      }),
    );
  });
  it("honours Retry-After up to the cap, in seconds or as a date", () => {
    assert.equal(backoffDelayMs(policy, 1, () => 0, 3000), 3000);
    assert.equal(backoffDelayMs(policy, 1, () => 0, 60_000), 8000);
    assert.equal(parseRetryAfter("2", new Date(0)), 2000);
    assert.equal(parseRetryAfter("Thu, 01 Jan 1970 00:00:05 GMT", new Date(0)), 5000);
    assert.equal(parseRetryAfter("soon", new Date(0)), undefined);
  });
});

describe("error bodies and secrets", () => {
  it("reads Nova, Keystone and non-JSON error bodies", () => {
    assert.deepEqual(parseErrorBody('{"badRequest": {"code": 400, "message": "Compute service of c1 is still in use."}}'), { message: "Compute service of c1 is still in use.", fault: "badRequest" });
    assert.deepEqual(parseErrorBody('{"error": {"code": 401, "title": "Unauthorized", "message": "nope"}}'), { message: "nope", fault: "Unauthorized" });
    assert.equal(parseErrorBody("<html><body><h1>503 Service Unavailable</h1></body></html>").message, "503 Service Unavailable");
  });

  it("scrubs known secrets, fernet tokens and auth headers", () => {
    const s = new SecretValue("hunter22");
    const out = scrubSecrets("pw hunter22 token gAAAAABhellohellohellohellohello x-auth-token: abc123 ok", [s]);
    assert.equal(out, "pw [REDACTED] token [REDACTED] x-auth-token: [REDACTED] ok");
    assert.equal(JSON.stringify({ s }), '{"s":"[REDACTED]"}');
  });

  it("normalises Keystone URLs to /v3", () => {
    assert.equal(keystoneV3Url(new URL("https://k:5000")), "https://k:5000/v3");
    assert.equal(keystoneV3Url(new URL("https://k/identity/v3/")), "https://k/identity/v3");
    assert.equal(keystoneV3Url(new URL("https://k:5000/v2.0")), "https://k:5000/v3");
  });
});
