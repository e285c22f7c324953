import assert from "node:assert/strict";
import { decodeGuestSgm, statusParts } from "../../../src/agent/server-group/guest-sgm-codec.js";
import { encodeSgm } from "../../../src/guest-heartbeat/guest-pdu.js";
import { AgentLinks } from "../../../src/server-group-messaging/agent-links.js";
import { parseAgentMessage, parseOperatorMessage, type OperatorToAgent } from "../../../src/server-group-messaging/link-messages.js";
import { payloadWireBytes } from "../../../src/server-group-messaging/sgm-limits.js";
import { SgmRouter } from "../../../src/server-group-messaging/sgm-router.js";
import { TokenBucket } from "../../../src/server-group-messaging/token-bucket.js";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { silentLogger } from "../../../src/util/logger.js";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "aaaaaaaa-0000-4000-8000-000000000002";
const C = "aaaaaaaa-0000-4000-8000-000000000003";

/** Links whose streams are recorded in memory instead of HTTP responses. */
function recordingLinks(): { links: AgentLinks; sent: Map<string, OperatorToAgent[]> } {
  const links = new AgentLinks();
  const sent = new Map<string, OperatorToAgent[]>();
  links.send = (host, m) => {
    sent.set(host, [...(sent.get(host) ?? []), m]);
    return true;
  };
  return { links, sent };
}

describe("server-group messaging router", () => {
  const setup = () => {
    const clock = new FakeClock();
    const { links, sent } = recordingLinks();
    // Stream presence is what routeOf checks; mark both hosts as connected.
    links.routeOf = (id) => (id === A || id === B ? "h1" : id === C ? "h2" : undefined);
    links.connected = (id) => links.routeOf(id) !== undefined;
    const results: string[] = [];
    const router = new SgmRouter({ links, clock, log: silentLogger(), metrics: { message: (t, r) => results.push(`${t}:${r}`), delivered: () => undefined, latency: () => undefined }, identity: "op" });
    router.setGroup("ns/g", {
      group: { id: "g", name: "g", policy: "anti-affinity" },
      settings: { broadcast: true, notifications: true, notifyStates: ["Stopped"], statusQuery: true, maxPayloadBytes: 100, messagesPerSecond: 2, burst: 2 },
      members: [{ instanceId: A, name: "a", host: "h1", state: "Active" }, { instanceId: B, name: "b", host: "h1", state: "Active" }, { instanceId: C, name: "c", host: "h2", state: "Active" }],
    });
    router.active = true;
    return { clock, router, sent, results };
  };

  it("delivers a broadcast once per destination host, to every member but the sender", () => {
    const { router, sent } = setup();
    router.handle("h1", { t: "broadcast", id: "bbbbbbbb-0000-4000-8000-000000000001", from: A, payload: "hi" });
    assert.deepEqual(sent.get("h1")?.map((m) => (m.t === "deliver" ? m.to : [])), [[B]]);
    assert.deepEqual(sent.get("h2")?.map((m) => (m.t === "deliver" ? m.to : [])), [[C]]);
    assert.equal(router.counters("ns/g").broadcastsDelivered, 2);
  });

  it("refuses a sender the agent is not on the Nova host of (spoofed), over-size, rate-exceeding and non-members, counting each", async () => {
    const { router, sent, clock } = setup();
    router.handle("h2", { t: "broadcast", id: "bbbbbbbb-0000-4000-8000-000000000002", from: A, payload: "x" });
    router.handle("h1", { t: "broadcast", id: "bbbbbbbb-0000-4000-8000-000000000003", from: A, payload: "x".repeat(101) });
    router.handle("h1", { t: "broadcast", id: "bbbbbbbb-0000-4000-8000-000000000004", from: "cccccccc-0000-4000-8000-000000000009", payload: "x" });
    for (let i = 0; i < 3; i++) router.handle("h1", { t: "status-query", from: A });
    await clock.advance(500);
    router.handle("h1", { t: "status-query", from: A });
    const codes = [...sent.values()].flat().filter((m) => m.t === "error").map((m) => (m.t === "error" ? m.code : ""));
    assert.deepEqual(codes, ["spoofed", "payload_too_large", "not_member", "rate_limited"]);
    const c = router.counters("ns/g");
    assert.deepEqual([c.refusedSpoofed, c.refusedOversize, c.refusedRateLimited], [1, 1, 1]);
    assert.equal(sent.get("h1")?.filter((m) => m.t === "status").length, 3, "two from the burst, one refilled after 500 ms at 2/s");
  });

  it("notifies the other members only of states the group asked for; nothing when not leading", () => {
    const { router, sent } = setup();
    assert.equal(router.notify("ns/g", { instanceId: C, name: "c", state: "Active", previousState: "Stopped", event: "StateChanged", reason: "r" }), 0);
    assert.equal(router.notify("ns/g", { instanceId: C, name: "c", state: "Stopped", previousState: "Active", event: "StateChanged", reason: "r" }), 2);
    assert.deepEqual(sent.get("h1")?.map((m) => (m.t === "notify" ? m.to : [])), [[A, B]]);
    router.active = false;
    assert.equal(router.notify("ns/g", { instanceId: C, name: "c", state: "Stopped", previousState: "Active", event: "StateChanged", reason: "r" }), 0);
  });
});

