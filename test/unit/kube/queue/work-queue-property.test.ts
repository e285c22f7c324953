import assert from "node:assert/strict";
import fc from "fast-check";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { WorkQueue } from "../../../../src/kube/queue/work-queue.js";

/**
 * Several async workers and a producer run against one queue; fast-check's scheduler picks
 * the order in which their steps resolve. Whatever the interleaving, a key in flight is
 * never handed out again, and every key is processed after its last add.
 */
describe("WorkQueue under random interleavings (property)", () => {
  it("never processes a key twice at once and loses no add", async () => {
    const keys = fc.constantFrom("a", "b", "c", "d");
    const program = fc.record({
      workers: fc.integer({ min: 1, max: 4 }),
      adds: fc.array(keys, { minLength: 1, maxLength: 40 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), program, async (s, { workers, adds }) => {
        const q = new WorkQueue({ name: "prop", clock: new FakeClock() });
        let tick = 0;
        const inFlight = new Set<string>();
        const lastAdd = new Map<string, number>();
        const lastStart = new Map<string, number>();

        const worker = async (): Promise<void> => {
          for (;;) {
            const key = await q.get();
            if (key === undefined) return;
            assert.ok(!inFlight.has(key), `${key} handed out while in flight`);
            inFlight.add(key);
            lastStart.set(key, tick++);
            await s.schedule(Promise.resolve(), `work ${key}`);
            inFlight.delete(key);
            q.done(key);
          }
        };
        const running = Array.from({ length: workers }, () => worker());
        for (const key of adds) {
          void s.schedule(Promise.resolve(), `add ${key}`).then(() => {
            lastAdd.set(key, tick++);
            q.add(key);
          });
        }

        await s.waitIdle();
        assert.equal(q.len(), 0, "workers are idle only when the queue is empty");
        for (const [key, addedAt] of lastAdd) {
          assert.ok((lastStart.get(key) ?? -1) > addedAt, `${key} was not processed after its last add`);
        }
        q.shutDown();
        await Promise.all(running);
      }),
      { numRuns: 300 },
    );
  });
});
