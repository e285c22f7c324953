import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Registry } from "prom-client";
import { GuestChannelManager } from "../../../../src/agent/guest-channels/guest-channel-manager.js";
import type { AgentReport, AgentReportSink, GuestHealthReport } from "../../../../src/agent/reports/agent-report.js";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { createLogger } from "../../../../src/util/logger.js";
import { eventually } from "../../../support/eventually.js";
import { FakeGuest, type FakeGuestConnection, type Pdu } from "./fake-guest.js";

const UUID = "11111111-2222-4333-8444-555555555555";
const OTHER = "99999999-2222-4333-8444-555555555555";

class RecordingSink implements AgentReportSink {
  readonly reports: GuestHealthReport[] = [];
  submit(report: AgentReport): void {
    if (report.kind === "GuestHealth") this.reports.push(report);
  }
  states(): string[] {
    return this.reports.map((r) => r.state);
  }
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.find((x) => Object.entries(labels).every(([k, want]) => String(x.labels[k]) === want))?.value;
}

describe("GuestChannelManager (real unix sockets, scripted guest, fake clock)", () => {
  let dir: string;
  let clock: FakeClock;
  let sink: RecordingSink;
  let registry: Registry;
  let manager: GuestChannelManager;
  const guests: FakeGuest[] = [];
  const conns: FakeGuestConnection[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vmk-gcm-"));
    clock = new FakeClock();
    sink = new RecordingSink();
    registry = new Registry();
    const log = createLogger({ level: "debug", destination: new PassThrough().resume() });
    manager = new GuestChannelManager({ host: "compute-7", sink, registry, clock, log, session: { intervalMs: 1000, threshold: 3 }, reconnect: { initialDelayMs: 200, maxDelayMs: 800 } });
  });

  afterEach(async () => {
    await manager.close();
    for (const g of guests.splice(0)) await g.close(conns.splice(0));
    rmSync(dir, { recursive: true, force: true });
  });

  async function guestAt(name: string): Promise<FakeGuest> {
    const g = await FakeGuest.listen(join(dir, name));
    guests.push(g);
    return g;
  }

  async function accept(g: FakeGuest): Promise<FakeGuestConnection> {
    const c = await g.accepted();
    conns.push(c);
    return c;
  }

  /** Connects, starts a session and answers the first challenge healthy. */
  async function healthySession(g: FakeGuest, bootId?: string, extra?: Record<string, unknown>): Promise<FakeGuestConnection> {
    const c = await accept(g);
    c.init(bootId, extra);
    assert.equal((await c.next()).type, "init-ack");
    await c.answer();
    return c;
  }

  /** Advances the fake clock and returns the challenge the host sent at the new tick. */
  async function tick(c: FakeGuestConnection, ms: number): Promise<Pdu> {
    await clock.advance(ms);
    return c.nextOfType("challenge");
  }

  it("reports Healthy with the negotiated settings, Unresponsive at the threshold-th miss, then Healthy again", async () => {
    const g = await guestAt("a.sock");
    manager.setChannels([{ instanceUuid: UUID, socketPath: g.path }]);
    const c = await healthySession(g, undefined, { intervalMs: 1500 });
    await eventually(() => assert.deepEqual(sink.states(), ["Healthy"]));
    assert.deepEqual(sink.reports[0], { kind: "GuestHealth", host: "compute-7", instanceUuid: UUID, state: "Healthy", intervalMs: 1500, threshold: 3, at: "2026-01-01T00:00:00.000Z" });
    // Each unanswered challenge is a miss at its response deadline, min(1500 / 2, 500) = 500 ms after it.
    await tick(c, 1500); // challenge 2 at 1.5 s goes unanswered
    await tick(c, 1500); // miss 1 at 2 s, challenge 3 at 3 s
    const fourth = await tick(c, 1500); // miss 2 at 3.5 s, challenge 4 at 4.5 s
    assert.deepEqual(sink.states(), ["Healthy"]);
    await clock.advance(499);
    assert.deepEqual(sink.states(), ["Healthy"]);
    await clock.advance(1); // miss 3 at 5 s = 1.5 s × 3 + 500 ms after the last answer
    await eventually(() => assert.deepEqual(sink.states(), ["Healthy", "Unresponsive"]));
    assert.equal(sink.reports[1]?.reason, "3 consecutive challenges missed");
    assert.equal(sink.reports[1]?.at, "2026-01-01T00:00:05.000Z");
    assert.equal(await metric(registry, "vmkeeper_agent_guest_state", { instance_uuid: UUID, state: "Unresponsive" }), 1);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_challenges_missed_total"), 3);
    // A late answer to challenge 4, still outstanding: the guest is back; the miss stays counted.
    c.send({ group: "heartbeat", type: "response", body: { seq: fourth.body.seq, nonce: fourth.body.nonce, health: "healthy" } });
    await eventually(() => assert.deepEqual(sink.states(), ["Healthy", "Unresponsive", "Healthy"]));
    assert.equal(await metric(registry, "vmkeeper_agent_guest_challenges_missed_total"), 3);
  });

  it("reports Unhealthy with the guest's reason once, and Exited when the guest agent stops", async () => {
    const g = await guestAt("a.sock");
    manager.setChannels([{ instanceUuid: UUID, socketPath: g.path }]);
    const c = await accept(g);
    c.init();
    await c.answer("unhealthy", "check disk: exit status 1: /var is full");
    await eventually(() => assert.equal(sink.reports.length, 1));
    await clock.advance(1000);
    await c.answer("unhealthy", "check disk: exit status 1: /var is full");
    await eventually(async () => assert.equal(await metric(registry, "vmkeeper_agent_guest_responses_accepted_total"), 2));
    c.send({ group: "heartbeat", type: "exit", body: { reason: "shutdown" } });
    await eventually(() => assert.equal(sink.reports.length, 2));
    assert.deepEqual(
      sink.reports.map((r) => [r.state, r.reason]),
      [
        ["Unhealthy", "check disk: exit status 1: /var is full"],
        ["Exited", "shutdown"],
      ],
    );
    assert.equal(await metric(registry, "vmkeeper_agent_guest_sessions"), 0);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_health_reports_total", { state: "Exited" }), 1);
  });

  it("redials a missing socket with a doubling delay and connects once it appears", async () => {
    const path = join(dir, "late.sock");
    manager.setChannels([{ instanceUuid: UUID, socketPath: path }]);
    const failed = (): Promise<number | undefined> => metric(registry, "vmkeeper_agent_guest_connects_total", { result: "failed" });
    await eventually(async () => assert.equal(await failed(), 1));
    await eventually(() => assert.equal(clock.pendingSleepers(), 1));
    await clock.advance(200);
    await eventually(async () => assert.equal(await failed(), 2));
    await eventually(() => assert.equal(clock.pendingSleepers(), 1));
    await clock.advance(399); // second delay is 400 ms
    assert.equal(await failed(), 2);
    await clock.advance(1);
    await eventually(async () => assert.equal(await failed(), 3));
    assert.equal(manager.status(UUID)?.connectFailures, 3);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_state", { instance_uuid: UUID, state: "Disconnected" }), 1);
    const g = await guestAt("late.sock");
    await eventually(() => assert.equal(clock.pendingSleepers(), 1));
    await clock.advance(800);
    await healthySession(g);
    await eventually(() => assert.deepEqual(sink.states(), ["Healthy"]));
    assert.equal(manager.status(UUID)?.connected, true);
    assert.equal(manager.status(UUID)?.connectFailures, 0);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_connects_total", { result: "connected" }), 1);
  });

  it("reconnects when the socket closes and does not repeat an unchanged health", async () => {
    const g = await guestAt("a.sock");
    manager.setChannels([{ instanceUuid: UUID, socketPath: g.path }]);
    const first = await healthySession(g, "1".repeat(32));
    await eventually(() => assert.deepEqual(sink.states(), ["Healthy"]));
    first.socket.destroy();
    await eventually(() => assert.equal(manager.status(UUID)?.connected, false));
    assert.equal(await metric(registry, "vmkeeper_agent_guest_channels", { connection: "disconnected" }), 1);
    await eventually(() => assert.equal(clock.pendingSleepers(), 1));
    await clock.advance(200);
    await healthySession(g, "2".repeat(32));
    await eventually(async () => assert.equal(await metric(registry, "vmkeeper_agent_guest_responses_accepted_total"), 2));
    assert.deepEqual(sink.states(), ["Healthy"]);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_sessions_started_total"), 2);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_sessions"), 1);
  });

  it("counts malformed and oversize lines across sessions, monotonically", async () => {
    const g = await guestAt("a.sock");
    manager.setChannels([{ instanceUuid: UUID, socketPath: g.path }]);
    const first = await accept(g);
    first.raw(`not json\n${"x".repeat(5000)}\n{"v":1,"group":"sgm","type":"hello","body":{}}\n`);
    const dropped = (reason: string): Promise<number | undefined> => metric(registry, "vmkeeper_agent_guest_lines_dropped_total", { reason });
    await eventually(async () => assert.equal(await metric(registry, "vmkeeper_agent_guest_lines_received_total"), 3));
    assert.equal(await dropped("malformed"), 1);
    assert.equal(await dropped("oversize"), 1);
    assert.equal(await dropped("unhandled_group"), 1);
    assert.equal(await dropped("bad_nonce"), 0);
    first.socket.destroy();
    await eventually(() => assert.equal(manager.status(UUID)?.connected, false));
    assert.equal(await dropped("malformed"), 1);
    await eventually(() => assert.equal(clock.pendingSleepers(), 1));
    await clock.advance(200);
    const second = await accept(g);
    second.raw("[1,2]\n");
    await eventually(async () => assert.equal(await dropped("malformed"), 2));
    assert.equal(sink.reports.length, 0);
  });

  it("sends exit and closes a removed channel, and follows a channel to its new socket", async () => {
    const a = await guestAt("a.sock");
    const b = await guestAt("b.sock");
    manager.setChannels([
      { instanceUuid: UUID, socketPath: a.path },
      { instanceUuid: OTHER, socketPath: b.path },
    ]);
    const ca = await healthySession(a);
    const cb = await healthySession(b);
    await eventually(() => assert.equal(sink.reports.length, 2));
    const moved = await guestAt("a2.sock");
    manager.setChannels([{ instanceUuid: UUID, socketPath: moved.path }]);
    assert.deepEqual((await cb.nextOfType("exit")).body, { reason: "instance no longer protected" });
    assert.deepEqual((await ca.nextOfType("exit")).body, { reason: "channel moved" });
    await eventually(() => assert.ok(ca.closed && cb.closed));
    await healthySession(moved);
    await eventually(() => assert.equal(manager.status(UUID)?.socketPath, moved.path));
    assert.equal(manager.status(OTHER), undefined);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_state", { instance_uuid: OTHER, state: "Healthy" }), undefined);
    await clock.advance(5000);
    assert.equal(await metric(registry, "vmkeeper_agent_guest_connects_total", { result: "connected" }), 3);
  });

  it("close() sends exit on every session and leaves nothing running", async () => {
    const a = await guestAt("a.sock");
    manager.setChannels([
      { instanceUuid: UUID, socketPath: a.path },
      { instanceUuid: OTHER, socketPath: join(dir, "missing.sock") },
    ]);
    const c = await healthySession(a);
    await eventually(() => assert.equal(sink.reports.length, 1));
    await eventually(() => assert.equal(clock.pendingSleepers(), 2)); // next tick of a, redial of the missing one
    await manager.close();
    assert.deepEqual((await c.nextOfType("exit")).body, { reason: "agent stopping" });
    await eventually(() => assert.ok(c.closed));
    assert.equal(clock.pendingSleepers(), 0);
    manager.setChannels([{ instanceUuid: UUID, socketPath: a.path }]);
    assert.deepEqual(manager.statuses(), []);
  });
});
