import assert from "node:assert/strict";
import fc from "fast-check";
import { HostSession } from "../../../src/guest-heartbeat/host-session.js";

const INIT = Buffer.from('{"v":1,"group":"heartbeat","type":"init","body":{"agent":"t","bootId":"' + "a".repeat(32) + '","groups":["heartbeat"]}}');

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
});
