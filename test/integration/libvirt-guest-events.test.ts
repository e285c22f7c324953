import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DomainEventKind, DomainEventReport } from "../../src/agent/reports/agent-report.js";
import { ensureVirtPeers } from "../support/agent-process.js";
import { eventually } from "../support/eventually.js";
import { guestDomainXml } from "../support/guest-domain.js";
import { startPrivateLibvirtd, type PrivateLibvirtd } from "../support/libvirtd.js";
import { qemuPid, VirshEventLog, watchLibvirt, type WatchedLibvirt } from "../support/libvirt-watch.js";
import { buildGuestImage, type GuestImage } from "../support/qemu-guest.js";
import { runCommand } from "../support/run-command.js";
import { REPO_ROOT } from "../support/test-assets.js";

/** A booted guest domain of this file: its names and where its console goes. */
interface Guest {
  name: string;
  uuid: string;
  consoleLog: string;
}

/**
 * The three domain events that need a guest to misbehave, each made for real: the tiny test
 * guest (hack/build-guest-image.sh) boots under libvirt + QEMU (TCG) with `vmkeeper.test=<mode>`
 * on its kernel command line, and the agent's real watcher classifies what libvirt emits.
 */
describe("libvirt guest events: watchdog, I/O error pause and guest shutdown (private libvirt daemon, QEMU TCG, tiny guest)", function () {
  this.timeout(300_000);
  let image: GuestImage;
  let lv: PrivateLibvirtd;
  let watched: WatchedLibvirt;
  let events: VirshEventLog;
  const guests: Guest[] = [];

  before(async function () {
    this.timeout(1_200_000);
    await ensureVirtPeers();
    image = await buildGuestImage(REPO_ROOT);
    lv = await startPrivateLibvirtd();
    const qemu = (await runCommand("qemu-system-x86_64", ["--version"])).stdout.split("\n")[0] ?? "";
    console.log(`      private ${lv.daemon} ${lv.version}, ${qemu}`);
    events = VirshEventLog.start(lv);
    // A restart delay long enough to let a guest pause behind the watcher's back while it is away.
    watched = await watchLibvirt(lv, { initialDelayMs: 5000, maxDelayMs: 10_000 });
  });

  after(async function () {
    this.timeout(60_000);
    await watched?.stop();
    await events?.stop();
    for (const g of guests) await lv.virsh("destroy", g.uuid);
    await lv?.stop();
  });

  /** Defines and starts a guest that boots with `vmkeeper.test=<mode>`. */
  async function startGuest(mode: string, more: { extraDevices?: string; acpi?: boolean } = {}): Promise<Guest> {
    const uuid = randomUUID();
    const g: Guest = { name: `instance-${uuid.slice(0, 8)}`, uuid, consoleLog: join(lv.dir, `${mode}-console.log`) };
    const xml = join(lv.dir, `${mode}.xml`);
    await writeFile(xml, guestDomainXml({ name: g.name, uuid, image, consoleLog: g.consoleLog, extraCmdline: `vmkeeper.test=${mode}`, ...more }));
    await lv.virshOk("define", xml);
    guests.push(g);
    await lv.virshOk("start", g.uuid);
    return g;
  }

  /** performance.now() soon after the guest printed `marker` on its console. */
  async function consoleShows(g: Guest, marker: string, timeoutMs = 180_000): Promise<number> {
    return eventually(() => {
      let text = "";
      try {
        text = readFileSync(g.consoleLog, "utf8");
      } catch {
        // not created yet
      }
      assert.ok(text.includes(marker), `console of ${g.name} has no "${marker}" yet:\n${text.slice(-1500)}`);
      return performance.now();
    }, timeoutMs, 20);
  }

  /** The first `kind` report for `g` at or after sink index `mark`. */
  async function reported(g: Guest, mark: number, kind: DomainEventKind, timeoutMs = 60_000): Promise<{ report: DomainEventReport; atMs: number }> {
    return eventually(() => {
      const r = watched.sink.since(mark, kind).find((x) => x.report.instanceUuid === g.uuid);
      assert.ok(r, `no ${kind} for ${g.name}; reports: ${JSON.stringify(watched.sink.received.slice(mark).map((x) => x.report))}; libvirt: ${events.linesFor(g.name).join(" | ")}`);
      return r;
    }, timeoutMs, 10);
  }

  /** Waits until libvirt's raw event lines for the guest (from line `from`) include one matching `last`; logs them. */
  async function rawEvents(g: Guest, last: RegExp, from = 0): Promise<string[]> {
    const lines = await eventually(() => {
      const got = events.linesFor(g.name).slice(from);
      assert.ok(got.some((l) => last.test(l)), `no virsh event line matching ${String(last)}: ${got.join(" | ")}`);
      return got;
    }, 10_000, 20);
    for (const l of lines) console.log(`        virsh event: ${l}`);
    return lines;
  }

  const domstate = async (g: Guest): Promise<string> => (await lv.virshOk("domstate", "--reason", g.uuid)).trim();

  it("reports WatchdogFired when the guest arms the i6300esb watchdog and stops feeding it", async () => {
    const mark = watched.sink.received.length;
    const g = await startGuest("watchdog", { extraDevices: "<watchdog model='i6300esb' action='none'/>" });
    const armedAt = await consoleShows(g, "VMKEEPER-TEST: watchdog armed");
    const fired = await reported(g, mark, "WatchdogFired");
    console.log(`      watchdog armed (fed once, heartbeat=2 s) → WatchdogFired report: ${(fired.atMs - armedAt).toFixed(0)} ms`);
    assert.equal(fired.report.domainName, g.name);
    assert.equal(fired.report.detail, "Watchdog none");
    await rawEvents(g, /event 'watchdog' for domain '[^']+': none$/);
    assert.match(await domstate(g), /^running/, "action none leaves the guest running");
    const rawFrom = events.linesFor(g.name).length;
    const stopMark = watched.sink.received.length;
    await lv.virshOk("destroy", g.uuid);
    await rawEvents(g, /: Stopped Destroyed$/, rawFrom);
    await reported(g, stopMark, "StoppedUnrequested");
    assert.deepEqual(watched.sink.received.slice(stopMark).map((r) => r.report.detail), ["Stopped Destroyed"], "virsh destroy: one report");
  });

  it("reports GuestShutdown, once, when the guest powers itself off (busybox poweroff -f, ACPI S5)", async () => {
    const mark = watched.sink.received.length;
    const g = await startGuest("poweroff", { acpi: true });
    const offAt = await consoleShows(g, "VMKEEPER-TEST: powering off");
    const down = await reported(g, mark, "GuestShutdown");
    console.log(`      guest poweroff -f → GuestShutdown report: ${(down.atMs - offAt).toFixed(0)} ms`);
    assert.equal(down.report.detail, "Stopped Shutdown");
    await eventually(async () => assert.equal(await domstate(g), "shut off (shutdown)"), 20_000);
    await rawEvents(g, /: Stopped Shutdown$/);
    assert.deepEqual(watched.sink.received.slice(mark).filter((r) => r.report.instanceUuid === g.uuid).map((r) => r.report.event), ["Started", "GuestShutdown"]);
  });

  it("a virsh shutdown (ACPI power button, the guest powers off) reads exactly like the guest's own power-off: GuestShutdown", async () => {
    // libvirt 9.0 keeps no note that virsh asked: QEMU sees the guest's ACPI S5 and says
    // "guest". Telling Nova's stop from the guest's own is the operator's job (instance actions).
    const g = await startGuest("acpi", { acpi: true });
    await consoleShows(g, "VMKEEPER-TEST: waiting for the power button on /dev/input");
    const mark = watched.sink.received.length;
    const rawFrom = events.linesFor(g.name).length;
    const askedAt = performance.now();
    await lv.virshOk("shutdown", "--mode", "acpi", g.uuid);
    const down = await reported(g, mark, "GuestShutdown");
    console.log(`      virsh shutdown --mode acpi → GuestShutdown report: ${(down.atMs - askedAt).toFixed(0)} ms`);
    const raw = await rawEvents(g, /: Stopped Shutdown$/, rawFrom);
    assert.deepEqual(
      raw.map((l) => l.replace(/^.*?: event /, "event ")),
      [`event 'lifecycle' for domain '${g.name}': Shutdown Finished after guest request`, `event 'lifecycle' for domain '${g.name}': Stopped Shutdown`],
    );
    assert.equal(await domstate(g), "shut off (shutdown)");
    assert.deepEqual(watched.sink.received.slice(mark).map((r) => r.report.event), ["GuestShutdown"]);
  });

  it("reports StoppedUnrequested, not GuestShutdown, when QEMU is told to quit on the host (SIGTERM behind libvirt's back)", async () => {
    const g = await startGuest("idle", { acpi: true });
    await consoleShows(g, "VMKEEPER-GUEST-READY");
    await reported(g, 0, "Started");
    const mark = watched.sink.received.length;
    const rawFrom = events.linesFor(g.name).length;
    const termAt = performance.now();
    process.kill(await qemuPid(g.uuid), "SIGTERM");
    const stopped = await reported(g, mark, "StoppedUnrequested");
    console.log(`      SIGTERM to QEMU → StoppedUnrequested report: ${(stopped.atMs - termAt).toFixed(0)} ms`);
    assert.equal(stopped.report.detail, "Stopped Shutdown (Shutdown Finished after host request)");
    await rawEvents(g, /: Stopped Shutdown$/, rawFrom);
    assert.equal(await domstate(g), "shut off (shutdown)");
    assert.deepEqual(watched.sink.received.slice(mark).map((r) => r.report.event), ["StoppedUnrequested"]);
  });

  describe("a disk whose storage runs out (error_policy='stop', a 64 MiB tmpfs in the daemon's mount namespace)", () => {
    let g: Guest;
    const small = (): string => join(lv.dir, "small");
    const fill = (): Promise<unknown> => lv.inNamespace("sh", "-c", `dd if=/dev/zero of=${small()}/filler bs=1M 2>/dev/null; exit 0`);

    before(async () => {
      for (const cmd of [["mkdir", "-p", small()], ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", small()], ["truncate", "-s", "1G", `${small()}/disk.raw`]]) {
        const r = await lv.inNamespace(cmd[0] ?? "", ...cmd.slice(1));
        assert.equal(r.code, 0, `${cmd.join(" ")}: ${r.stderr}`);
      }
    });

    it("reports PausedIOError when the guest's writes fail with ENOSPC", async () => {
      const mark = watched.sink.received.length;
      const disk = `<disk type='file' device='disk'>
      <driver name='qemu' type='raw' error_policy='stop'/>
      <source file='${small()}/disk.raw'/>
      <target dev='vda' bus='virtio'/>
    </disk>`;
      g = await startGuest("ioerror", { extraDevices: disk });
      await consoleShows(g, "VMKEEPER-TEST: writing /dev/vda");
      await reported(g, mark, "Started");
      await fill();
      const fullAt = performance.now();
      const paused = await reported(g, mark, "PausedIOError");
      console.log(`      tmpfs full → PausedIOError report: ${(paused.atMs - fullAt).toFixed(0)} ms`);
      assert.equal(paused.report.detail, "Suspended I/O Error");
      assert.equal(await domstate(g), "paused (I/O error)");
      await rawEvents(g, /event 'io-error' for domain '[^']+': \S+\/disk\.raw \(virtio-disk0\) pause$/);
    });

    it("after a reconnect, the resync reports a pause on an I/O error that happened while the stream was down", async () => {
      const rawFrom = events.linesFor(g.name).length;
      let mark = watched.sink.received.length;
      const freed = await lv.inNamespace("rm", "-f", `${small()}/filler`);
      assert.equal(freed.code, 0, freed.stderr);
      await lv.virshOk("resume", g.uuid);
      await reported(g, mark, "Started");
      mark = watched.sink.received.length;
      const pid = watched.watcher.streamPid();
      assert.ok(pid !== undefined);
      process.kill(pid, "SIGKILL");
      await eventually(() => assert.equal(watched.watcher.connected(), false), 5_000, 20);
      await fill();
      const fullAt = performance.now();
      await eventually(async () => assert.equal(await domstate(g), "paused (I/O error)"), 30_000, 50);
      assert.equal(watched.watcher.connected(), false, "the guest paused only after the stream was back: nothing to catch up on");
      const caught = await reported(g, mark, "PausedIOError");
      console.log(`      tmpfs full while disconnected → PausedIOError by resync: ${(caught.atMs - fullAt).toFixed(0)} ms (restart delay 5 s)`);
      assert.equal(caught.report.detail, "resync: paused (I/O error)");
      await rawEvents(g, /: Suspended I\/O Error$/, rawFrom);
      await lv.virshOk("destroy", g.uuid);
    });
  });
});
