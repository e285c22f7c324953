import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { signatureHeader, verifySignature } from "../../../src/notify/webhook-signature.js";

const key = Buffer.from("s3cr3t-signing-key");

describe("webhook signature", () => {
  it("is t=<unix>,v1=<hex hmac-sha256(key, '<t>.<body>')>", () => {
    const body = '{"id":"x"}';
    const header = signatureHeader(key, 1767225600, body);
    const expected = createHmac("sha256", key).update(`1767225600.${body}`).digest("hex");
    assert.equal(header, `t=1767225600,v1=${expected}`);
  });

  it("verifies within the tolerance and refuses stale, tampered and malformed headers", () => {
    const body = '{"id":"x"}';
    const header = signatureHeader(key, 1000, body);
    assert.deepEqual(verifySignature(key, body, header, 1000), { ok: true });
    assert.deepEqual(verifySignature(key, body, header, 1300), { ok: true });
    assert.deepEqual(verifySignature(key, body, header, 1301), { ok: false, reason: "expired" });
    assert.deepEqual(verifySignature(key, body.replace("x", "y"), header, 1000), { ok: false, reason: "mismatch" });
    assert.deepEqual(verifySignature(Buffer.from("other"), body, header, 1000), { ok: false, reason: "mismatch" });
    assert.deepEqual(verifySignature(key, body, header.replace(/^t=1000/, "t=1001"), 1000), { ok: false, reason: "mismatch" });
    for (const bad of [undefined, "", "v1=abc", "t=1000", "t=x,v1=00", "garbage"]) assert.equal(verifySignature(key, body, bad, 1000).ok, false);
  });

  it("accepts any matching v1 (key rotation on the receiver side)", () => {
    const body = "{}";
    const good = signatureHeader(key, 5, body).split(",")[1] ?? "";
    assert.deepEqual(verifySignature(key, body, `t=5,v1=${"0".repeat(64)},${good}`, 5), { ok: true });
  });

  it("round-trips for any key and body, and any change to the body breaks it", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.string(), fc.integer({ min: 0, max: 2 ** 32 }), (k, body, t) => {
        const h = signatureHeader(k, t, body);
        assert.ok(verifySignature(k, body, h, t).ok);
        assert.equal(verifySignature(k, `${body} `, h, t).ok, false);
      }),
    );
  });
});
