import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { decodeHeartbeat } from "../../../src/heartbeat/heartbeat-codec.js";
import { HeartbeatSender } from "../../../src/heartbeat/heartbeat-sender.js";
import type { UdpTarget } from "../../../src/heartbeat/udp-address.js";
import type { DatagramTransport } from "../../../src/heartbeat/udp-transport.js";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { silentLogger } from "../../../src/util/logger.js";
import { KEY_A, KEY_B, keyring } from "./heartbeat-fixtures.js";

class CapturingTransport implements DatagramTransport {
  readonly sent: { buf: Buffer; target: UdpTarget; atMs: number }[] = [];
  constructor(private readonly clock: FakeClock) {}
  send(buf: Buffer, target: UdpTarget): void {
    this.sent.push({ buf, target, atMs: this.clock.monotonicMs() });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const TARGETS: UdpTarget[] = [
  { address: "127.0.0.1", family: 4, port: 7001 },
  { address: "127.0.0.1", family: 4, port: 7002 },
];

describe("heartbeat sender", () => {
  function setup(random: () => number, ring = keyring(KEY_A)) {
    const clock = new FakeClock();
    const transport = new CapturingTransport(clock);
    const registry = new Registry();
    const sender = new HeartbeatSender({ cloud: "lab", host: "compute-1", intervalMs: 1000, keyring: ring, targets: { current: () => TARGETS }, transport, clock, log: silentLogger(), random, registry });
    return { clock, transport, sender, registry, ring };
  }

  it("sends to every target every interval, never later than the interval, at most 10 % early", async () => {
    let i = 0;
    const randoms = [0, 1, 0.5, 0.999, 0.25];
    const { clock, transport, sender, ring } = setup(() => randoms[i++ % randoms.length] ?? 0);
    const stop = new AbortController();
    const done = sender.run(stop.signal);
    for (let t = 0; t < 10_000; t += 50) await clock.advance(50);
    stop.abort();
    await done;
    const times = [...new Set(transport.sent.map((s) => s.atMs))];
    assert.ok(times.length >= 10 && times.length <= 12, `${times.length} sends`);
    for (let k = 1; k < times.length; k++) {
      const gap = (times[k] ?? 0) - (times[k - 1] ?? 0);
      assert.ok(gap >= 900 - 50 && gap <= 1000, `gap ${gap}`);
    }
    const seqs = transport.sent.filter((s) => s.target.port === 7001).map((s) => {
      const d = decodeHeartbeat(s.buf, ring);
      assert.ok(d.ok);
      assert.equal(d.msg.bootId, sender.bootId);
      return d.msg.seq;
    });
    assert.deepEqual(seqs, seqs.map((_, k) => k + 1));
  });

  it("delays stay within [0.9, 1.0] × interval", () => {
    const { sender } = setup(() => 0);
    assert.equal(sender.nextDelayMs(), 1000);
    const { sender: s2 } = setup(() => 0.9999999);
    assert.equal(s2.nextDelayMs(), 900);
  });

  it("a new sender (process start) has a new boot id and starts again at seq 1", () => {
    const a = setup(() => 0);
    const b = setup(() => 0);
    assert.notEqual(a.sender.bootId, b.sender.bootId);
    b.sender.sendOnce();
    const d = decodeHeartbeat(b.transport.sent[0]?.buf ?? Buffer.alloc(0), b.ring);
    assert.ok(d.ok);
    assert.equal(d.msg.seq, 1);
  });

  it("signs with the keyring's current first key (rotation without restart)", () => {
    const { sender, transport, ring } = setup(() => 0);
    sender.sendOnce();
    ring.replace([KEY_B, KEY_A]);
    sender.sendOnce();
    const ids = transport.sent.filter((s) => s.target.port === 7001).map((s) => {
      const d = decodeHeartbeat(s.buf, ring);
      assert.ok(d.ok);
      return d.keyId;
    });
    assert.deepEqual(ids, [KEY_A.id, KEY_B.id]);
  });

  it("counts datagrams sent", async () => {
    const { sender, registry } = setup(() => 0);
    sender.sendOnce();
    const v = (await registry.getSingleMetric("vmkeeper_agent_heartbeats_sent_total")?.get())?.values[0]?.value;
    assert.equal(v, 2);
  });

  it("refuses an interval outside the wire format's range", () => {
    const clock = new FakeClock();
    assert.throws(
      () => new HeartbeatSender({ cloud: "lab", host: "h", intervalMs: 10, keyring: keyring(), targets: { current: () => [] }, transport: new CapturingTransport(clock), clock, log: silentLogger() }),
      RangeError,
    );
  });
});
