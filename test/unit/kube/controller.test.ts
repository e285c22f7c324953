import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { Controller, TerminalError, type ReconcileRequest, type ReconcileResult } from "../../../src/kube/controller.js";
import { prometheusControllerMetrics } from "../../../src/kube/controller-metrics.js";
import { WorkQueue } from "../../../src/kube/queue/index.js";
import { FakeClock, flushMicrotasks } from "../../../src/util/fake-clock.js";
import { silentLogger } from "../../../src/util/logger.js";

function setup(reconcile: (req: ReconcileRequest) => Promise<ReconcileResult | void>, workers = 2) {
  const clock = new FakeClock();
  const registry = new Registry();
  const queue = new WorkQueue({ name: "test", clock });
  const controller = new Controller({ name: "test", reconciler: { reconcile }, queue, workers, clock, log: silentLogger(), metrics: prometheusControllerMetrics(registry) });
  const stop = new AbortController();
  const run = controller.run(stop.signal);
  const metric = async (result: string): Promise<number> => {
    const m = await registry.getSingleMetric("controller_runtime_reconcile_total")?.get();
    return m?.values.find((v) => v.labels.result === result)?.value ?? 0;
  };
  return { clock, controller, stop, run, metric, registry };
}

describe("Controller runner", () => {
  it("reconciles each key, splitting namespace and name", async () => {
    const seen: ReconcileRequest[] = [];
    const t = setup(async (req) => {
      seen.push(req);
    });
    t.controller.enqueue("ns/a");
    t.controller.enqueue("cluster-scoped");
    await flushMicrotasks();
    assert.deepEqual(seen.map((r) => [r.namespace, r.name]), [["ns", "a"], [undefined, "cluster-scoped"]]);
    assert.equal(await t.metric("success"), 2);
    t.stop.abort();
    await t.run;
  });

  it("retries a failing key with growing backoff and forgets the backoff after success", async () => {
    const attempts: number[] = [];
    let fail = 3;
    const t = setup(async () => {
      attempts.push(t.clock.monotonicMs());
      if (fail-- > 0) throw new Error("transient");
    });
    t.controller.enqueue("ns/a");
    await flushMicrotasks();
    await t.clock.advance(1_000);
    assert.deepEqual(attempts, [0, 5, 15, 35], "5 ms, 10 ms, 20 ms backoff");
    assert.equal(await t.metric("error"), 3);
    const errors = await t.registry.getSingleMetric("controller_runtime_reconcile_errors_total")?.get();
    assert.equal(errors?.values[0]?.value, 3);
    t.stop.abort();
    await t.run;
  });

  it("does not retry a terminal error", async () => {
    let calls = 0;
    const t = setup(async () => {
      calls++;
      throw new TerminalError("spec.foo is invalid");
    });
    t.controller.enqueue("ns/a");
    await t.clock.advance(60_000);
    assert.equal(calls, 1);
    const terminal = await t.registry.getSingleMetric("controller_runtime_terminal_reconcile_errors_total")?.get();
    assert.equal(terminal?.values[0]?.value, 1);
    t.stop.abort();
    await t.run;
  });

  it("requeues after the requested delay", async () => {
    const at: number[] = [];
    const t = setup(async () => {
      at.push(t.clock.monotonicMs());
      return at.length < 3 ? { requeueAfterMs: 30_000 } : undefined;
    });
    t.controller.enqueue("ns/a");
    await flushMicrotasks();
    await t.clock.advance(120_000);
    assert.deepEqual(at, [0, 30_000, 60_000]);
    assert.equal(await t.metric("requeue_after"), 2);
    t.stop.abort();
    await t.run;
  });

  it("never reconciles one key on two workers at once, and drains on stop", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let release: () => void = () => undefined;
    const t = setup(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((r) => (release = r));
      inFlight--;
    }, 4);
    t.controller.enqueue("ns/a");
    await flushMicrotasks();
    t.controller.enqueue("ns/a");
    t.controller.enqueue("ns/a");
    await flushMicrotasks();
    assert.equal(maxInFlight, 1);
    release();
    await flushMicrotasks();
    assert.equal(maxInFlight, 1, "the re-added key runs after the first finished");
    t.stop.abort();
    release();
    await t.run;
    assert.equal(inFlight, 0);
  });
});
