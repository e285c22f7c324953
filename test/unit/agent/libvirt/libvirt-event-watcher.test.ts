import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { InventoryDomain } from "../../../../src/agent/libvirt/domain-inventory.js";
import { LibvirtEventWatcher, restartDelayMs, type DomainDirectory } from "../../../../src/agent/libvirt/libvirt-event-watcher.js";
import type { AgentReport, DomainEventReport } from "../../../../src/agent/reports/agent-report.js";
import { SystemClock } from "../../../../src/util/clock.js";
import { silentLogger } from "../../../../src/util/logger.js";
import { eventually } from "../../../support/eventually.js";

const UUID = "3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718";
const TS = "2026-12-01 22:31:05.500+0000";

class FakeDirectory implements DomainDirectory {
  domains: InventoryDomain[] = [{ name: "instance-0000002a", uuid: UUID, state: "running (booted)" }];
  refreshes = 0;
  async resolveUuid(name: string): Promise<string | undefined> {
    return this.domains.find((d) => d.name === name)?.uuid;
  }
  async refresh(): Promise<readonly InventoryDomain[]> {
    this.refreshes++;
    return this.domains.map((d) => ({ ...d }));
  }
  requestRefresh(): void {
    this.refreshes++;
  }
}

/** A stand-in for `virsh event` that prints `lines` (one per 5 ms) and then exits or stays. */
function printer(lines: string[], stay: boolean): { file: string; args: string[] } {
  const script = `const lines = ${JSON.stringify(lines)}; let i = 0;
const t = setInterval(() => { if (i < lines.length) process.stdout.write(lines[i++] + "\\n"); else { clearInterval(t); if (!${stay}) process.exit(0); else setInterval(() => {}, 1000); } }, 5);`;
  return { file: process.execPath, args: ["-e", script] };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return typeof v?.value === "number" ? v.value : 0;
}

function setup(command: { file: string; args: string[] }, dir = new FakeDirectory()) {
  const reports: DomainEventReport[] = [];
  const registry = new Registry();
  const watcher = new LibvirtEventWatcher({
    host: "compute-1",
    sink: { submit: (r: AgentReport) => void (r.kind === "DomainEvent" && reports.push(r)) },
    inventory: dir,
    registry,
    clock: new SystemClock(),
    log: silentLogger(),
    command,
    restart: { initialDelayMs: 20, maxDelayMs: 80 },
    connectedAfterMs: 50,
  });
  const stop = new AbortController();
  const running = watcher.run(stop.signal);
  return { reports, registry, watcher, dir, stop: async () => (stop.abort(), await running) };
}

