import assert from "node:assert/strict";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { BucketRateLimiter } from "../../../../src/kube/queue/bucket-rate-limiter.js";
import { defaultControllerRateLimiter } from "../../../../src/kube/queue/default-controller-rate-limiter.js";
import { ItemExponentialFailureRateLimiter } from "../../../../src/kube/queue/item-exponential-failure-rate-limiter.js";
import { MaxOfRateLimiter } from "../../../../src/kube/queue/max-of-rate-limiter.js";
import type { RateLimiter } from "../../../../src/kube/queue/rate-limiter.js";

function whenTimes(limiter: RateLimiter, key: string, n: number): number[] {
  return Array.from({ length: n }, () => limiter.when(key));
}

describe("ItemExponentialFailureRateLimiter", () => {
  it("doubles from 5 ms per failure of a key", () => {
    const limiter = new ItemExponentialFailureRateLimiter();
    assert.deepEqual(whenTimes(limiter, "a", 6), [5, 10, 20, 40, 80, 160]);
    assert.equal(limiter.numRequeues("a"), 6);
  });

  it("caps at 1000 s by default and survives any number of failures", () => {
    const limiter = new ItemExponentialFailureRateLimiter();
    const delays = whenTimes(limiter, "a", 3000);
    // 5 ms * 2^17 = 655 s is the last step below the cap; 2^18 would be 1311 s.
    assert.equal(delays[17], 655_360);
    assert.equal(delays[18], 1_000_000);
    assert.ok(delays.slice(18).every((d) => d === 1_000_000), "no overflow to Infinity or NaN");
  });

  it("tracks keys independently and resets a key on forget", () => {
    const limiter = new ItemExponentialFailureRateLimiter(1, 100);
    assert.deepEqual(whenTimes(limiter, "a", 3), [1, 2, 4]);
    assert.deepEqual(whenTimes(limiter, "b", 2), [1, 2]);
    limiter.forget("a");
    assert.equal(limiter.numRequeues("a"), 0);
    assert.equal(limiter.numRequeues("b"), 2);
    assert.equal(limiter.when("a"), 1);
    assert.equal(limiter.when("b"), 4);
  });

  it("handles a zero base delay and rejects negative ones", () => {
    const limiter = new ItemExponentialFailureRateLimiter(0, 10);
    assert.deepEqual(whenTimes(limiter, "a", 2000).filter((d) => d !== 0), []);
    assert.throws(() => new ItemExponentialFailureRateLimiter(-1, 10), RangeError);
    assert.throws(() => new ItemExponentialFailureRateLimiter(1, Number.NaN), RangeError);
  });
});

describe("BucketRateLimiter", () => {
  it("lets a burst through, then spaces calls 1/qps apart", () => {
    const limiter = new BucketRateLimiter(new FakeClock(), 10, 3);
    assert.deepEqual(whenTimes(limiter, "any", 6), [0, 0, 0, 100, 200, 300]);
  });

  it("refills at qps up to the burst size", async () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter(clock, 10, 3);
    whenTimes(limiter, "a", 4); // one token in debt
    await clock.advance(100);
    assert.equal(limiter.when("b"), 100, "the debt was repaid, the new token is owed");
    await clock.advance(60_000);
    assert.deepEqual(whenTimes(limiter, "c", 4), [0, 0, 0, 100], "never more than the burst is stored");
  });

  it("is shared by all keys and has nothing to forget", () => {
    const limiter = new BucketRateLimiter(new FakeClock(), 1, 1);
    assert.equal(limiter.when("a"), 0);
    assert.equal(limiter.when("b"), 1000);
    limiter.forget("b");
    assert.equal(limiter.numRequeues("b"), 0);
    assert.equal(limiter.when("c"), 2000);
  });

  it("defaults to 10 qps with a burst of 100", () => {
    const delays = whenTimes(new BucketRateLimiter(new FakeClock()), "a", 102);
    assert.equal(delays.filter((d) => d === 0).length, 100);
    assert.deepEqual(delays.slice(100), [100, 200]);
  });

  it("rejects a useless configuration", () => {
    assert.throws(() => new BucketRateLimiter(new FakeClock(), 0, 1), RangeError);
    assert.throws(() => new BucketRateLimiter(new FakeClock(), 1, 0), RangeError);
  });
});

describe("MaxOfRateLimiter", () => {
  it("returns the longest delay of its children and informs all of them", () => {
    const items = new ItemExponentialFailureRateLimiter(50, 1000);
    const bucket = new BucketRateLimiter(new FakeClock(), 1, 2);
    const limiter = new MaxOfRateLimiter(items, bucket);
    // items: 50, 100, 200, 400; bucket: 0, 0, 1000, 2000
    assert.deepEqual(whenTimes(limiter, "a", 4), [50, 100, 1000, 2000]);
    assert.equal(limiter.numRequeues("a"), 4);
    limiter.forget("a");
    assert.equal(items.numRequeues("a"), 0);
    assert.equal(limiter.numRequeues("a"), 0);
  });

  it("needs at least one child", () => {
    assert.throws(() => new MaxOfRateLimiter(), RangeError);
  });
});

describe("defaultControllerRateLimiter", () => {
  it("backs off per key from 5 ms and limits the overall retry rate to 10/s after 100", () => {
    const limiter = defaultControllerRateLimiter(new FakeClock());
    assert.deepEqual(whenTimes(limiter, "a", 3), [5, 10, 20]);
    const others = Array.from({ length: 98 }, (_, i) => limiter.when(`k${i}`));
    assert.ok(others.slice(0, 97).every((d) => d === 5), "97 more fit in the burst of 100");
    assert.equal(others[97], 100, "the 101st retry overall waits for the bucket");
    limiter.forget("a");
    assert.equal(limiter.numRequeues("a"), 0);
  });
});
