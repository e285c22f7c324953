import assert from "node:assert/strict";
import fc from "fast-check";
import { HostSession, responseWindowMs, type HostOutput } from "../../../src/guest-heartbeat/host-session.js";

const INIT = Buffer.from('{"v":1,"group":"heartbeat","type":"init","body":{"agent":"t","bootId":"' + "a".repeat(32) + '","groups":["heartbeat"]}}');

type Challenge = { seq: number; nonce: string };

/** The challenges among the lines a call asked to send. */
function challenges(out: HostOutput): Challenge[] {
  return out.send.map((l) => JSON.parse(l) as { type: string; body: Challenge }).filter((p) => p.type === "challenge").map((p) => p.body);
}

function response(c: Challenge): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, group: "heartbeat", type: "response", body: { ...c, health: "healthy" } }));
}

/** A session that has answered its first challenge at t = 0. */
function healthySession(intervalMs: number, threshold: number): HostSession {
  const s = new HostSession({ intervalMs, threshold });
  const [first] = challenges(s.receiveLine(INIT, 0));
  assert.ok(first);
  s.receiveLine(response(first), 0);
  assert.equal(s.health.state, "Healthy");
  return s;
}

describe("guest heartbeat host session", () => {
  it("refuses configuration and action requests outside the protocol's ranges", () => {
    assert.throws(() => new HostSession({ intervalMs: 399 }), RangeError);
    assert.throws(() => new HostSession({ threshold: 0 }), RangeError);
    const s = new HostSession();
    s.receiveLine(INIT, 0);
    assert.throws(() => s.notifyAction({ actionId: "bad id", action: "reboot", revocable: true, deadlineMs: 1000 }, 0), RangeError);
    assert.throws(() => s.notifyAction({ actionId: "a", action: "reboot", revocable: true, deadlineMs: 50 }, 0), RangeError);
    s.notifyAction({ actionId: "a", action: "reboot", revocable: true, deadlineMs: 1000 }, 0);
    assert.throws(() => s.notifyAction({ actionId: "a", action: "reboot", revocable: true, deadlineMs: 1000 }, 0), /already pending/);
  });

  it("uses random 32-hex nonces by default, fresh per challenge", () => {
    const s = new HostSession();
    const first = s.receiveLine(INIT, 0).send[1] ?? "";
    const second = s.tick(1000).send[0] ?? "";
    const nonce = (l: string): string => (JSON.parse(l) as { body: { nonce: string } }).body.nonce;
    assert.match(nonce(first), /^[0-9a-f]{32}$/);
    assert.notEqual(nonce(first), nonce(second));
  });

  it("never throws on any sequence of lines and ticks, and its deadline never lies in the past (property)", () => {
    const line = fc.oneof(fc.constant(INIT), fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)), fc.json().map((j) => Buffer.from(j)));
    fc.assert(
      fc.property(fc.array(fc.tuple(line, fc.integer({ min: 0, max: 3000 })), { maxLength: 40 }), (steps) => {
        const s = new HostSession({ threshold: 2 });
        let now = 0;
        for (const [l, dt] of steps) {
          s.receiveLine(l, now);
          now += dt;
          s.tick(now);
          const next = s.nextDeadlineMs();
          assert.ok(next === undefined || next > now);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("gives each challenge a response window of half the interval, at most 500 ms", () => {
    assert.deepEqual(
      [400, 401, 999, 1000, 1001, 2000, 60_000].map(responseWindowMs),
      [200, 200, 499, 500, 500, 500, 500],
    );
    for (const [intervalMs, window] of [
      [400, 200],
      [999, 499],
      [5000, 500],
    ] as const) {
      const s = healthySession(intervalMs, 1);
      assert.equal(challenges(s.tick(intervalMs)).length, 1);
      assert.equal(s.nextDeadlineMs(), intervalMs + window, `${intervalMs} ms: the response deadline comes first`);
      assert.equal(s.tick(intervalMs + window - 1).events.length, 0);
      assert.equal(s.counters().missed, 0);
      const out = s.tick(intervalMs + window);
      assert.deepEqual(out, { send: [], events: [{ type: "health", health: { state: "Unresponsive", missed: 1 } }] }, `${intervalMs} ms: the miss is counted at the deadline, nothing is sent`);
      assert.equal(s.nextDeadlineMs(), 2 * intervalMs, "then the next challenge, one interval after the previous one");
      assert.equal(s.tick(2 * intervalMs - 1).send.length, 0);
      assert.equal(challenges(s.tick(2 * intervalMs)).length, 1);
      assert.equal(s.counters().missed, 1);
    }
  });

  it("accepts a late answer to the outstanding challenge: health is restored, the counted miss stays", () => {
    const s = healthySession(1000, 1);
    const [c2] = challenges(s.tick(1000));
    assert.ok(c2);
    assert.equal(s.tick(1500).events.length, 1);
    assert.deepEqual(s.health, { state: "Unresponsive", missed: 1 });
    assert.deepEqual(s.receiveLine(response(c2), 1900).events, [{ type: "health", health: { state: "Healthy" } }]);
    assert.equal(s.counters().missed, 1);
    assert.equal(s.counters().responsesAccepted, 2);
    assert.equal(s.nextDeadlineMs(), 2000);
    const [c3] = challenges(s.tick(2000));
    assert.ok(c3);
    assert.equal(s.receiveLine(response(c2), 2001).events.length, 0);
    assert.equal(s.counters().staleResponse, 1, "once the next challenge is out the old one is stale");
  });

  it("counts at most one miss per challenge after a stall of the host itself", () => {
    const s = healthySession(1000, 3);
    assert.equal(challenges(s.tick(1000)).length, 1);
    const out = s.tick(60_000); // the host process was stopped for a minute
    assert.equal(s.counters().missed, 1);
    assert.equal(challenges(out).length, 1);
    assert.equal(out.events.length, 0);
    assert.equal(s.nextDeadlineMs(), 60_500);
    s.tick(200_000);
    assert.equal(s.counters().missed, 2);
    assert.equal(s.health.state, "Healthy");
  });

  it("reports Unresponsive within interval × threshold + response window of a freeze at any moment, and never while the guest answers in its window (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 400, max: 60_000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 8 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.boolean(),
        fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
        (intervalMs, threshold, healthyIntervals, phase, freezes, delays) => {
          const window = Math.min(Math.floor(intervalMs / 2), 500); // the protocol's value, not the implementation's
          // The guest answers each challenge after a delay inside its window, until it freezes.
          const freezeAtMs = freezes ? healthyIntervals * intervalMs + Math.floor(phase * intervalMs) : Number.POSITIVE_INFINITY;
          const horizonMs = (freezes ? freezeAtMs : healthyIntervals * intervalMs) + intervalMs * (threshold + 2);
          const s = new HostSession({ intervalMs, threshold });
          const answers: { atMs: number; challenge: Challenge }[] = [];
          let unresponsiveAtMs: number | undefined;
          const take = (out: HostOutput, nowMs: number): void => {
            for (const c of challenges(out)) {
              const atMs = nowMs + Math.floor(delays.next().value * window); // 0 .. window − 1
              if (atMs < freezeAtMs) answers.push({ atMs, challenge: c });
            }
            for (const e of out.events) if (e.type === "health" && e.health.state === "Unresponsive") unresponsiveAtMs ??= nowMs;
          };
          take(s.receiveLine(INIT, 0), 0);
          for (;;) {
            const deadline = s.nextDeadlineMs() ?? Number.POSITIVE_INFINITY;
            const answer = answers[0];
            if (answer && answer.atMs < deadline) {
              answers.shift();
              take(s.receiveLine(response(answer.challenge), answer.atMs), answer.atMs);
              continue;
            }
            if (deadline > horizonMs) break;
            take(s.tick(deadline), deadline);
          }
          if (!freezes) {
            assert.equal(unresponsiveAtMs, undefined);
            assert.equal(s.counters().missed, 0);
            return;
          }
          assert.ok(unresponsiveAtMs !== undefined, `no Unresponsive by ${horizonMs} ms after a freeze at ${freezeAtMs} ms`);
          assert.ok(unresponsiveAtMs >= freezeAtMs, `Unresponsive at ${unresponsiveAtMs} ms, before the freeze at ${freezeAtMs} ms`);
          assert.ok(
            unresponsiveAtMs <= freezeAtMs + intervalMs * threshold + window,
            `freeze at ${freezeAtMs} ms, Unresponsive at ${unresponsiveAtMs} ms: more than ${intervalMs} × ${threshold} + ${window} ms later`,
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