describe("server-group messaging codecs and limits", () => {
  it("counts payloads as JSON.stringify escapes them, like the guest", () => {
    assert.equal(payloadWireBytes("abc"), 3);
    assert.equal(payloadWireBytes('a"b'), 4);
    assert.equal(payloadWireBytes("\u0001"), 6);
    assert.equal(payloadWireBytes("é"), 2);
  });

  it("guest messages: identity claims are spoofing, size is checked, unknown types refused", () => {
    assert.deepEqual(decodeGuestSgm({ type: "broadcast", body: { payload: "x", ref: "r1" } }), { kind: "broadcast", payload: "x", ref: "r1" });
    assert.equal((decodeGuestSgm({ type: "broadcast", body: { payload: "x", from: A } }) as { refused: string }).refused, "spoofed");
    assert.equal((decodeGuestSgm({ type: "broadcast", body: { payload: "y".repeat(3051) } }) as { refused: string }).refused, "payload_too_large");
    assert.equal((decodeGuestSgm({ type: "broadcast", body: { payload: "y".repeat(3050) } }) as { kind: string }).kind, "broadcast");
    assert.equal((decodeGuestSgm({ type: "nope", body: {} }) as { refused: string }).refused, "invalid_message");
    assert.equal((decodeGuestSgm({ type: "status-query", body: { ref: "bad ref" } }) as { refused: string }).refused, "invalid_message");
  });

  it("a status of 256 members is split into lines that each fit the channel's 4096-byte limit", () => {
    const members = Array.from({ length: 256 }, (_, i) => ({ instanceId: `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, "0")}`, name: "n".repeat(200), state: "Active" as const, agentConnected: true }));
    const parts = statusParts("q", A, { id: "g", name: "g", policy: "anti-affinity" }, members);
    assert.ok(parts.length > 1);
    for (const p of parts) assert.ok(Buffer.byteLength(encodeSgm(p)) <= 4096);
    assert.equal(parts.reduce((n, p) => n + (p.body.members as unknown[]).length, 0), 256);
  });

  it("link messages: anything malformed is refused, never thrown", () => {
    for (const x of [null, 5, "s", [], { t: "broadcast" }, { t: "guests", instances: ["x"] }, { t: "refused", from: A, code: "other" }]) assert.ok("invalid" in parseAgentMessage(x));
    for (const line of ["", "{", "[]", '{"t":"deliver","to":"x"}', '{"t":"notify","to":[],"id":"x"}', '{"t":"zzz"}']) assert.equal(parseOperatorMessage(line), undefined);
  });

  it("token bucket: burst, then the refill rate", () => {
    const b = new TokenBucket(10, 3, 0);
    assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
    assert.equal(b.take(100), true);
    assert.equal(b.take(100), false);
  });
});
