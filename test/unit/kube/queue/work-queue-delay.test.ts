import assert from "node:assert/strict";
import fc from "fast-check";
import { SystemClock } from "../../../../src/util/clock.js";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { ItemExponentialFailureRateLimiter } from "../../../../src/kube/queue/item-exponential-failure-rate-limiter.js";
import { WorkQueue } from "../../../../src/kube/queue/work-queue.js";

async function drain(q: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (q.len() > 0) {
    const key = await q.get();
    if (key === undefined) break;
    keys.push(key);
    q.done(key);
  }
  return keys;
}

describe("WorkQueue delayed adds", () => {
  let clock: FakeClock;
  let q: WorkQueue;
  beforeEach(() => {
    clock = new FakeClock();
    q = new WorkQueue({ name: "test", clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000) });
  });
  afterEach(() => q.shutDown());

  it("adds a key only once its delay has passed", async () => {
    q.addAfter("a", 100);
    await clock.advance(99);
    assert.equal(q.len(), 0);
    await clock.advance(1);
    assert.deepEqual(await drain(q), ["a"]);
  });

  it("releases earlier-ready keys first, ties in insertion order", async () => {
    q.addAfter("late", 300);
    q.addAfter("tie-1", 200);
    q.addAfter("early", 100);
    q.addAfter("tie-2", 200);
    await clock.advance(1000);
    assert.deepEqual(await drain(q), ["early", "tie-1", "tie-2", "late"]);
  });

  it("keeps the earliest of several delays for one key", async () => {
    q.addAfter("a", 500);
    q.addAfter("a", 100);
    q.addAfter("a", 300);
    await clock.advance(100);
    assert.deepEqual(await drain(q), ["a"]);
    await clock.advance(1000);
    assert.deepEqual(await drain(q), [], "the later delays were merged into the first");
  });

  it("adds at once for a zero, negative or NaN delay", () => {
    q.addAfter("zero", 0);
    q.addAfter("negative", -5);
    q.addAfter("nan", Number.NaN);
    assert.equal(q.len(), 3);
  });

  it("collapses a delayed key into the same key already queued", async () => {
    q.add("a");
    q.addAfter("a", 10);
    await clock.advance(10);
    assert.deepEqual(await drain(q), ["a"]);
  });

  it("keeps a single clock timer however many keys wait", async () => {
    for (let i = 0; i < 50; i++) q.addAfter(`k${i}`, 1000 - i);
    assert.equal(clock.pendingSleepers(), 1);
    await clock.advance(1000);
    assert.equal(q.len(), 50);
    assert.equal(clock.pendingSleepers(), 0, "an idle queue holds no timer");
  });

  it("drops delayed keys and its timer on shutdown", async () => {
    q.addAfter("a", 100);
    q.shutDown();
    assert.equal(clock.pendingSleepers(), 0);
    await clock.advance(200);
    assert.equal(q.len(), 0);
  });

  it("retries with the rate limiter's backoff and counts requeues until forget", async () => {
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = clock.monotonicMs();
      q.addRateLimited("a");
      while (q.len() === 0) await clock.advance(1);
      delays.push(clock.monotonicMs() - start);
      await drain(q);
    }
    assert.deepEqual(delays, [5, 10, 20, 40]);
    assert.equal(q.numRequeues("a"), 4);
    q.forget("a");
    assert.equal(q.numRequeues("a"), 0);
  });

  it("releases keys in (ready time, insertion) order for any schedule", async () => {
    const schedule = fc.array(fc.record({ key: fc.constantFrom("a", "b", "c", "d", "e"), delayMs: fc.integer({ min: -5, max: 50 }) }), { maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(schedule, async (adds) => {
        const fake = new FakeClock();
        const queue = new WorkQueue({ name: "prop", clock: fake });
        // Model: a non-positive delay is a plain add (collapsing while queued); positive
        // delays keep one entry per key at its earliest time, ordered by first insertion.
        const immediate = new Set<string>();
        const readyAt = new Map<string, { at: number; seq: number }>();
        adds.forEach(({ key, delayMs }, seq) => {
          queue.addAfter(key, delayMs);
          if (delayMs <= 0) {
            immediate.add(key);
            return;
          }
          const known = readyAt.get(key);
          if (!known) readyAt.set(key, { at: delayMs, seq });
          else if (delayMs < known.at) known.at = delayMs;
        });
        const released: { key: string; at: number }[] = [];
        for (let t = 0; t <= 50; t++) {
          if (t > 0) await fake.advance(1);
          for (const key of await drain(queue)) released.push({ key, at: fake.monotonicMs() });
        }
        const expected = [
          ...[...immediate].map((key) => ({ key, at: 0 })),
          ...[...readyAt.entries()]
            .sort(([, x], [, y]) => x.at - y.at || x.seq - y.seq)
            .map(([key, { at }]) => ({ key, at })),
        ];
        assert.deepEqual(released, expected);
        queue.shutDown();
      }),
      { numRuns: 100 },
    );
  });
});

describe("WorkQueue delayed adds on the system clock", () => {
  it("wakes a waiting get() after a short real delay", async () => {
    const q = new WorkQueue({ name: "real", clock: new SystemClock() });
    const key = q.get();
    q.addAfter("a", 2);
    assert.equal(await key, "a");
    q.shutDown();
  });

  it("clears its timer on shutdown so the process can exit", () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const q = new WorkQueue({ name: "real", clock: new SystemClock() });
    const before = timers();
    q.addAfter("a", 60_000);
    assert.equal(timers(), before + 1);
    q.shutDown();
    assert.equal(timers(), before);
  });
});
