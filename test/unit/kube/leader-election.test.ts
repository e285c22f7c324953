import assert from "node:assert/strict";
import fc from "fast-check";
import { LeaderElector, NotLeaderError, type LeaderElectionConfig } from "../../../src/kube/leader-election.js";
import { FakeClock, flushMicrotasks } from "../../../src/util/fake-clock.js";
import { silentLogger } from "../../../src/util/logger.js";
import { MemoryLeaseStore } from "../../support/memory-lease-store.js";

const base = { leaseNamespace: "ns", leaseName: "lease", leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, releaseOnCancel: true };
const cfg = (identity: string, extra: Partial<LeaderElectionConfig> = {}): LeaderElectionConfig => ({ ...base, identity, ...extra });

describe("LeaderElector (virtual clock, in-memory Lease)", () => {
  let clock: FakeClock;
  let store: MemoryLeaseStore;

  beforeEach(() => {
    clock = new FakeClock();
    store = new MemoryLeaseStore(() => clock.monotonicMs());
  });

  it("acquires a free lease and keeps renewing it", async () => {
    const a = new LeaderElector(cfg("a"), store, clock, silentLogger());
    const stop = new AbortController();
    let led = false;
    const run = a.run(stop.signal, () => (led = true));
    await flushMicrotasks();
    assert.ok(led);
    assert.ok(a.isLeader());
    await clock.advance(60_000);
    assert.ok(a.isLeader(), "renewals keep leadership");
    assert.ok(store.writes.length >= 25);
    stop.abort();
    assert.equal(await run, "stopped");
    assert.equal(store.holder(), "", "the lease is released on a clean stop");
  });

  it("does not take a lease another holder keeps renewing, and takes it once renewals stop", async () => {
    // releaseOnCancel off: stopping `a` is like a crash, the lease stays with it.
    const a = new LeaderElector(cfg("a", { releaseOnCancel: false }), store, clock, silentLogger());
    const b = new LeaderElector(cfg("b"), store, clock, silentLogger());
    const stopA = new AbortController();
    const stopB = new AbortController();
    const runA = a.run(stopA.signal, () => undefined);
    await flushMicrotasks();
    let bLed = false;
    const runB = b.run(stopB.signal, () => (bLed = true));
    await clock.advance(60_000);
    assert.equal(bLed, false, "b waits while a renews");
    stopA.abort();
    assert.equal(await runA, "stopped");
    assert.equal(store.holder(), "a");
    // Retries are jittered up to +20 % (2.4 s). b counts the lease duration from when it saw
    // a's last renewal, which it sees up to one retry late: a renewed at 57.6..60 s, b saw it
    // by 62.4 s, so the lease is valid for b until at least 72.6 s and at most 77.4 s, and b's
    // next attempt after that comes by 79.8 s.
    await clock.advance(12_000);
    assert.equal(bLed, false, "the lease is still valid");
    await clock.advance(8_000);
    assert.ok(bLed, "b takes over within lease duration + two jittered retry periods");
    stopB.abort();
    await runB;
  });

  it("stops being leader at the renew deadline when the API is unreachable, and reports lost", async () => {
    const a = new LeaderElector(cfg("a"), store, clock, silentLogger());
    let leading: AbortSignal | undefined;
    const run = a.run(new AbortController().signal, (s) => (leading = s));
    await flushMicrotasks();
    assert.ok(a.isLeader());
    store.down = true;
    await clock.advance(9_000);
    assert.ok(a.isLeader(), "still within the renew deadline");
    await clock.advance(1_500);
    assert.equal(a.isLeader(), false, "past the renew deadline");
    assert.throws(() => a.assertLeader(), NotLeaderError);
    await clock.advance(5_000);
    assert.equal(await run, "lost");
    assert.ok(leading?.aborted, "the leading signal aborts so side effects stop");
  });

  it("rejects timings that would allow two leaders", () => {
    assert.throws(() => new LeaderElector(cfg("a", { renewDeadlineMs: 15_000 }), store, clock, silentLogger()));
    assert.throws(() => new LeaderElector(cfg("a", { retryPeriodMs: 9_000 }), store, clock, silentLogger()));
  });

  it("property: two electors with random API outages are never both leader at once", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ at: fc.integer({ min: 0, max: 120_000 }), len: fc.integer({ min: 100, max: 30_000 }) }), { maxLength: 6 }), async (outages) => {
        const clk = new FakeClock();
        const st = new MemoryLeaseStore(() => clk.monotonicMs());
        const electors = ["a", "b"].map((id) => new LeaderElector(cfg(id, { releaseOnCancel: false }), st, clk, silentLogger()));
        const stop = new AbortController();
        // Each elector campaigns again after losing, as a restarted process would.
        const loops = electors.map(async (e) => {
          while (!stop.signal.aborted) await e.run(stop.signal, () => undefined);
        });
        const sorted = [...outages].sort((x, y) => x.at - y.at);
        for (let t = 0; t < 150_000; t += 250) {
          st.down = sorted.some((o) => t >= o.at && t < o.at + o.len);
          await clk.advance(250);
          assert.ok(!(electors[0]!.isLeader() && electors[1]!.isLeader()), `two leaders at ${t} ms`);
        }
        st.down = false;
        stop.abort();
        await clk.advance(5_000);
        await Promise.all(loops);
      }),
      { numRuns: 25 },
    );
  });
});
