import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { Incident, IncidentPhase, InstanceHAPolicy } from "../../../src/api/v1alpha1/index.js";
import { registerResourceMetrics } from "../../../src/operator/resource-metrics.js";
import { FakeClock } from "../../../src/util/fake-clock.js";

const NOW = new Date("2026-01-01T01:00:00Z");

function incident(name: string, cloud: string, detectedAt: string, phase?: IncidentPhase): Incident {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "Incident",
    metadata: { name, namespace: "ns" },
    spec: { cloudRef: { name: cloud }, hostRef: { name: `${cloud}.h` }, epoch: 1, trigger: "HostFailure", detectedAt },
    ...(phase ? { status: { phase } } : {}),
  };
}

function policy(name: string, capacity?: "True" | "False" | "Unknown", tolerated?: number): InstanceHAPolicy {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "InstanceHAPolicy",
    metadata: { name, namespace: "ns" },
    spec: { cloudRef: { name: "c" } },
    status: {
      ...(capacity ? { conditions: [{ type: "FailoverCapacitySufficient", status: capacity, reason: "R", message: "m", lastTransitionTime: NOW.toISOString() }] } : {}),
      ...(tolerated !== undefined ? { hostFailuresTolerated: tolerated } : {}),
    },
  } as InstanceHAPolicy;
}

async function samples(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.getSingleMetricAsString(name);
  return text.split("\n").filter((l) => l.startsWith(name)).sort();
}

describe("registerResourceMetrics", () => {
  it("counts open incidents by phase and ages the oldest per cloud; finished ones are left out", async () => {
    const registry = new Registry();
    let incidents: Incident[] = [
      incident("a", "c1", "2026-01-01T00:30:00Z", "Evacuating"),
      incident("b", "c1", "2026-01-01T00:50:00Z"),
      incident("c", "c1", "2026-01-01T00:00:00Z", "Recovered"),
      incident("d", "c2", "2026-01-01T00:59:00Z", "Fencing"),
    ];
    registerResourceMetrics(registry, new FakeClock(NOW), { incidents: () => incidents, policies: () => [] });
    assert.deepEqual(await samples(registry, "vmkeeper_incidents_open"), [
      'vmkeeper_incidents_open{namespace="ns",cloud="c1",phase="Detected"} 1',
      'vmkeeper_incidents_open{namespace="ns",cloud="c1",phase="Evacuating"} 1',
      'vmkeeper_incidents_open{namespace="ns",cloud="c2",phase="Fencing"} 1',
    ]);
    assert.deepEqual(await samples(registry, "vmkeeper_incident_oldest_open_seconds"), [
      'vmkeeper_incident_oldest_open_seconds{namespace="ns",cloud="c1"} 1800',
      'vmkeeper_incident_oldest_open_seconds{namespace="ns",cloud="c2"} 60',
    ]);
    incidents = [];
    assert.deepEqual(await samples(registry, "vmkeeper_incidents_open"), [], "a scrape shows the cache as it is now");
    assert.deepEqual(await samples(registry, "vmkeeper_incident_oldest_open_seconds"), []);
  });

  it("exports the failover capacity condition as 1/0 and no series while it is unknown", async () => {
    const registry = new Registry();
    const policies = [policy("ok", "True", 2), policy("short", "False", 0), policy("unknown", "Unknown"), policy("new")];
    registerResourceMetrics(registry, new FakeClock(NOW), { incidents: () => [], policies: () => policies });
    assert.deepEqual(await samples(registry, "vmkeeper_failover_capacity_sufficient"), [
      'vmkeeper_failover_capacity_sufficient{namespace="ns",policy="ok"} 1',
      'vmkeeper_failover_capacity_sufficient{namespace="ns",policy="short"} 0',
    ]);
    assert.deepEqual(await samples(registry, "vmkeeper_host_failures_tolerated"), [
      'vmkeeper_host_failures_tolerated{namespace="ns",policy="ok"} 2',
      'vmkeeper_host_failures_tolerated{namespace="ns",policy="short"} 0',
    ]);
  });
});
