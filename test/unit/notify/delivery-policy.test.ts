import assert from "node:assert/strict";
import fc from "fast-check";
import { classifyError, classifyResponse, endpointOrigin, retryDelayMs, urlProblem } from "../../../src/notify/delivery-policy.js";
import { PostError } from "../../../src/notify/http-poster.js";
import { endpointFingerprint, webhookEndpointFromSpec } from "../../../src/notify/webhook-endpoint.js";

const now = new Date("2026-01-01T00:00:00Z");

describe("delivery policy", () => {
  it("delivers on 2xx, retries 408/425/429/5xx, and gives up on redirects and other 4xx", () => {
    for (const s of [200, 201, 202, 204]) assert.equal(classifyResponse({ status: s, headers: {} }, now).kind, "delivered");
    for (const s of [408, 425, 429, 500, 502, 503, 504]) assert.equal(classifyResponse({ status: s, headers: {} }, now).kind, "retry", String(s));
    for (const s of [301, 302, 307, 308, 400, 401, 403, 404, 410, 413, 422]) assert.equal(classifyResponse({ status: s, headers: {} }, now).kind, "permanent", String(s));
    const redirect = classifyResponse({ status: 302, headers: { location: "https://elsewhere/x?token=t" } }, now);
    assert.ok(redirect.kind === "permanent" && /redirect not followed/.test(redirect.error) && !redirect.error.includes("token"));
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const a = classifyResponse({ status: 429, headers: { "retry-after": "7" } }, now);
    assert.ok(a.kind === "retry" && a.retryAfterMs === 7000);
    const b = classifyResponse({ status: 503, headers: { "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" } }, now);
    assert.ok(b.kind === "retry" && b.retryAfterMs === 30_000);
  });

  it("retries network errors and timeouts but not an invalid URL", () => {
    assert.deepEqual(classifyError(new PostError("timeout", "no response within 5000 ms")), { kind: "retry", result: "timeout", error: "no response within 5000 ms" });
    assert.equal(classifyError(new PostError("connection", "connection failed (ECONNREFUSED)")).kind, "retry");
    assert.equal(classifyError(new PostError("invalid-url", "invalid URL")).kind, "permanent");
    assert.equal(classifyError(new Error("weird")).kind, "retry");
  });

  it("backs off exponentially with jitter, capped, and never before a Retry-After", () => {
    assert.equal(retryDelayMs(1, () => 0), 500);
    assert.equal(retryDelayMs(1, () => 0.999999), 1000);
    assert.equal(retryDelayMs(3, () => 0), 2000);
    assert.equal(retryDelayMs(20, () => 0.999999), 60_000);
    assert.equal(retryDelayMs(1, () => 0, 7000), 7000);
    assert.equal(retryDelayMs(1, () => 0, 600_000), 60_000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.9999, noNaN: true }), fc.option(fc.nat(120_000), { nil: undefined }), (n, r, ra) => {
        const d = retryDelayMs(n, () => r, ra);
        const exp = Math.min(60_000, 1000 * 2 ** (n - 1));
        assert.ok(d >= Math.min(60_000, Math.max(Math.floor(exp / 2), ra ?? 0)) - 1 && d <= 60_000);
      }),
    );
  });

  it("requires https unless allowHTTP and logs only the origin", () => {
    assert.equal(urlProblem("https://example.com/x", false), undefined);
    assert.match(urlProblem("http://example.com/x", false) ?? "", /must use https/);
    assert.equal(urlProblem("http://example.com/x", true), undefined);
    assert.match(urlProblem("ftp://example.com/x", true) ?? "", /not supported/);
    assert.match(urlProblem("not a url", true) ?? "", /not a valid URL/);
    assert.equal(endpointOrigin("https://user:pw@hooks.example.com:8443/services/T0/B0/SECRET?x=1"), "https://hooks.example.com:8443");
  });
});

describe("webhook endpoint from the policy spec", () => {
  it("applies the CRD defaults", () => {
    const e = webhookEndpointFromSpec({ url: "https://owner.example/hook" }, {});
    assert.deepEqual(e, { url: "https://owner.example/hook", allowHTTP: false, timeoutMs: 5000, maxRetries: 5, queueSize: 1000 });
  });

  it("reports a referenced but missing Secret and a plain http URL as configuration errors", () => {
    const e = webhookEndpointFromSpec({ url: "http://owner.example/hook", hmacSecretRef: { name: "hook" }, caBundleSecretRef: { name: "ca", key: "bundle.pem" } }, {});
    assert.match(e.configError ?? "", /must use https/);
    assert.match(e.configError ?? "", /HMAC key not found \(Secret hook, key hmac-key\)/);
    assert.match(e.configError ?? "", /CA bundle not found \(Secret ca, key bundle\.pem\)/);
  });

  it("fingerprints every setting, the key included, without containing it", () => {
    const spec = { url: "https://owner.example/hook", hmacSecretRef: { name: "hook" } };
    const a = endpointFingerprint(webhookEndpointFromSpec(spec, { hmacKey: Buffer.from("key-1") }));
    assert.equal(a, endpointFingerprint(webhookEndpointFromSpec(spec, { hmacKey: Buffer.from("key-1") })));
    assert.notEqual(a, endpointFingerprint(webhookEndpointFromSpec(spec, { hmacKey: Buffer.from("key-2") })));
    assert.notEqual(a, endpointFingerprint(webhookEndpointFromSpec({ ...spec, timeoutSeconds: 6 }, { hmacKey: Buffer.from("key-1") })));
    assert.ok(!a.includes(Buffer.from("key-1").toString("hex")));
  });
});
