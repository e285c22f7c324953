import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { decodePdu } from "../../../src/guest-heartbeat/decode-pdu.js";
import { encodePdu, type GuestPdu } from "../../../src/guest-heartbeat/guest-pdu.js";
import { LineFramer, MAX_LINE_BYTES } from "../../../src/guest-heartbeat/line-framer.js";

const NONCE = "0123456789abcdef0123456789abcdef";
const line = (s: string): Buffer => Buffer.from(s.replace(/\n$/, ""), "utf8");

describe("guest heartbeat line framer", () => {
  it("reassembles lines split across chunks and skips blank lines and trailing CR", () => {
    const f = new LineFramer(16);
    const got = ["ab", "c\nde", "f\r\n\n  \nghi", "\n"].flatMap((c) => f.push(Buffer.from(c)));
    assert.deepEqual(got.map((x) => (x.kind === "line" ? x.line.toString() : "!")), ["abc", "def", "ghi"]);
  });

  it("reports an over-long line once and resumes after its newline, with bounded buffering", () => {
    const f = new LineFramer(8);
    const got = [...f.push(Buffer.from("12345678\n123456789")), ...f.push(Buffer.alloc(100_000, 0x78)), ...f.push(Buffer.from("tail\nok\n"))];
    assert.deepEqual(got.map((x) => (x.kind === "line" ? x.line.toString() : "oversize")), ["12345678", "oversize", "ok"]);
  });

  it("accepts exactly MAX_LINE_BYTES and refuses one more", () => {
    const f = new LineFramer();
    assert.equal(f.push(Buffer.from(`${"a".repeat(MAX_LINE_BYTES)}\n`))[0]?.kind, "line");
    assert.equal(f.push(Buffer.from(`${"a".repeat(MAX_LINE_BYTES + 1)}\n`))[0]?.kind, "oversize");
  });

  it("any chunking of a stream yields the same frames (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.constant("\n")), { maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1 }), (parts, cuts) => {
        const stream = Buffer.from(parts.join(""));
        const whole = new LineFramer(10).push(stream);
        const f = new LineFramer(10);
        const chunked = [];
        for (let i = 0, c = 0; i < stream.length; c++) {
          const n = cuts[c % cuts.length] ?? 1;
          chunked.push(...f.push(stream.subarray(i, i + n)));
          i += n;
        }
        assert.deepEqual(chunked, whole);
      }),
    );
  });
});

describe("guest heartbeat PDU codec", () => {
  const pdus: [GuestPdu, "host" | "guest"][] = [
    [{ group: "heartbeat", type: "init", body: { agent: "vmkeeper-guest/0.1.0", bootId: NONCE, intervalMs: 500, groups: ["heartbeat", "sgm"] } }, "host"],
    [{ group: "heartbeat", type: "init-ack", body: { intervalMs: 1000, threshold: 3, groups: ["heartbeat"] } }, "guest"],
    [{ group: "heartbeat", type: "challenge", body: { seq: Number.MAX_SAFE_INTEGER, nonce: NONCE } }, "guest"],
    [{ group: "heartbeat", type: "response", body: { seq: 1, nonce: NONCE, health: "unhealthy", reason: "é".repeat(128) } }, "host"],
    [{ group: "heartbeat", type: "exit", body: { reason: "shutdown" } }, "guest"],
    [{ group: "heartbeat", type: "action-notify", body: { actionId: "a:1", action: "reboot", revocable: false, deadlineMs: 100 } }, "guest"],
    [{ group: "heartbeat", type: "vote", body: { actionId: "a:1", vote: "refuse", reason: "busy" } }, "host"],
    [{ group: "base", type: "error", body: { code: "no_session", detail: "send init first" } }, "guest"],
  ];

  it("round-trips every PDU and refuses it in the wrong direction", () => {
    for (const [pdu, to] of pdus) {
      assert.deepEqual(decodePdu(line(encodePdu(pdu)), to), { ok: true, pdu });
      const other = decodePdu(line(encodePdu(pdu)), to === "host" ? "guest" : "host");
      if (pdu.type !== "exit" && pdu.type !== "error") assert.equal(!other.ok && other.error.kind, "unexpected");
    }
  });

  it("returns typed errors for bad input", () => {
    const cases: [string, string][] = [
      ['{"v":1,"group":"heartbeat","type":"response","body":{"seq":1,"nonce":"' + NONCE + '","health":"unhealthy","reason":""}}', "invalidBody"],
      ['{"v":1,"group":"heartbeat","type":"response","body":{"seq":1,"nonce":"' + NONCE + '","health":"meh"}}', "invalidBody"],
      ['{"v":1,"group":"heartbeat","type":"response","body":{"seq":1,"nonce":"' + NONCE + '","health":"unhealthy","reason":"' + "é".repeat(129) + '"}}', "invalidBody"],
      ['{"v":1,"group":"heartbeat","type":"vote","body":{"actionId":"a","vote":"refuse"}}', "invalidBody"],
      ['{"v":1,"group":"heartbeat","type":"init","body":{"agent":"a b","bootId":"' + NONCE + '","groups":["heartbeat"]}}', "invalidBody"],
      ['{"v":1,"group":"heartbeat","type":"init","body":{"agent":"a","bootId":"' + NONCE + '","groups":["sgm"]}}', "invalidBody"],
      ['{"v":1,"group":"heartbeat","type":"init","body":{"agent":"a","bootId":"' + NONCE + '","intervalMs":399,"groups":["heartbeat"]}}', "invalidBody"],
      ['{"v":1,"group":"__proto__","type":"x","body":{}}', "unknownGroup"],
      ['{"v":1,"group":"heartbeat","type":"constructor","body":{}}', "unknownType"],
      ['{"v":1,"group":"sgm","type":"broadcast","body":{}}', "unhandledGroup"],
      ['{"v":2}', "unknownVersion"],
      ['{"v":1.5}', "malformed"],
      ["[1]", "malformed"],
    ];
    for (const [text, kind] of cases) {
      const r = decodePdu(Buffer.from(text), "host");
      assert.equal(!r.ok && r.error.kind, kind, text);
    }
    const v2 = decodePdu(Buffer.from('{"v":2,"group":"base","type":"error","body":{}}'), "host");
    assert.deepEqual(!v2.ok && [v2.error.version, v2.error.isError], [2, true]);
  });

  it("never throws and always classifies, for arbitrary bytes and mutated PDUs (property)", () => {
    const seeds = pdus.map(([p]) => line(encodePdu(p)));
    const mutated = fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([i, muts]) => {
      const b = Buffer.from(seeds[i] ?? Buffer.alloc(0));
      for (const [pos, byte] of muts) if (b.length > 0) b[pos % b.length] = byte;
      return b;
    });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 200 }), fc.json().map((j) => Buffer.from(j))), (bytes) => {
        for (const to of ["host", "guest"] as const) {
          const r = decodePdu(bytes, to);
          assert.ok(r.ok || typeof r.error.kind === "string");
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts every JSON example in docs/protocols/guest-heartbeat.md", () => {
    const doc = readFileSync(new URL("../../../../docs/protocols/guest-heartbeat.md", import.meta.url), "utf8");
    const examples = [...doc.matchAll(/```json\n(.*)\n```/g)].map((m) => m[1] ?? "");
    assert.ok(examples.length >= 9, `${examples.length} examples`);
    for (const text of examples) {
      const r = [decodePdu(Buffer.from(text), "host"), decodePdu(Buffer.from(text), "guest")];
      assert.ok(r.some((x) => x.ok) || r.some((x) => !x.ok && x.error.kind === "unknownVersion"), text);
    }
  });
});
