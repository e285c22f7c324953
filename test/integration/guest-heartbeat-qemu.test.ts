import assert from "node:assert/strict";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { GuestChannelManager } from "../../src/agent/guest-channels/guest-channel-manager.js";
import type { AgentReport, AgentReportSink, GuestHealthReport } from "../../src/agent/reports/agent-report.js";
import { SystemClock } from "../../src/util/clock.js";
import { createLogger } from "../../src/util/logger.js";
import { eventually, sleep } from "../support/eventually.js";
import { buildGuestImage, QemuGuest, type GuestImage } from "../support/qemu-guest.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const INSTANCE = "6f1c2a7e-0b5d-4c1e-9a43-2d7f5e8b9c01";

/** Records every report with the monotonic time it arrived. */
class RecordingSink implements AgentReportSink {
  readonly received: { report: GuestHealthReport; atMs: number }[] = [];
  submit(report: AgentReport): void {
    if (report.kind === "GuestHealth") this.received.push({ report, atMs: performance.now() });
  }
  /** The first report in `state` that arrived at or after `sinceMs`. */
  first(state: GuestHealthReport["state"], sinceMs: number): { report: GuestHealthReport; atMs: number } {
    const hit = this.received.find((r) => r.atMs >= sinceMs && r.report.state === state);
    if (!hit) throw new Error(`no ${state} report since ${sinceMs.toFixed(0)} ms; got ${this.received.map((r) => r.report.state).join(", ") || "none"}`);
    return hit;
  }
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const all = await registry.getMetricsAsJSON();
  const m = all.find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, want]) => String(x.labels[k]) === want));
  return v?.value ?? 0;
}

/**
 * Sends QMP `stop` right after the host accepted a response — the worst moment to freeze —
 * and returns how long after the host saw that response the guest was frozen. The next
 * challenge goes out one interval after the answered one, and the threshold-th consecutive
 * miss is counted at that challenge's response deadline, so Unresponsive follows the
 * answered challenge by interval × threshold + min(interval / 2, 500 ms): 3.5 s with
 * 1000 ms × 3, 1 s with 400 ms × 2, inside the bound interval × threshold + 1 s.
 */
async function pauseAfterAnswer(vm: QemuGuest, registry: Registry, intervalMs: number): Promise<number> {
  const before = await metric(registry, "vmkeeper_agent_guest_responses_accepted_total");
  await eventually(async () => assert.ok((await metric(registry, "vmkeeper_agent_guest_responses_accepted_total")) > before), 5 * intervalMs, 1);
  const answeredAt = performance.now();
  await vm.pause();
  const phase = performance.now() - answeredAt;
  assert.ok(phase < intervalMs / 4, `the stop came ${phase.toFixed(0)} ms after an answer, not right after it`);
  return phase;
}

