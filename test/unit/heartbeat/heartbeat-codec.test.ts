import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { decodeHeartbeat, encodeHeartbeat, FLAG_PEERS_TRUNCATED, MAX_DATAGRAM_BYTES, MIN_DATAGRAM_BYTES } from "../../../src/heartbeat/heartbeat-codec.js";
import { KEY_A, KEY_B, KEY_C, keyring, message } from "./heartbeat-fixtures.js";

describe("heartbeat codec", () => {
  const ring = keyring(KEY_A);
  const signer = ring.signing();

  it("round-trips every field", () => {
    const msg = message({ seq: 2 ** 40 + 7, intervalMs: 250, peers: { heard: 41, unreachable: ["compute-7", "compute-9"], unreachableTotal: 2 }, agentVersion: "0.1.0" });
    const buf = encodeHeartbeat(msg, signer);
    const d = decodeHeartbeat(buf, ring);
    assert.ok(d.ok);
    assert.deepEqual(d.msg, msg);
    assert.equal(d.keyId, "k2026a");
  });

  it("is compact: an empty report with a 9-character host fits in ~100 bytes", () => {
    const buf = encodeHeartbeat(message(), signer);
    assert.ok(buf.length < 110, `${buf.length} bytes`);
    assert.ok(buf.length >= MIN_DATAGRAM_BYTES);
  });

  it("cuts a long unreachable list to fit the maximum datagram and keeps the exact total", () => {
    const unreachable = Array.from({ length: 400 }, (_, i) => `compute-${String(i).padStart(4, "0")}.example.org`);
    const buf = encodeHeartbeat(message({ peers: { heard: 3, unreachable, unreachableTotal: 400 } }), signer);
    assert.ok(buf.length <= MAX_DATAGRAM_BYTES);
    assert.equal((buf[3] ?? 0) & FLAG_PEERS_TRUNCATED, FLAG_PEERS_TRUNCATED);
    const d = decodeHeartbeat(buf, ring);
    assert.ok(d.ok);
    assert.equal(d.msg.peers.unreachableTotal, 400);
    assert.ok(d.msg.peers.unreachable.length > 20 && d.msg.peers.unreachable.length < 400);
    assert.deepEqual(d.msg.peers.unreachable, unreachable.slice(0, d.msg.peers.unreachable.length));
  });

  it("refuses to encode invalid fields", () => {
    assert.throws(() => encodeHeartbeat(message({ host: "" }), signer), RangeError);
    assert.throws(() => encodeHeartbeat(message({ bootId: "abc" }), signer), RangeError);
    assert.throws(() => encodeHeartbeat(message({ seq: 0 }), signer), RangeError);
    assert.throws(() => encodeHeartbeat(message({ intervalMs: 10 }), signer), RangeError);
  });

  it("rejects oversize, garbage, truncated and trailing data", () => {
    const good = encodeHeartbeat(message({ peers: { heard: 1, unreachable: ["compute-2"], unreachableTotal: 1 } }), signer);
    assert.deepEqual(decodeHeartbeat(Buffer.alloc(MAX_DATAGRAM_BYTES + 1), ring), { ok: false, reason: "oversize" });
    assert.deepEqual(decodeHeartbeat(Buffer.from("hello, world"), ring), { ok: false, reason: "malformed" });
    assert.deepEqual(decodeHeartbeat(Buffer.alloc(0), ring), { ok: false, reason: "malformed" });
    for (let len = 0; len < good.length; len++) assert.equal(decodeHeartbeat(good.subarray(0, len), ring).ok, false, `prefix ${len}`);
    assert.equal(decodeHeartbeat(Buffer.concat([good, Buffer.from([0])]), ring).ok, false);
  });

  it("rejects every single-bit change (MAC, header or body)", () => {
    const good = encodeHeartbeat(message({ agentVersion: "x" }), signer);
    for (let i = 0; i < good.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(good);
        bad[i] = (bad[i] ?? 0) ^ bit;
        assert.equal(decodeHeartbeat(bad, ring).ok, false, `byte ${i} bit ${bit}`);
      }
    }
  });

  it("names the reason: bad MAC, unknown key, unknown version", () => {
    const good = encodeHeartbeat(message(), signer);
    const badMac = Buffer.from(good);
    badMac[badMac.length - 1] = (badMac[badMac.length - 1] ?? 0) ^ 1;
    assert.deepEqual(decodeHeartbeat(badMac, ring), { ok: false, reason: "bad_mac" });
    assert.deepEqual(decodeHeartbeat(encodeHeartbeat(message(), keyring(KEY_C).signing()), ring), { ok: false, reason: "unknown_key" });
    const v2 = Buffer.from(good);
    v2[2] = 2;
    assert.deepEqual(decodeHeartbeat(v2, ring), { ok: false, reason: "unknown_version" });
  });

  it("a packet signed by a key under the same id but another secret fails the MAC", () => {
    const impostor = keyring({ id: KEY_A.id, secret: Buffer.alloc(32, 0x55) }).signing();
    assert.deepEqual(decodeHeartbeat(encodeHeartbeat(message(), impostor), ring), { ok: false, reason: "bad_mac" });
  });

  it("key rotation: current and previous keys verify, the first one signs", () => {
    const rotated = keyring(KEY_B, KEY_A);
    assert.equal(rotated.signing().id, KEY_B.id);
    assert.ok(decodeHeartbeat(encodeHeartbeat(message(), keyring(KEY_A).signing()), rotated).ok);
    assert.ok(decodeHeartbeat(encodeHeartbeat(message(), rotated.signing()), rotated).ok);
    assert.equal(decodeHeartbeat(encodeHeartbeat(message(), rotated.signing()), keyring(KEY_A)).ok, false);
  });

  it("skips unknown extension types (room for later agents) but still authenticates them", () => {
    const buf = encodeHeartbeat(message({ agentVersion: "1.2.3" }), signer);
    const body = Buffer.from(buf.subarray(0, buf.length - 32));
    body[body.length - 7] = 99; // the agent-version TLV's type byte → an unknown type
    const resigned = Buffer.concat([body, Buffer.alloc(32)]);
    createHmac("sha256", KEY_A.secret).update(body).digest().copy(resigned, body.length);
    const d = decodeHeartbeat(resigned, ring);
    assert.ok(d.ok);
    assert.equal(d.msg.agentVersion, undefined);
  });

  it("fuzz: random byte strings never throw and are never accepted", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1400 }), (bytes) => {
        const d = decodeHeartbeat(Buffer.from(bytes), ring);
        assert.equal(d.ok, false);
      }),
      { numRuns: 3000 },
    );
  });

  it("fuzz: random valid-looking headers with random bodies are never accepted", () => {
    const header = encodeHeartbeat(message(), signer).subarray(0, 5 + KEY_A.id.length);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1200 }), (tail) => {
        const d = decodeHeartbeat(Buffer.concat([header, Buffer.from(tail)]), ring);
        assert.equal(d.ok, false);
      }),
      { numRuns: 3000 },
    );
  });

  it("fuzz: any mutation of a valid packet is rejected", () => {
    const good = encodeHeartbeat(message({ peers: { heard: 2, unreachable: ["a", "b"], unreachableTotal: 2 } }), signer);
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = Buffer.from(good);
        bad[at] = (bad[at] ?? 0) ^ xor;
        assert.equal(decodeHeartbeat(bad, ring).ok, false);
      }),
      { numRuns: 2000 },
    );
  });
});

