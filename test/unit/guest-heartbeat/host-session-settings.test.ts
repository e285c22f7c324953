import assert from "node:assert/strict";
import { HostSession, type HostOutput } from "../../../src/guest-heartbeat/host-session.js";

const init = (intervalMs?: number): Buffer =>
  Buffer.from(JSON.stringify({ v: 1, group: "heartbeat", type: "init", body: { agent: "t", bootId: "b".repeat(32), groups: ["heartbeat"], ...(intervalMs ? { intervalMs } : {}) } }));

type Challenge = { seq: number; nonce: string };

function lines(out: HostOutput): { type: string; body: Record<string, unknown> }[] {
  return out.send.map((l) => JSON.parse(l) as { type: string; body: Record<string, unknown> });
}

function challengeOf(out: HostOutput): Challenge {
  const c = lines(out).find((p) => p.type === "challenge");
  assert.ok(c, "a challenge was sent");
  return c.body as unknown as Challenge;
}

const answer = (c: Challenge, health: "healthy" | "unhealthy", reason?: string): Buffer =>
  Buffer.from(JSON.stringify({ v: 1, group: "heartbeat", type: "response", body: { ...c, health, ...(reason ? { reason } : {}) } }));

/** Answers `n` challenges in a row with the same health, one interval apart; returns the time after. */
function answerInRow(s: HostSession, first: Challenge, n: number, health: "healthy" | "unhealthy", reason: string | undefined, startMs: number, intervalMs: number): number {
  let c = first;
  let now = startMs;
  for (let i = 0; i < n; i++) {
    s.receiveLine(answer(c, health, reason), now);
    now += intervalMs;
    if (i < n - 1) c = challengeOf(s.tick(now));
  }
  return now;
}

describe("guest heartbeat host session: operator-set thresholds and re-negotiation", () => {
  it("reports Unhealthy only after unhealthyThreshold unhealthy answers in a row; a healthy answer starts the count again", () => {
    const s = new HostSession({ intervalMs: 1000, threshold: 3, unhealthyThreshold: 3, appUnhealthyThreshold: 2 });
    let c = challengeOf(s.receiveLine(init(), 0));
    s.receiveLine(answer(c, "healthy"), 0);
    c = challengeOf(s.tick(1000));
    answerInRow(s, c, 2, "unhealthy", "check disk: exit 1", 1000, 1000);
    assert.equal(s.health.state, "Healthy", "two of three");
    c = challengeOf(s.tick(3000));
    s.receiveLine(answer(c, "healthy"), 3000);
    c = challengeOf(s.tick(4000));
    answerInRow(s, c, 2, "unhealthy", "check disk: exit 1", 4000, 1000);
    assert.equal(s.health.state, "Healthy", "the healthy answer reset the count");
    c = challengeOf(s.tick(6000));
    s.receiveLine(answer(c, "unhealthy", "check disk: exit 1"), 6000);
    assert.deepEqual(s.health, { state: "Unhealthy", reason: "check disk: exit 1" });
  });

  it("counts application-only failures against appUnhealthyThreshold", () => {
    const s = new HostSession({ intervalMs: 1000, threshold: 3, unhealthyThreshold: 5, appUnhealthyThreshold: 2 });
    const c = challengeOf(s.receiveLine(init(), 0));
    answerInRow(s, c, 2, "unhealthy", "app db: replication stopped", 0, 1000);
    assert.deepEqual(s.health, { state: "Unhealthy", reason: "app db: replication stopped" });
  });

  it("defaults to reporting the first unhealthy answer", () => {
    const s = new HostSession({ intervalMs: 1000, threshold: 3 });
    s.receiveLine(answer(challengeOf(s.receiveLine(init(), 0)), "unhealthy", "x"), 0);
    assert.equal(s.health.state, "Unhealthy");
  });

  it("an unhealthy answer below the threshold still ends Unresponsive", () => {
    const s = new HostSession({ intervalMs: 1000, threshold: 1, unhealthyThreshold: 3, appUnhealthyThreshold: 3 });
    s.receiveLine(init(), 0);
    s.tick(500);
    assert.equal(s.health.state, "Unresponsive");
    const c = challengeOf(s.tick(1000));
    s.receiveLine(answer(c, "unhealthy", "x"), 1000);
    assert.equal(s.health.state, "Healthy");
  });

  it("reconfigure ends an active session with exit and negotiates the new interval when the guest inits again", () => {
    const s = new HostSession({ intervalMs: 1000, threshold: 3 });
    s.receiveLine(answer(challengeOf(s.receiveLine(init(), 0)), "healthy"), 0);
    const out = s.reconfigure({ intervalMs: 5000, threshold: 6, unhealthyThreshold: 6, appUnhealthyThreshold: 3 }, 100);
    assert.deepEqual(lines(out).map((l) => [l.type, l.body.reason]), [["exit", "settings changed"]]);
    assert.equal(s.state, "AwaitInit");
    assert.equal(s.health.state, "Healthy", "health kept until the new session reports");
    const again = lines(s.receiveLine(init(1000), 2100));
    const ack = again.find((l) => l.type === "init-ack");
    assert.deepEqual([ack?.body.intervalMs, ack?.body.threshold], [5000, 6]);
    assert.equal(s.state, "Active");
  });

  it("reconfigure with the same interval and threshold keeps the session (only the host-side counts change)", () => {
    const s = new HostSession({ intervalMs: 1000, threshold: 3 });
    s.receiveLine(init(), 0);
    const out = s.reconfigure({ intervalMs: 1000, threshold: 3, unhealthyThreshold: 4, appUnhealthyThreshold: 4 }, 10);
    assert.deepEqual(out.send, []);
    assert.equal(s.state, "Active");
    assert.equal(s.settings.unhealthyThreshold, 4);
  });

  it("a guest that does not init again after reconfigure becomes Unresponsive", () => {
    const s = new HostSession({ intervalMs: 1000, threshold: 3 });
    s.receiveLine(answer(challengeOf(s.receiveLine(init(), 0)), "healthy"), 0);
    s.reconfigure({ intervalMs: 2000, threshold: 5, unhealthyThreshold: 5, appUnhealthyThreshold: 3 }, 0);
    const deadline = s.nextDeadlineMs();
    assert.equal(deadline, 2000 * 5 + 500);
    assert.equal(s.tick(deadline - 1).events.length, 0);
    assert.deepEqual(s.tick(deadline).events, [{ type: "health", health: { state: "Unresponsive", missed: 5 } }]);
    assert.equal(s.nextDeadlineMs(), undefined);
  });

  it("refuses settings outside the protocol's limits", () => {
    const s = new HostSession();
    assert.throws(() => s.reconfigure({ intervalMs: 300, threshold: 3, unhealthyThreshold: 1, appUnhealthyThreshold: 1 }, 0), RangeError);
    assert.throws(() => s.reconfigure({ intervalMs: 1000, threshold: 21, unhealthyThreshold: 1, appUnhealthyThreshold: 1 }, 0), RangeError);
    assert.throws(() => new HostSession({ unhealthyThreshold: 0 }), RangeError);
  });
});
