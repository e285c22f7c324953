import assert from "node:assert/strict";
import fc from "fast-check";
import { BoundedQueue } from "../../../src/notify/bounded-queue.js";

describe("BoundedQueue", () => {
  it("is FIFO and drops the oldest when full", () => {
    const q = new BoundedQueue<number>(3);
    assert.equal(q.push(1), undefined);
    q.push(2);
    q.push(3);
    assert.equal(q.push(4), 1);
    assert.deepEqual(q.drain(), [2, 3, 4]);
    assert.equal(q.size, 0);
  });

  it("drops the oldest expendable item first, else the oldest", () => {
    const q = new BoundedQueue<string>(3, (s) => s.startsWith("i"));
    q.push("d1");
    q.push("i1");
    q.push("d2");
    assert.equal(q.push("d3"), "i1");
    assert.equal(q.push("d4"), "d1");
    assert.deepEqual(q.drain(), ["d2", "d3", "d4"]);
  });

  it("refuses a capacity below 1", () => {
    assert.throws(() => new BoundedQueue<number>(0));
  });

  it("never exceeds capacity, and behaves like a list that drops its head when full", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.oneof(fc.constant("shift" as const), fc.nat(1000)), { maxLength: 200 }), (cap, ops) => {
        const q = new BoundedQueue<number>(cap);
        const model: number[] = [];
        for (const op of ops) {
          if (op === "shift") {
            assert.equal(q.shift(), model.shift());
          } else {
            const dropped = q.push(op);
            if (model.length >= cap) assert.equal(dropped, model.shift());
            else assert.equal(dropped, undefined);
            model.push(op);
          }
          assert.ok(q.size <= cap);
          assert.equal(q.size, model.length);
        }
        assert.deepEqual(q.drain(), model);
      }),
    );
  });
});
