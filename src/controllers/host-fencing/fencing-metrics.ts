import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { registeredMetric } from "../../util/registered-metric.js";

export interface FencingMetrics {
  /** vmkeeper_fencing_operations_total{hostfencing,result} */
  operation(hostFencing: string, result: "Succeeded" | "Failed" | "Conflict", seconds: number): void;
  /** vmkeeper_fencing_device_up{namespace,hostfencing,host,level,device}: 1 when the last probe read a power state. */
  deviceUp(labels: { namespace: string; hostfencing: string; host: string; level: string; device: string }, up: boolean): void;
  /** vmkeeper_fencing_unfenceable_hosts{namespace,hostfencing}: selected hosts with no fully reachable level. */
  unfenceable(namespace: string, hostFencing: string, count: number): void;
  /** Drops every series of a HostFencing that no longer exists. */
  forget(namespace: string, hostFencing: string): void;
}

export function prometheusFencingMetrics(registry: Registry): FencingMetrics {
  const get = <T>(name: string, make: () => T): T => registeredMetric(registry, name, make);
  const ops = get("vmkeeper_fencing_operations_total", () => new Counter({ name: "vmkeeper_fencing_operations_total", help: "Fencing operations finished, by HostFencing and result", labelNames: ["hostfencing", "result"], registers: [registry] }));
  const duration = get("vmkeeper_fencing_duration_seconds", () => new Histogram({ name: "vmkeeper_fencing_duration_seconds", help: "Time from the start of a fencing operation to power read back Off (or failure)", labelNames: ["hostfencing", "result"], buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300], registers: [registry] }));
  const up = get("vmkeeper_fencing_device_up", () => new Gauge({ name: "vmkeeper_fencing_device_up", help: "1 when the last health probe of a fencing device read a power state, else 0", labelNames: ["namespace", "hostfencing", "host", "level", "device"], registers: [registry] }));
  const unfenceable = get("vmkeeper_fencing_unfenceable_hosts", () => new Gauge({ name: "vmkeeper_fencing_unfenceable_hosts", help: "Selected hosts for which no fencing level currently has all its devices reachable", labelNames: ["namespace", "hostfencing"], registers: [registry] }));
  type DeviceLabels = { namespace: string; hostfencing: string; host: string; level: string; device: string };
  const seen = new Map<string, DeviceLabels[]>();
  return {
    operation: (hostfencing, result, seconds) => {
      ops.inc({ hostfencing, result });
      duration.observe({ hostfencing, result }, seconds);
    },
    deviceUp: (labels, ok) => {
      const key = `${labels.namespace}/${labels.hostfencing}`;
      const list = seen.get(key) ?? [];
      if (!list.some((l) => l.host === labels.host && l.level === labels.level && l.device === labels.device)) seen.set(key, [...list, labels]);
      up.set(labels, ok ? 1 : 0);
    },
    unfenceable: (namespace, hostfencing, count) => unfenceable.set({ namespace, hostfencing }, count),
    forget: (namespace, hostfencing) => {
      for (const labels of seen.get(`${namespace}/${hostfencing}`) ?? []) up.remove(labels);
      seen.delete(`${namespace}/${hostfencing}`);
      unfenceable.remove({ namespace, hostfencing });
    },
  };
}
