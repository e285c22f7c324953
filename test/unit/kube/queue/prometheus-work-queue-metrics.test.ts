import assert from "node:assert/strict";
import { Counter, Registry } from "prom-client";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { prometheusWorkQueueMetrics } from "../../../../src/kube/queue/prometheus-work-queue-metrics.js";
import { WorkQueue } from "../../../../src/kube/queue/work-queue.js";

/** The value of `metric` (or of its `suffix` sample, for histograms) for queue `name`. */
async function sample(registry: Registry, metric: string, name: string, suffix = ""): Promise<number | undefined> {
  const found = registry.getSingleMetric(metric);
  assert.ok(found, `${metric} is registered`);
  const { values } = await found.get();
  // Histogram samples carry their series name (`_sum`, `_count`, `_bucket`); the base type does not say so.
  const withName: { value: number; labels: Record<string, string | number | undefined>; metricName?: string }[] = values;
  return withName.find((v) => v.labels.name === name && (suffix === "" || v.metricName === `${metric}${suffix}`))?.value;
}

describe("prometheusWorkQueueMetrics", () => {
  let registry: Registry;
  let clock: FakeClock;
  let q: WorkQueue;
  beforeEach(() => {
    registry = new Registry();
    clock = new FakeClock();
    q = new WorkQueue({ name: "vms", clock, metrics: prometheusWorkQueueMetrics(registry, "vms") });
  });
  afterEach(() => q.shutDown());

  it("registers the client-go series, zeroed, labelled by queue name", async () => {
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    assert.deepEqual(names, [
      "workqueue_adds_total",
      "workqueue_depth",
      "workqueue_longest_running_processor_seconds",
      "workqueue_queue_duration_seconds",
      "workqueue_retries_total",
      "workqueue_unfinished_work_seconds",
      "workqueue_work_duration_seconds",
    ]);
    assert.equal(await sample(registry, "workqueue_depth", "vms"), 0);
    assert.equal(await sample(registry, "workqueue_adds_total", "vms"), 0);
  });

  it("counts adds, tracks depth back to zero and observes durations", async () => {
    q.add("a");
    q.add("a");
    q.add("b");
    assert.equal(await sample(registry, "workqueue_adds_total", "vms"), 2);
    assert.equal(await sample(registry, "workqueue_depth", "vms"), 2);
    await clock.advance(250);
    for (const key of [await q.get(), await q.get()]) {
      assert.ok(key !== undefined);
      q.done(key);
    }
    assert.equal(await sample(registry, "workqueue_depth", "vms"), 0);
    assert.equal(await sample(registry, "workqueue_queue_duration_seconds", "vms", "_count"), 2);
    assert.equal(await sample(registry, "workqueue_queue_duration_seconds", "vms", "_sum"), 0.5);
    assert.equal(await sample(registry, "workqueue_work_duration_seconds", "vms", "_count"), 2);
  });

  it("counts retries", async () => {
    q.addRateLimited("a");
    q.addRateLimited("b");
    q.addAfter("c", 10);
    assert.equal(await sample(registry, "workqueue_retries_total", "vms"), 2, "only rate-limited adds are retries");
    await clock.advance(1000);
    assert.equal(await sample(registry, "workqueue_adds_total", "vms"), 3);
  });

  it("shows work that is still running, and clears it when done", async () => {
    q.add("slow");
    const key = await q.get();
    assert.equal(key, "slow");
    await clock.advance(1500);
    assert.equal(await sample(registry, "workqueue_longest_running_processor_seconds", "vms"), 1.5);
    assert.equal(await sample(registry, "workqueue_unfinished_work_seconds", "vms"), 1.5);
    q.done(key);
    assert.equal(await sample(registry, "workqueue_longest_running_processor_seconds", "vms"), 0);
    assert.equal(await sample(registry, "workqueue_work_duration_seconds", "vms", "_sum"), 1.5);
    assert.equal(clock.pendingSleepers(), 0, "no refresh timer once nothing is in flight");
  });

  it("lets several queues share one registry", async () => {
    const other = new WorkQueue({ name: "hosts", clock, metrics: prometheusWorkQueueMetrics(registry, "hosts") });
    other.add("h1");
    q.add("v1");
    q.add("v2");
    assert.equal(await sample(registry, "workqueue_depth", "hosts"), 1);
    assert.equal(await sample(registry, "workqueue_depth", "vms"), 2);
    other.shutDown();
    assert.equal(await sample(registry, "workqueue_depth", "hosts"), 0);
  });

  it("refuses a name already registered as another metric type", () => {
    const clash = new Registry();
    new Counter({ name: "workqueue_depth", help: "not a gauge", registers: [clash] });
    assert.throws(() => prometheusWorkQueueMetrics(clash, "x"), /another type/);
  });
});
