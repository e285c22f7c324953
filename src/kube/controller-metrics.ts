import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { registeredMetric as getOrCreate } from "../util/registered-metric.js";

/** controller-runtime's metric names, so existing dashboards and alerts work unchanged. */
export interface ControllerMetrics {
  reconciled(controller: string, result: "success" | "error" | "requeue" | "requeue_after", seconds: number): void;
  error(controller: string, terminal: boolean): void;
  workers(controller: string, max: number, active: number): void;
}


export function prometheusControllerMetrics(registry: Registry): ControllerMetrics {
  const total = getOrCreate(registry, "controller_runtime_reconcile_total", () =>
    new Counter({ name: "controller_runtime_reconcile_total", help: "Total number of reconciliations per controller", labelNames: ["controller", "result"], registers: [registry] }));
  const errors = getOrCreate(registry, "controller_runtime_reconcile_errors_total", () =>
    new Counter({ name: "controller_runtime_reconcile_errors_total", help: "Total number of reconciliation errors per controller", labelNames: ["controller"], registers: [registry] }));
  const terminal = getOrCreate(registry, "controller_runtime_terminal_reconcile_errors_total", () =>
    new Counter({ name: "controller_runtime_terminal_reconcile_errors_total", help: "Total number of terminal reconciliation errors per controller", labelNames: ["controller"], registers: [registry] }));
  const time = getOrCreate(registry, "controller_runtime_reconcile_time_seconds", () =>
    new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }));
  const maxWorkers = getOrCreate(registry, "controller_runtime_max_concurrent_reconciles", () =>
    new Gauge({ name: "controller_runtime_max_concurrent_reconciles", help: "Maximum number of concurrent reconciles per controller", labelNames: ["controller"], registers: [registry] }));
  const active = getOrCreate(registry, "controller_runtime_active_workers", () =>
    new Gauge({ name: "controller_runtime_active_workers", help: "Number of currently used workers per controller", labelNames: ["controller"], registers: [registry] }));
  return {
    reconciled(controller, result, seconds) {
      total.inc({ controller, result });
      time.observe({ controller }, seconds);
    },
    error(controller, isTerminal) {
      errors.inc({ controller });
      if (isTerminal) terminal.inc({ controller });
    },
    workers(controller, max, n) {
      maxWorkers.set({ controller }, max);
      active.set({ controller }, n);
    },
  };
}
