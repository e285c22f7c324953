import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Registry } from "prom-client";
import type { DomainInventory } from "../../src/agent/libvirt/domain-inventory.js";
import type { LibvirtEventWatcher } from "../../src/agent/libvirt/libvirt-event-watcher.js";
import { eventually } from "../support/eventually.js";
import { qemuPid, watchLibvirt, type DomainEventRecorder, type WatchedLibvirt } from "../support/libvirt-watch.js";
import { startPrivateLibvirtd, tinyDomainXml, type PrivateLibvirtd, type TinyDomain } from "../support/libvirtd.js";
import { runCommand } from "../support/run-command.js";

/** The bound from `virsh destroy` to the DomainEventReport in the sink. */
const DESTROY_TO_REPORT_MS = 2000;

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return typeof v?.value === "number" ? v.value : NaN;
}

describe("libvirt monitoring against a private libvirt daemon (QEMU driver, TCG)", function () {
  let lv: PrivateLibvirtd;
  let sink: DomainEventRecorder;
  let registry: Registry;
  let inventory: DomainInventory;
  let watcher: LibvirtEventWatcher;
  let watched: WatchedLibvirt | undefined;
  let domain: TinyDomain;

  before(async function () {
    this.timeout(900_000);
    const install = await runCommand("bash", ["hack/install-virt-peers.sh"], { timeoutMs: 900_000 });
    assert.equal(install.code, 0, `hack/install-virt-peers.sh failed:\n${install.stderr}`);
    lv = await startPrivateLibvirtd();
    console.log(`      private ${lv.daemon} ${lv.version}: ${lv.uri}`);
    const uuid = randomUUID();
    domain = { name: `instance-${uuid.slice(0, 8)}`, uuid, heartbeatSocketPath: join(lv.dir, "vm", `${uuid}.sock`), novaName: "web-1" };
    const xmlPath = join(lv.dir, "domain.xml");
    await writeFile(xmlPath, tinyDomainXml(domain));
    await lv.virshOk("define", xmlPath);
    // A restart delay long enough to do something behind the watcher's back while it is away.
    watched = await watchLibvirt(lv, { initialDelayMs: 1500, maxDelayMs: 5000 });
    ({ sink, registry, inventory, watcher } = watched);
  });

  after(async function () {
    this.timeout(60_000);
    await watched?.stop();
    if (lv) {
      await lv.virsh("destroy", domain.uuid);
      await lv.stop();
    }
  });

  it("lists the domain with its Nova metadata and the heartbeat channel's socket from a real dumpxml", async function () {
    const domains = await inventory.refresh();
    const d = domains.find((x) => x.uuid === domain.uuid);
    assert.ok(d, `domain not in inventory: ${JSON.stringify(domains)}`);
    assert.equal(d.name, domain.name);
    assert.equal(d.heartbeatSocketPath, domain.heartbeatSocketPath);
    assert.equal(d.nova?.name, "web-1");
    assert.equal(d.nova?.projectName, "demo");
    assert.match(d.state, /^shut off/);
    assert.deepEqual(inventory.heartbeatChannels(), [{ instanceUuid: domain.uuid, socketPath: domain.heartbeatSocketPath }]);
    assert.equal(await metric(registry, "vmkeeper_agent_libvirt_domains"), 1);
  });

  it("reports Started once when the domain starts", async function () {
    this.timeout(60_000);
    const mark = sink.received.length;
    await lv.virshOk("start", domain.uuid);
    const started = await eventually(() => {
      const got = sink.since(mark, "Started");
      assert.equal(got.length, 1, `Started reports: ${JSON.stringify(sink.received.slice(mark))}`);
      return got[0];
    }, 20_000);
    assert.equal(started?.report.instanceUuid, domain.uuid);
    assert.equal(started?.report.domainName, domain.name);
    assert.equal(started?.report.host, "compute-1");
    // libvirt also sends Resumed/Unpaused for a start: still one report.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sink.since(mark, "Started").length, 1);
  });

  it(`reports a virsh destroy behind everyone's back as StoppedUnrequested within ${DESTROY_TO_REPORT_MS} ms`, async function () {
    this.timeout(60_000);
    const mark = sink.received.length;
    const t0 = performance.now();
    await lv.virshOk("destroy", domain.uuid);
    const got = await eventually(() => {
      const r = sink.since(mark, "StoppedUnrequested")[0];
      assert.ok(r, "no StoppedUnrequested yet");
      return r;
    }, 10_000, 10);
    const elapsed = got.atMs - t0;
    console.log(`      virsh destroy → StoppedUnrequested report: ${elapsed.toFixed(0)} ms`);
    assert.equal(got.report.instanceUuid, domain.uuid);
    assert.equal(got.report.detail, "Stopped Destroyed");
    assert.ok(!Number.isNaN(Date.parse(got.report.at)));
    assert.ok(elapsed <= DESTROY_TO_REPORT_MS, `took ${elapsed.toFixed(0)} ms`);
    assert.ok((await metric(registry, "vmkeeper_agent_libvirt_events_total", { event: "StoppedUnrequested" })) >= 1);
  });

  it("reports Started again, and a QEMU killed with SIGKILL as StoppedUnrequested (Stopped Failed)", async function () {
    this.timeout(60_000);
    const mark = sink.received.length;
    await lv.virshOk("start", domain.uuid);
    await eventually(() => assert.equal(sink.since(mark, "Started").length, 1), 20_000);
    process.kill(await qemuPid(domain.uuid), "SIGKILL");
    const got = await eventually(() => {
      const r = sink.since(mark, "StoppedUnrequested")[0];
      assert.ok(r, "no StoppedUnrequested yet");
      return r;
    }, 20_000);
    assert.equal(got.report.detail, "Stopped Failed");
    assert.equal(got.report.instanceUuid, domain.uuid);
  });

  it("restarts the event stream when virsh event is killed, and catches up on a stop that happened meanwhile", async function () {
    this.timeout(90_000);
    await lv.virshOk("start", domain.uuid);
    await eventually(() => assert.equal(sink.received[sink.received.length - 1]?.report.event, "Started"), 20_000);
    const mark = sink.received.length;
    const first = watcher.streamPid();
    assert.ok(first !== undefined);
    const restarts = watcher.restarts();
    process.kill(first, "SIGKILL");
    await eventually(() => assert.equal(watcher.connected(), false), 5_000, 20);
    assert.equal(await metric(registry, "vmkeeper_agent_libvirt_connected"), 0);
    // Stopped while no stream listens: the watcher learns it from the state after reconnecting.
    await lv.virshOk("destroy", domain.uuid);
    const caught = await eventually(() => {
      const r = sink.since(mark, "StoppedUnrequested")[0];
      assert.ok(r, "no StoppedUnrequested after reconnect");
      return r;
    }, 30_000);
    assert.equal(caught.report.detail, "resync: shut off (destroyed)");
    assert.ok(watcher.restarts() > restarts);
    const second = watcher.streamPid();
    assert.ok(second !== undefined && second !== first, "virsh event was not restarted");
    assert.equal(await metric(registry, "vmkeeper_agent_libvirt_connected"), 1);
    // And the new stream reports live events.
    const live = sink.received.length;
    await lv.virshOk("start", domain.uuid);
    await eventually(() => assert.equal(sink.since(live, "Started").length, 1), 20_000);
    await lv.virshOk("destroy", domain.uuid);
    const again = await eventually(() => {
      const r = sink.since(live, "StoppedUnrequested")[0];
      assert.ok(r, "no live StoppedUnrequested after reconnect");
      return r;
    }, 20_000);
    assert.equal(again.report.detail, "Stopped Destroyed");
    assert.equal(await metric(registry, "vmkeeper_agent_libvirt_malformed_lines_total"), 0);
  });
});