describe("guest heartbeat end to end through real virtio-serial (QEMU, tiny Debian guest)", function () {
  this.timeout(180_000);
  let image: GuestImage;
  let dir: string;
  let qemu: QemuGuest | undefined;
  let manager: GuestChannelManager | undefined;
  let registry: Registry;
  let sink: RecordingSink;

  before(async function () {
    this.timeout(1_200_000);
    image = await buildGuestImage(ROOT);
    dir = await mkdtemp(join(tmpdir(), "vmk-qemu-"));
    qemu = QemuGuest.start({ image, dir });
    await qemu.waitForSockets();
  });

  after(async () => {
    await manager?.close();
    await qemu?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function startManager(intervalMs: number, threshold: number): GuestChannelManager {
    registry = new Registry();
    sink = new RecordingSink();
    const log = createLogger({ level: "info", destination: createWriteStream(join(dir, `agent-${intervalMs}.log`), { flags: "a" }) });
    const m = new GuestChannelManager({ host: "compute-1", sink, registry, clock: new SystemClock(), log, session: { intervalMs, threshold }, reconnect: { initialDelayMs: 200, maxDelayMs: 2000 } });
    m.setChannels([{ instanceUuid: INSTANCE, socketPath: qemu?.heartbeatSocket ?? "" }]);
    return m;
  }

  it("becomes Healthy, Unhealthy by an in-guest check, Unresponsive on QMP stop and Healthy after cont (1000 ms × 3)", async () => {
    const vm = qemu;
    assert.ok(vm);
    const intervalMs = 1000;
    const threshold = 3;
    manager = startManager(intervalMs, threshold);
    const healthy = await eventually(() => sink.first("Healthy", 0), 120_000, 50).catch((err: unknown) => {
      throw new Error(`${String(err)}\nQEMU log:\n${vm.logTail()}`);
    });
    console.log(`      time to first Healthy after QEMU start: ${(healthy.atMs - vm.startedAtMs).toFixed(0)} ms`);
    assert.deepEqual({ ...healthy.report, at: "" }, { kind: "GuestHealth", host: "compute-1", instanceUuid: INSTANCE, state: "Healthy", intervalMs, threshold, at: "" });
    assert.equal(manager.status(INSTANCE)?.sessionState, "Active");

    // Challenges keep being answered through the port: no misses over a few intervals.
    const acceptedBefore = await metric(registry, "vmkeeper_agent_guest_responses_accepted_total");
    await sleep(3 * intervalMs);
    assert.ok((await metric(registry, "vmkeeper_agent_guest_responses_accepted_total")) >= acceptedBefore + 2);
    assert.equal(manager.status(INSTANCE)?.health.state, "Healthy");

    // The image's health check fails while /run/vmkeeper-unhealthy exists.
    let mark = performance.now();
    vm.typeOnConsole("touch /run/vmkeeper-unhealthy");
    const unhealthy = await eventually(() => sink.first("Unhealthy", mark), 30_000, 50);
    assert.match(unhealthy.report.reason ?? "", /^check marker: exit status 1: marker present/);
    mark = performance.now();
    vm.typeOnConsole("rm -f /run/vmkeeper-unhealthy");
    await eventually(() => sink.first("Healthy", mark), 30_000, 50);

    // Freeze the vCPUs: QEMU keeps the chardev open, the guest agent stops answering. The
    // stop is placed right after an answered challenge, the worst case (see pauseAfterAnswer).
    const phase = await pauseAfterAnswer(vm, registry, intervalMs);
    const stoppedAt = performance.now();
    assert.equal(await vm.runState(), "paused");
    const bound = intervalMs * threshold + 1000;
    const unresponsive = await eventually(() => sink.first("Unresponsive", stoppedAt), bound + 5000, 20);
    const took = unresponsive.atMs - stoppedAt;
    console.log(`      time to Unresponsive after QMP stop: ${took.toFixed(0)} ms (bound ${bound} ms; stop came ${phase.toFixed(0)} ms after an answered challenge)`);
    assert.ok(took <= bound, `Unresponsive after ${took.toFixed(0)} ms, more than ${bound} ms`);
    const window = Math.min(Math.floor(intervalMs / 2), 500);
    assert.ok(took >= intervalMs * (threshold - 1) + window, `Unresponsive after only ${took.toFixed(0)} ms`);
    assert.equal(unresponsive.report.reason, `${threshold} consecutive challenges missed`);
    assert.ok((await metric(registry, "vmkeeper_agent_guest_challenges_missed_total")) >= threshold);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_state", { instance_uuid: INSTANCE, state: "Unresponsive" }), 1);

    const resumedAt = performance.now();
    await vm.resume();
    const back = await eventually(() => sink.first("Healthy", resumedAt), 30_000, 20);
    console.log(`      time to Healthy after QMP cont: ${(back.atMs - resumedAt).toFixed(0)} ms`);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_state", { instance_uuid: INSTANCE, state: "Healthy" }), 1);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_lines_dropped_total", { reason: "malformed" }), 0);
  });

  it("detects a frozen guest faster with 400 ms × 2 after the channel is handed to a new manager", async () => {
    const vm = qemu;
    assert.ok(vm);
    await manager?.close(); // sends exit: the guest agent offers init again every 2 s
    const intervalMs = 400;
    const threshold = 2;
    manager = startManager(intervalMs, threshold);
    const healthy = await eventually(() => sink.first("Healthy", 0), 30_000, 20);
    assert.equal(healthy.report.intervalMs, intervalMs);
    assert.equal(healthy.report.threshold, threshold);
    await sleep(1000);
    const phase = await pauseAfterAnswer(vm, registry, intervalMs);
    const stoppedAt = performance.now();
    const bound = intervalMs * threshold + 1000;
    const unresponsive = await eventually(() => sink.first("Unresponsive", stoppedAt), bound + 5000, 10);
    const took = unresponsive.atMs - stoppedAt;
    console.log(`      time to Unresponsive after QMP stop (400 ms × 2): ${took.toFixed(0)} ms (bound ${bound} ms; stop ${phase.toFixed(0)} ms after an answered challenge)`);
    assert.ok(took <= bound, `Unresponsive after ${took.toFixed(0)} ms, more than ${bound} ms`);
    assert.ok(took >= intervalMs * (threshold - 1) + Math.floor(intervalMs / 2), `Unresponsive after only ${took.toFixed(0)} ms`);
    const resumedAt = performance.now();
    await vm.resume();
    await eventually(() => sink.first("Healthy", resumedAt), 30_000, 20);
  });

  it("ends the session when QEMU is killed and keeps retrying without crashing", async () => {
    const vm = qemu;
    const m = manager;
    assert.ok(vm && m);
    const failedBefore = await metric(registry, "vmkeeper_agent_guest_connects_total", { result: "failed" });
    await vm.kill("SIGKILL");
    await eventually(() => assert.equal(m.status(INSTANCE)?.connected, false), 10_000, 20);
    assert.equal(m.status(INSTANCE)?.sessionState, "Disconnected");
    await eventually(async () => assert.ok((await metric(registry, "vmkeeper_agent_guest_connects_total", { result: "failed" })) >= failedBefore + 3), 15_000, 100);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_state", { instance_uuid: INSTANCE, state: "Disconnected" }), 1);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_channels", { connection: "disconnected" }), 1);
    await m.close();
    assert.deepEqual(m.statuses(), []);
  });
});
