import assert from "node:assert/strict";
import { FakeClock, flushMicrotasks } from "../../../../src/util/fake-clock.js";
import { WorkQueue } from "../../../../src/kube/queue/work-queue.js";

/** Whether `promise` has settled by the time pending callbacks have run, and with what. */
async function peek<T>(promise: Promise<T>): Promise<{ settled: boolean; value?: T }> {
  let state: { settled: boolean; value?: T } = { settled: false };
  void promise.then((value) => (state = { settled: true, value }));
  await flushMicrotasks();
  return state;
}

function newQueue(clock = new FakeClock()): WorkQueue {
  return new WorkQueue({ name: "test", clock });
}

describe("WorkQueue", () => {
  it("collapses duplicate adds while a key is queued", async () => {
    const q = newQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), "a");
    assert.equal(await q.get(), "b");
    assert.equal(q.len(), 0);
  });

  it("hands keys out in FIFO order", async () => {
    const q = newQueue();
    for (const key of ["c", "a", "b", "d"]) q.add(key);
    const got = [await q.get(), await q.get(), await q.get(), await q.get()];
    assert.deepEqual(got, ["c", "a", "b", "d"]);
  });

  it("serves waiting get() calls in the order they were made", async () => {
    const q = newQueue();
    const first = q.get();
    const second = q.get();
    q.add("x");
    q.add("y");
    assert.equal(await first, "x");
    assert.equal(await second, "y");
  });

  it("waits in get() until a key is added", async () => {
    const q = newQueue();
    const pending = q.get();
    assert.equal((await peek(pending)).settled, false);
    q.add("a");
    assert.deepEqual(await peek(pending), { settled: true, value: "a" });
  });

  it("never hands out a key that is being processed; re-adds wait for done()", async () => {
    const q = newQueue();
    q.add("a");
    assert.equal(await q.get(), "a");
    q.add("a");
    q.add("a");
    assert.equal(q.len(), 0, "an in-flight key is marked dirty, not queued");
    const next = q.get();
    assert.equal((await peek(next)).settled, false);
    q.done("a");
    assert.deepEqual(await peek(next), { settled: true, value: "a" });
    q.done("a");
    assert.equal(q.len(), 0, "added three times while in flight, processed once more");
  });

  it("puts a dirty key at the end of the queue when it is done", async () => {
    const q = newQueue();
    q.add("a");
    q.add("b");
    assert.equal(await q.get(), "a");
    q.add("a");
    q.add("c");
    q.done("a");
    assert.deepEqual([await q.get(), await q.get(), await q.get()], ["b", "c", "a"]);
  });

  it("forgets a clean key when it is done", async () => {
    const q = newQueue();
    q.add("a");
    assert.equal(await q.get(), "a");
    q.done("a");
    assert.equal(q.len(), 0);
    q.add("a");
    assert.equal(q.len(), 1);
  });

  it("ignores done() for a key that is not in flight, so nothing is duplicated", async () => {
    const q = newQueue();
    q.add("a");
    q.done("a"); // queued, not handed out
    q.done("never-added");
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), "a");
    q.done("a");
    q.done("a");
    assert.equal(q.len(), 0);
  });

  describe("shutDown", () => {
    it("wakes every waiting get() with undefined", async () => {
      const q = newQueue();
      const waiting = [q.get(), q.get(), q.get()];
      q.shutDown();
      assert.deepEqual(await Promise.all(waiting), [undefined, undefined, undefined]);
      assert.equal(await q.get(), undefined);
      assert.equal(q.isShuttingDown(), true);
    });

    it("ignores adds afterwards and drops queued keys", async () => {
      const q = newQueue();
      q.add("queued");
      assert.equal(q.isShuttingDown(), false);
      q.shutDown();
      q.add("a");
      q.addAfter("b", 0);
      q.addAfter("c", 10);
      q.addRateLimited("d");
      assert.equal(q.len(), 0);
      assert.equal(await q.get(), undefined);
      assert.equal(q.numRequeues("d"), 0, "a rejected retry does not count as a failure");
    });

    it("does not requeue an in-flight key that was added again before the shutdown", async () => {
      const q = newQueue();
      q.add("a");
      assert.equal(await q.get(), "a");
      q.add("a");
      q.shutDown();
      q.done("a");
      assert.equal(q.len(), 0);
      assert.equal(await q.get(), undefined);
    });

    it("is idempotent", () => {
      const q = newQueue();
      q.shutDown();
      q.shutDown();
      assert.equal(q.isShuttingDown(), true);
    });
  });

  describe("shutDownWithDrain", () => {
    it("resolves at once when nothing is in flight", async () => {
      const q = newQueue();
      q.add("queued-only");
      assert.equal((await peek(q.shutDownWithDrain())).settled, true);
      assert.equal(await q.get(), undefined);
    });

    it("resolves only when every handed-out key is done", async () => {
      const q = newQueue();
      q.add("a");
      q.add("b");
      q.add("c");
      assert.equal(await q.get(), "a");
      assert.equal(await q.get(), "b");
      const waiter = q.get(); // resolved already with "c"
      const drained = q.shutDownWithDrain();
      assert.equal(await waiter, "c");
      assert.equal(await q.get(), undefined, "no new work is handed out while draining");
      q.done("a");
      q.done("b");
      assert.equal((await peek(drained)).settled, false, "c is still in flight");
      q.done("c");
      assert.equal((await peek(drained)).settled, true);
    });

    it("also wakes waiting getters and supports several drain callers", async () => {
      const q = newQueue();
      q.add("a");
      assert.equal(await q.get(), "a");
      const getter = q.get();
      const first = q.shutDownWithDrain();
      const second = q.shutDownWithDrain();
      assert.equal(await getter, undefined);
      q.done("a");
      await Promise.all([first, second]);
    });
  });
});