describe("LibvirtEventWatcher", function () {
  this.timeout(20_000);

  it("turns classified events into reports in order, with the instance UUID, and counts what it drops", async () => {
    const w = setup(
      printer(
        [
          `${TS}: event 'lifecycle' for domain 'instance-0000002a': Resumed Unpaused`,
          `${TS}: event 'lifecycle' for domain 'instance-0000002a': Started Booted`,
          "not a virsh line",
          `${TS}: event 'lifecycle' for domain 'instance-0000002a': Suspended Paused`,
          `${TS}: event 'lifecycle' for domain 'instance-0000002a': Stopped Destroyed`,
          `${TS}: event 'lifecycle' for domain 'unknown-domain': Stopped Failed`,
          `${TS}: event 'watchdog' for domain 'instance-0000002a': reset`,
          `${TS}: event 'graphics' for domain 'instance-0000002a': connect local[IPv4 127.0.0.1 5900] remote[IPv4 127.0.0.1 4000] none`,
          "\tx509dname=CN=client",
          `${TS}: event 'lifecycle' for domain 'instance-0000002a': Started Booted`,
        ],
        true,
      ),
    );
    try {
      await eventually(() => assert.equal(w.reports.length, 4), 5_000, 10);
      assert.deepEqual(
        w.reports.map((r) => [r.event, r.detail]),
        [
          ["Started", "Resumed Unpaused"],
          ["StoppedUnrequested", "Stopped Destroyed"],
          ["WatchdogFired", "Watchdog reset"],
          ["Started", "Started Booted"],
        ],
      );
      const first = w.reports[0];
      assert.equal(first?.instanceUuid, UUID);
      assert.equal(first?.domainName, "instance-0000002a");
      assert.equal(first?.host, "compute-1");
      assert.ok(!Number.isNaN(Date.parse(first?.at ?? "")));
      assert.equal(await metric(w.registry, "vmkeeper_agent_libvirt_malformed_lines_total"), 1);
      assert.equal(await metric(w.registry, "vmkeeper_agent_libvirt_unresolved_events_total"), 1);
      assert.equal(await metric(w.registry, "vmkeeper_agent_libvirt_events_total", { event: "Started" }), 3);
      assert.equal(await metric(w.registry, "vmkeeper_agent_libvirt_events_total", { event: "Unreported" }), 2);
      assert.equal(await metric(w.registry, "vmkeeper_agent_libvirt_connected"), 1);
      assert.ok(w.watcher.connected());
    } finally {
      await w.stop();
    }
    assert.equal(w.watcher.connected(), false);
    assert.equal(w.watcher.streamPid(), undefined);
  });

  it("tells a shutdown the guest asked for from one the host did (QEMU's SIGTERM), by the Shutdown event before the stop", async () => {
    const on = (payload: string): string => `${TS}: event 'lifecycle' for domain 'instance-0000002a': ${payload}`;
    const w = setup(printer([on("Shutdown Finished after guest request"), on("Stopped Shutdown"), on("Started Booted"), on("Shutdown Finished after host request"), on("Stopped Shutdown")], true));
    try {
      await eventually(() => assert.equal(w.reports.length, 3), 5_000, 10);
      assert.deepEqual(
        w.reports.map((r) => [r.event, r.detail]),
        [
          ["GuestShutdown", "Stopped Shutdown"],
          ["Started", "Started Booted"],
          ["StoppedUnrequested", "Stopped Shutdown (Shutdown Finished after host request)"],
        ],
      );
    } finally {
      await w.stop();
    }
  });

  it("restarts the stream with backoff when it exits, and keeps reporting", async () => {
    const dir = new FakeDirectory();
    for (const d of dir.domains) d.state = "shut off (crashed)";
    const w = setup(printer([`${TS}: event 'lifecycle' for domain 'instance-0000002a': Stopped Crashed`], false), dir);
    try {
      await eventually(() => assert.ok(w.reports.length >= 3, `reports: ${w.reports.length}`), 10_000, 10);
      assert.ok(w.reports.every((r) => r.event === "Crashed"));
      assert.ok(w.watcher.restarts() >= 2);
      assert.ok((await metric(w.registry, "vmkeeper_agent_libvirt_stream_restarts_total")) >= 2);
    } finally {
      await w.stop();
    }
  });

  it("keeps retrying a stream that cannot start, without connecting", async () => {
    const w = setup({ file: "/nonexistent/virsh", args: [] });
    try {
      await eventually(() => assert.ok(w.watcher.restarts() >= 3), 10_000, 10);
      assert.equal(w.watcher.connected(), false);
      assert.equal(await metric(w.registry, "vmkeeper_agent_libvirt_connected"), 0);
    } finally {
      await w.stop();
    }
  });

  /**
   * Runs `body` with a watcher whose virsh event stream exits after `exitAfterMs[n]` on its
   * n-th run (so the watcher reconnects and resyncs) and stays up from then on.
   */
  async function withFlakyStream(dir: FakeDirectory, exitAfterMs: number[], body: (w: ReturnType<typeof setup>) => Promise<void>): Promise<void> {
    const script = `const fs = require("node:fs"); const f = process.argv[1]; const exits = ${JSON.stringify(exitAfterMs)};
const n = (fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8")) : 0) + 1; fs.writeFileSync(f, String(n));
if (n <= exits.length) setTimeout(() => process.exit(0), exits[n - 1]); else setInterval(() => {}, 1000);`;
    const marker = `/tmp/vmkeeper-watcher-test-${process.pid}-${Date.now()}`;
    const w = setup({ file: process.execPath, args: ["-e", script, marker] }, dir);
    try {
      await eventually(() => assert.ok(dir.refreshes >= 1), 5_000, 10);
      assert.equal(w.reports.length, 0, "the first snapshot is a baseline, not news");
      await body(w);
    } finally {
      await w.stop();
      const { rm } = await import("node:fs/promises");
      await rm(marker, { force: true });
    }
  }

  it("after a reconnect, reports state changes it missed while disconnected (not on the first connect)", async () => {
    const dir = new FakeDirectory();
    dir.domains.push({ name: "instance-0000002b", uuid: "11111111-2222-4333-8444-555555555555", state: "shut off (destroyed)" });
    await withFlakyStream(dir, [150], async (w) => {
      const first = dir.domains[0];
      if (first) first.state = "shut off (failed)";
      await eventually(() => assert.equal(w.reports.length, 1), 5_000, 10);
      assert.deepEqual([w.reports[0]?.event, w.reports[0]?.detail, w.reports[0]?.instanceUuid], ["StoppedUnrequested", "resync: shut off (failed)", UUID]);
    });
  });

  it("after a reconnect, does not turn a known unrequested stop into a guest shutdown (`shut off (shutdown)` does not say who asked)", async () => {
    const dir = new FakeDirectory();
    dir.domains.push({ name: "instance-0000002b", uuid: "11111111-2222-4333-8444-555555555555", state: "running (booted)" });
    await withFlakyStream(dir, [150, 1500], async (w) => {
      const first = dir.domains[0];
      if (first) first.state = "shut off (failed)";
      await eventually(() => assert.equal(w.reports.length, 1), 5_000, 10);
      if (first) first.state = "shut off (shutdown)";
      const before = dir.refreshes;
      await eventually(() => assert.ok(dir.refreshes >= before + 1), 10_000, 10);
      assert.deepEqual(w.reports.map((r) => r.event), ["StoppedUnrequested"]);
    });
  });
});

describe("restartDelayMs", () => {
  it("doubles from the initial delay up to the cap", () => {
    const p = { initialDelayMs: 250, maxDelayMs: 2000 };
    assert.deepEqual([0, 1, 2, 3, 4, 50].map((a) => restartDelayMs(a, p)), [250, 500, 1000, 2000, 2000, 2000]);
  });
});
