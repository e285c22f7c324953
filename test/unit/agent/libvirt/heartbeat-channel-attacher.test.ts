import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { InventoryDomain } from "../../../../src/agent/libvirt/domain-inventory.js";
import { HEARTBEAT_CHANNEL_XML, HeartbeatChannelAttacher, needsHeartbeatChannel } from "../../../../src/agent/libvirt/heartbeat-channel-attacher.js";
import { parseXml } from "../../../../src/agent/libvirt/xml-tree.js";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { silentLogger } from "../../../../src/util/logger.js";

const nova = { name: "app" };
const domain = (over: Partial<InventoryDomain>): InventoryDomain => ({ name: "instance-0000000b", uuid: "3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718", nova, state: "running (booted)", virtioSerial: true, runId: "7", ...over });

describe("needsHeartbeatChannel", () => {
  it("is true only for a running Nova domain with a virtio-serial controller and no heartbeat channel", () => {
    assert.equal(needsHeartbeatChannel(domain({})), true);
    assert.equal(needsHeartbeatChannel(domain({ heartbeatSocketPath: "/run/x.sock" })), false, "has the channel");
    assert.equal(needsHeartbeatChannel(domain({ virtioSerial: false })), false, "libvirt cannot hot-plug the controller");
    assert.equal(needsHeartbeatChannel(domain({ state: "shut off (destroyed)" })), false, "not running");
    assert.equal(needsHeartbeatChannel(domain({ state: "paused (user)" })), false, "not running");
    const { nova: _ignored, ...notNova } = domain({});
    assert.equal(needsHeartbeatChannel(notNova), false, "not a Nova instance");
  });

  it("plugs a unix channel with the vmkeeper name and no path (libvirt chooses one in its own directory)", () => {
    const ch = parseXml(HEARTBEAT_CHANNEL_XML);
    assert.equal(ch.attributes.get("type"), "unix");
    const source = ch.children.find((c) => c.name === "source");
    assert.equal(source?.attributes.get("mode"), "bind");
    assert.equal(source?.attributes.get("path"), undefined);
    const target = ch.children.find((c) => c.name === "target");
    assert.deepEqual([target?.attributes.get("type"), target?.attributes.get("name")], ["virtio", "org.vmkeeper.heartbeat.0"]);
  });
});

describe("HeartbeatChannelAttacher", () => {
  let clock: FakeClock;
  let registry: Registry;
  let calls: string[];
  let fail: boolean;
  const attacher = (): HeartbeatChannelAttacher =>
    new HeartbeatChannelAttacher({
      writer: {
        attachDeviceLive: async (uuid) => {
          calls.push(uuid);
          if (fail) throw new Error("virsh attach-device failed: error: internal error: unable to execute QEMU command 'device_add'");
        },
      },
      registry,
      clock,
      log: silentLogger(),
      retryAfterMs: 300_000,
    });
  const count = async (result: string): Promise<number> => (await registry.getSingleMetric("vmkeeper_agent_heartbeat_channel_attach_total")?.get())?.values.find((v) => v.labels.result === result)?.value ?? -1;

  beforeEach(() => {
    clock = new FakeClock(new Date("2026-12-02T00:00:00Z"));
    registry = new Registry();
    calls = [];
    fail = false;
  });

  it("attaches to the domains that need it and says so", async () => {
    const a = attacher();
    const other = domain({ uuid: "11111111-2222-3333-4444-555555555555", heartbeatSocketPath: "/run/h.sock" });
    assert.equal(await a.reconcile([domain({}), other]), true);
    assert.deepEqual(calls, ["3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718"]);
    assert.equal(await count("attached"), 1);
    assert.equal(await a.reconcile([other]), false, "nothing to do");
  });

  it("attaches once per run of a domain: again after Nova starts it anew (its live channel is gone), not before", async () => {
    const a = attacher();
    assert.equal(await a.reconcile([domain({})]), true);
    assert.equal(await a.reconcile([domain({})]), false, "a stale inventory entry of the same run");
    assert.equal(await a.reconcile([domain({ runId: "8" })]), true, "hard reboot: a new run without the channel");
    assert.equal(calls.length, 2);
  });

  it("after a failure waits before trying the same domain again, and counts it", async () => {
    const a = attacher();
    fail = true;
    assert.equal(await a.reconcile([domain({})]), false);
    assert.equal(await a.reconcile([domain({})]), false);
    assert.equal(calls.length, 1, "not hammered");
    assert.equal(await count("failed"), 1);
    await clock.advance(300_000);
    fail = false;
    assert.equal(await a.reconcile([domain({})]), true);
    assert.equal(calls.length, 2);
    assert.equal(await count("attached"), 1);
  });

  it("forgets a failure once the domain is gone, so a new domain of that UUID is tried at once", async () => {
    const a = attacher();
    fail = true;
    await a.reconcile([domain({})]);
    await a.reconcile([]);
    fail = false;
    assert.equal(await a.reconcile([domain({})]), true);
    assert.equal(calls.length, 2);
  });

  it("runs one pass at a time; a change during a pass runs once more afterwards", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    const a = new HeartbeatChannelAttacher({
      writer: {
        attachDeviceLive: async (uuid) => {
          seen.push(uuid);
          await gate;
        },
      },
      registry,
      clock,
      log: silentLogger(),
    });
    const first = a.reconcile([domain({})]);
    const second = a.reconcile([domain({}), domain({ uuid: "11111111-2222-3333-4444-555555555555" })]);
    assert.deepEqual(seen, ["3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718"], "the second waits for the first");
    release();
    await first;
    await second;
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ["3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718", "11111111-2222-3333-4444-555555555555"], "the change seen during the pass is handled after it, without attaching twice to a domain whose inventory entry is not fresh yet");
  });
});
