import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { DomainInventory, type InventoryDomain } from "../../../../src/agent/libvirt/domain-inventory.js";
import { VirshError, type LibvirtReader } from "../../../../src/agent/libvirt/virsh-client.js";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { silentLogger } from "../../../../src/util/logger.js";

const A = "3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718";
const B = "11111111-2222-4333-8444-555555555555";

const xml = (name: string, uuid: string, socket?: string): string =>
  `<domain type='qemu'><name>${name}</name><uuid>${uuid}</uuid><devices>${socket === undefined ? "" : `<channel type='unix'><source mode='bind' path='${socket}'/><target type='virtio' name='org.vmkeeper.heartbeat.0'/></channel>`}</devices></domain>`;

class FakeReader implements LibvirtReader {
  domains = new Map<string, { xml: string; state: string }>();
  lists = 0;
  gate: Promise<void> = Promise.resolve();
  async listDomainUuids(): Promise<string[]> {
    this.lists++;
    const keys = [...this.domains.keys()];
    await this.gate;
    return keys;
  }
  async dumpXml(uuid: string): Promise<string> {
    const d = this.domains.get(uuid);
    if (!d) throw new VirshError(`failed to get domain '${uuid}'`, 1);
    return d.xml;
  }
  async domainState(uuid: string): Promise<string> {
    return this.domains.get(uuid)?.state ?? "shut off (unknown)";
  }
  async domainUuid(name: string): Promise<string> {
    if (name === "asked-of-libvirt") return B.toUpperCase();
    throw new VirshError(`failed to get domain '${name}'`, 1);
  }
}

function setup() {
  const reader = new FakeReader();
  const registry = new Registry();
  const changes: (readonly InventoryDomain[])[] = [];
  const clock = new FakeClock();
  const inventory = new DomainInventory({ reader, registry, clock, log: silentLogger(), refreshIntervalMs: 1000, onChange: (d) => changes.push(d) });
  return { reader, registry, inventory, changes, clock };
}

describe("DomainInventory", () => {
  it("reads every domain, exposes heartbeat channels and counts domains", async () => {
    const { reader, registry, inventory, changes } = setup();
    reader.domains.set(A, { xml: xml("instance-a", A, "/run/a.sock"), state: "running (booted)" });
    reader.domains.set(B, { xml: xml("instance-b", B), state: "shut off (destroyed)" });
    const list = await inventory.refresh();
    assert.deepEqual(list.map((d) => [d.name, d.state]), [["instance-a", "running (booted)"], ["instance-b", "shut off (destroyed)"]]);
    assert.deepEqual(inventory.heartbeatChannels(), [{ instanceUuid: A, socketPath: "/run/a.sock" }]);
    assert.equal(inventory.get("instance-b")?.uuid, B);
    assert.equal(inventory.get(A)?.name, "instance-a");
    const gauge = (await registry.getMetricsAsJSON()).find((m) => m.name === "vmkeeper_agent_libvirt_domains");
    assert.equal(gauge?.values[0]?.value, 2);
    assert.equal(changes.length, 1);
    await inventory.refresh();
    assert.equal(changes.length, 1, "no change, no callback");
    const b = reader.domains.get(B);
    if (b) b.state = "running (booted)";
    await inventory.refresh();
    assert.equal(changes.length, 2);
  });

  it("leaves out a domain that vanished between list and dumpxml, or whose XML is unusable", async () => {
    const { reader, inventory } = setup();
    reader.domains.set(A, { xml: "<domain><name>broken</name></domain>", state: "running" });
    const original = reader.listDomainUuids.bind(reader);
    reader.listDomainUuids = async () => [...(await original()), B];
    assert.deepEqual(await inventory.refresh(), []);
  });

  it("coalesces concurrent refreshes: callers during a read get the next read, not a stale one", async () => {
    const { reader, inventory } = setup();
    reader.domains.set(A, { xml: xml("instance-a", A), state: "running (booted)" });
    let open: () => void = () => undefined;
    reader.gate = new Promise((r) => (open = r));
    const first = inventory.refresh();
    await new Promise((r) => setImmediate(r));
    reader.domains.set(B, { xml: xml("instance-b", B), state: "running (booted)" });
    const second = inventory.refresh();
    const third = inventory.refresh();
    open();
    reader.gate = Promise.resolve();
    assert.equal((await first).length, 1);
    assert.equal((await second).length, 2);
    assert.equal((await third).length, 2);
    assert.equal(reader.lists, 2, "second and third shared one read");
  });

  it("resolves a name from the inventory, from the previous generation, else from libvirt", async () => {
    const { reader, inventory } = setup();
    reader.domains.set(A, { xml: xml("instance-a", A), state: "running (booted)" });
    await inventory.refresh();
    reader.domains.delete(A);
    await inventory.refresh();
    assert.equal(await inventory.resolveUuid("instance-a"), A, "a domain that just vanished still resolves");
    assert.equal(await inventory.resolveUuid("asked-of-libvirt"), B);
    assert.equal(await inventory.resolveUuid("nobody"), undefined);
    await inventory.refresh();
    assert.equal(await inventory.resolveUuid("instance-a"), undefined);
  });

  it("refreshes periodically on its clock until aborted", async () => {
    const { reader, inventory, clock } = setup();
    const stop = new AbortController();
    const running = inventory.run(stop.signal);
    await new Promise((r) => setImmediate(r));
    assert.equal(reader.lists, 1);
    await clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    assert.equal(reader.lists, 2);
    stop.abort();
    await running;
  });
});
