import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { WorkQueueMetrics } from "./work-queue-metrics.js";

type Label = "name";
type MetricClass<M> = new (config: {
  name: string;
  help: string;
  labelNames: readonly Label[];
  registers: Registry[];
  buckets?: number[];
}) => M;

// controller-runtime's buckets: 10 ns to 1000 s, by powers of ten. Kept identical so the
// usual workqueue dashboards and alerts work unchanged.
const DURATION_BUCKETS_SECONDS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

/**
 * Returns the metric called `name` in `registry`, creating it on first use. Several
 * queues share one registry and prom-client refuses to register a name twice, so the
 * series are created once per registry and told apart by the `name` label.
 */
function metricIn<M>(registry: Registry, type: MetricClass<M>, name: string, help: string, buckets?: number[]): M {
  const existing: unknown = registry.getSingleMetric(name);
  if (existing instanceof type) return existing;
  if (existing !== undefined) throw new Error(`metric ${name} is already registered with another type`);
  return new type({ name, help, labelNames: ["name"], registers: [registry], ...(buckets ? { buckets } : {}) });
}

/** Queue metrics named like client-go / controller-runtime's, labelled by queue `name`. */
export function prometheusWorkQueueMetrics(registry: Registry, name: string): WorkQueueMetrics {
  const labels = { name };
  const depth = metricIn<Gauge<Label>>(registry, Gauge, "workqueue_depth", "Current depth of workqueue");
  const adds = metricIn<Counter<Label>>(registry, Counter, "workqueue_adds_total", "Total number of adds handled by workqueue");
  const retries = metricIn<Counter<Label>>(registry, Counter, "workqueue_retries_total", "Total number of retries handled by workqueue");
  const latency = metricIn<Histogram<Label>>(registry, Histogram, "workqueue_queue_duration_seconds",
    "How long in seconds an item stays in workqueue before being requested", DURATION_BUCKETS_SECONDS);
  const workDuration = metricIn<Histogram<Label>>(registry, Histogram, "workqueue_work_duration_seconds",
    "How long in seconds processing an item from workqueue takes", DURATION_BUCKETS_SECONDS);
  const unfinished = metricIn<Gauge<Label>>(registry, Gauge, "workqueue_unfinished_work_seconds",
    "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
      "Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.");
  const longest = metricIn<Gauge<Label>>(registry, Gauge, "workqueue_longest_running_processor_seconds",
    "How many seconds has the longest running processor for workqueue been running.");

  // Zero the series up front so that a quiet queue is visible on dashboards.
  depth.set(labels, 0);
  adds.inc(labels, 0);
  retries.inc(labels, 0);
  unfinished.set(labels, 0);
  longest.set(labels, 0);

  return {
    add: () => adds.inc(labels),
    get: (waitedMs) => latency.observe(labels, waitedMs / 1000),
    done: (workedMs) => workDuration.observe(labels, workedMs / 1000),
    retry: () => retries.inc(labels),
    depth: (n) => depth.set(labels, n),
    unfinished: (totalWorkMs, longestMs) => {
      unfinished.set(labels, totalWorkMs / 1000);
      longest.set(labels, longestMs / 1000);
    },
  };
}
