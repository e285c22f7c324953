import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { encodeHeartbeat, MAX_DATAGRAM_BYTES } from "../../../src/heartbeat/heartbeat-codec.js";
import { HeartbeatReceiver } from "../../../src/heartbeat/heartbeat-receiver.js";
import { HeartbeatSender } from "../../../src/heartbeat/heartbeat-sender.js";
import { UdpTransport } from "../../../src/heartbeat/udp-transport.js";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { silentLogger } from "../../../src/util/logger.js";
import { eventually } from "../../support/eventually.js";
import { BOOT_2, gaugeValue, KEY_A, KEY_B, KEY_C, keyring, message, rawClient, receivedByResult } from "./heartbeat-fixtures.js";

describe("heartbeat receiver (loopback UDP)", () => {
  let clock: FakeClock;
  let registry: Registry;
  let receiver: HeartbeatReceiver;
  let port: number;
  const transports: UdpTransport[] = [];

  beforeEach(async () => {
    clock = new FakeClock(new Date("2026-01-01T00:00:00Z"));
    registry = new Registry();
    receiver = new HeartbeatReceiver({ bindAddress: "127.0.0.1:0", keyring: keyring(KEY_B, KEY_A), clock, log: silentLogger(), registry });
    port = (await receiver.start()).port;
  });

  afterEach(async () => {
    await receiver.stop();
    await Promise.all(transports.splice(0).map((t) => t.close()));
  });

  function sender(host: string, key = KEY_B, over: Partial<ConstructorParameters<typeof HeartbeatSender>[0]> = {}): HeartbeatSender {
    const transport = new UdpTransport();
    transports.push(transport);
    return new HeartbeatSender({
      cloud: "lab",
      host,
      intervalMs: 1000,
      keyring: keyring(key),
      targets: { current: () => [{ address: "127.0.0.1", family: 4, port }] },
      transport,
      clock,
      log: silentLogger(),
      agentVersion: "0.1.0",
      ...over,
    });
  }

  it("round trip: sender → receiver; snapshot carries lastSeenMs, interval and peer report", async () => {
    await clock.advance(1234);
    const s = sender("compute-1", KEY_B, { peerReport: () => ({ heard: 4, unreachable: ["compute-9"], unreachableTotal: 1 }) });
    assert.equal(s.sendOnce(), 1);
    await eventually(() => assert.equal(receiver.snapshot().hosts.length, 1), 2000, 10);
    const [h] = receiver.snapshot().hosts;
    assert.equal(h?.host, "compute-1");
    assert.equal(h?.lastSeenMs, 1234);
    assert.equal(h?.intervalMs, 1000);
    assert.equal(h?.bootId, s.bootId);
    assert.equal(h?.agentVersion, "0.1.0");
    assert.equal(h?.peersHeard, 4);
    assert.deepEqual(h?.unreachablePeers, ["compute-9"]);
    assert.equal(await gaugeValue(registry, "vmkeeper_heartbeat_hosts"), 1);
    assert.equal((await receivedByResult(registry)).accepted, 1);
  });

  it("drops and counts bad MAC, unknown key, replays, oversize, garbage and truncated packets, and keeps working", async () => {
    const client = await rawClient();
    try {
      const ring = keyring(KEY_B);
      const good = encodeHeartbeat(message({ sentAtMs: clock.now().getTime() }), ring.signing());
      const badMac = Buffer.from(good);
      badMac[20] = (badMac[20] ?? 0) ^ 0xff;
      await client.send(good, port);
      await client.send(good, port); // replay
      await client.send(badMac, port);
      await client.send(encodeHeartbeat(message(), keyring(KEY_C).signing()), port);
      await client.send(Buffer.alloc(MAX_DATAGRAM_BYTES + 100, 1), port);
      await client.send(Buffer.from("GET / HTTP/1.1\r\n\r\n"), port);
      await client.send(good.subarray(0, good.length - 5), port);
      await client.send(Buffer.alloc(0), port);
      await client.send(encodeHeartbeat(message({ seq: 2, sentAtMs: clock.now().getTime() }), ring.signing()), port);
      await eventually(async () => {
        assert.deepEqual(await receivedByResult(registry), {
          accepted: 2,
          bad_mac: 2, // the bit flip, and the truncated packet (long enough to reach the MAC check)
          replay: 1,
          malformed: 2,
          oversize: 1,
          unknown_key: 1,
          unknown_version: 0,
          stale: 0,
          host_limit: 0,
        });
      }, 2000, 10);
      assert.equal(receiver.host({ cloud: "lab", host: "compute-1" })?.lastSeq, 2);
    } finally {
      await client.close();
    }
  });

  it("refuses timestamps outside the skew window but keeps liveness on its own monotonic clock", async () => {
    const wall = clock.now().getTime();
    assert.equal(receiver.handle(encodeHeartbeat(message({ sentAtMs: wall - 31_000 }), keyring(KEY_B).signing())), "stale");
    assert.equal(receiver.handle(encodeHeartbeat(message({ sentAtMs: wall + 31_000 }), keyring(KEY_B).signing())), "stale");
    assert.equal(receiver.handle(encodeHeartbeat(message({ seq: 3, sentAtMs: wall + 29_000 }), keyring(KEY_B).signing())), "accepted");
    await clock.advance(5000);
    // The host's clock jumped back 20 s: still inside the window, still accepted, lastSeenMs moves on the receiver's clock.
    assert.equal(receiver.handle(encodeHeartbeat(message({ seq: 4, sentAtMs: wall - 15_000 }), keyring(KEY_B).signing())), "accepted");
    assert.equal(receiver.lastSeenMs({ cloud: "lab", host: "compute-1" }), 5000);
    assert.equal(receiver.handle(encodeHeartbeat(message({ seq: 5, sentAtMs: wall - 60_000 }), keyring(KEY_B).signing())), "stale");
    const h = receiver.host({ cloud: "lab", host: "compute-1" });
    assert.equal(h?.lastStaleMs, 5000);
    assert.equal(h?.clockOffsetMs, -65_000);
    assert.equal(h?.lastSeenMs, 5000);
  });

  it("key rotation: the previous key is accepted, an unknown key is not", () => {
    const wall = clock.now().getTime();
    assert.equal(receiver.handle(encodeHeartbeat(message({ host: "old", sentAtMs: wall }), keyring(KEY_A).signing())), "accepted");
    assert.equal(receiver.handle(encodeHeartbeat(message({ host: "new", sentAtMs: wall }), keyring(KEY_B).signing())), "accepted");
    assert.equal(receiver.handle(encodeHeartbeat(message({ host: "evil", sentAtMs: wall }), keyring(KEY_C).signing())), "unknown_key");
  });

  it("a boot id change resets the sequence", () => {
    const wall = clock.now().getTime();
    const sign = keyring(KEY_B).signing();
    assert.equal(receiver.handle(encodeHeartbeat(message({ seq: 50, sentAtMs: wall }), sign)), "accepted");
    assert.equal(receiver.handle(encodeHeartbeat(message({ bootId: BOOT_2, seq: 1, sentAtMs: wall }), sign)), "accepted");
    assert.equal(receiver.handle(encodeHeartbeat(message({ seq: 51, sentAtMs: wall }), sign)), "replay");
    assert.equal(receiver.host({ cloud: "lab", host: "compute-1" })?.bootChanges, 1);
  });

  it("peer reports produce peerViewOf", async () => {
    const a = sender("compute-a", KEY_B, { peerReport: () => ({ heard: 1, unreachable: ["compute-c"], unreachableTotal: 1 }) });
    const b = sender("compute-b", KEY_A, { peerReport: () => ({ heard: 0, unreachable: ["compute-a", "compute-c"], unreachableTotal: 2 }) });
    a.sendOnce();
    b.sendOnce();
    await eventually(() => assert.equal(receiver.snapshot().hosts.length, 2), 2000, 10);
    const now = clock.monotonicMs();
    assert.deepEqual(receiver.peerViewOf({ cloud: "lab", host: "compute-c" }, now, 3000), { reporting: 2, unreachable: 2, unreachableBy: ["compute-a", "compute-b"] });
    assert.deepEqual(receiver.peerViewOf({ cloud: "lab", host: "compute-a" }, now, 3000), { reporting: 1, unreachable: 1, unreachableBy: ["compute-b"] });
    assert.deepEqual(receiver.peerViewOf({ cloud: "lab", host: "compute-c" }, now + 3001, 3000).reporting, 0);
  });

  it("fails to start with a clear message on a bad or busy address", async () => {
    const bad = new HeartbeatReceiver({ bindAddress: "nope", keyring: keyring(), clock, log: silentLogger(), registry: new Registry() });
    await assert.rejects(bad.start(), /is not IP:PORT/);
    const busy = new HeartbeatReceiver({ bindAddress: `127.0.0.1:${port}`, keyring: keyring(), clock, log: silentLogger(), registry: new Registry() });
    await assert.rejects(busy.start(), /cannot bind/);
  });
});
