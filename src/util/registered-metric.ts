import type { Registry } from "prom-client";

/**
 * The metric already registered under `name`, or a new one from `make`. Several operator
 * parts (and tests that build the operator twice) share one registry; prom-client throws
 * on a second registration of the same name.
 */
export function registeredMetric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
