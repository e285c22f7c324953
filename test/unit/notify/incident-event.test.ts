import assert from "node:assert/strict";
import fc from "fast-check";
import type { Incident } from "../../../src/api/v1alpha1/index.js";
import {
  buildIncidentEvent,
  incidentEventId,
  incidentEventInput,
  IncidentEventNames,
  INSTANCE_EVENT_NAMES,
  serializeEvent,
  type IncidentEventInput,
} from "../../../src/notify/incident-event.js";

function sampleInput(instances = 3): IncidentEventInput {
  return {
    namespace: "team-a",
    incident: "lab.compute-1-7",
    cloud: "lab",
    host: "lab.compute-1",
    serviceHost: "compute-1",
    epoch: 7,
    trigger: "HostFailure",
    detectedAt: "2026-01-01T00:00:00.000Z",
    reason: "heartbeats stopped 6 s ago; 2/2 peers cannot reach it",
    policies: [
      { name: "web", mode: "NotifyOnly" },
      { name: "db", mode: "KeepRunning" },
    ],
    instances: Array.from({ length: instances }, (_, i) => ({ id: `0000000${i}-aaaa-bbbb-cccc-dddddddddddd`, name: `vm-${i}`, project: "p1", policy: i % 2 === 0 ? "web" : "db", state: "Pending" })),
    time: new Date("2026-01-01T00:00:00.250Z"),
  };
}

describe("incident events (CloudEvents 1.0)", () => {
  it("carries the CloudEvents attributes and the payload", () => {
    const e = buildIncidentEvent("detected", sampleInput());
    assert.equal(e.specversion, "1.0");
    assert.equal(e.id, "lab.compute-1-7/detected");
    assert.equal(e.source, "/ha.vmkeeper.dev/team-a/lab");
    assert.equal(e.type, "dev.vmkeeper.incident.detected");
    assert.equal(e.subject, "lab.compute-1-7");
    assert.equal(e.time, "2026-01-01T00:00:00.250Z");
    assert.equal(e.datacontenttype, "application/json");
    assert.equal(e.data.phase, "Detected");
    assert.equal(e.data.epoch, 7);
    assert.equal(e.data.host, "lab.compute-1");
    assert.deepEqual(e.data.policies, [{ name: "web", mode: "NotifyOnly" }, { name: "db", mode: "KeepRunning" }]);
    assert.equal(e.data.instances.length, 3);
    assert.equal(e.data.summary.total, 3);
    assert.match(e.data.message, /Failure of host lab\.compute-1 of cloud lab \(epoch 7\) detected: heartbeats stopped/);
    assert.match(e.data.message, /Policy web is NotifyOnly/);
    assert.equal(e.data.gate, undefined);
  });

  it("gives the same id to the same fact and different ids to different facts", () => {
    const a = buildIncidentEvent("fenced", sampleInput());
    const b = buildIncidentEvent("fenced", { ...sampleInput(), time: new Date("2026-01-02T00:00:00Z"), phase: "Evacuating" });
    assert.equal(a.id, b.id);
    const ids = new Set(IncidentEventNames.map((n) => buildIncidentEvent(n, sampleInput(), INSTANCE_EVENT_NAMES.has(n) ? { instanceId: "00000000-aaaa-bbbb-cccc-dddddddddddd" } : {}).id));
    assert.equal(ids.size, IncidentEventNames.length);
    assert.notEqual(buildIncidentEvent("instance_recovered", sampleInput(), { instanceId: "a" }).id, buildIncidentEvent("instance_recovered", sampleInput(), { instanceId: "b" }).id);
    assert.equal(incidentEventId("i-1", "detected", "web"), "i-1/detected/web");
  });

  it("is pure: the same input serialises to the same bytes", () => {
    fc.assert(
      fc.property(fc.constantFrom(...IncidentEventNames), fc.integer({ min: 0, max: 300 }), (name, n) => {
        const opts = INSTANCE_EVENT_NAMES.has(name) ? { instanceId: "x" } : {};
        assert.equal(serializeEvent(buildIncidentEvent(name, sampleInput(n), opts)), serializeEvent(buildIncidentEvent(name, sampleInput(n), opts)));
      }),
      { numRuns: 50 },
    );
  });

  it("bounds the instance list and says how many were left out", () => {
    const e = buildIncidentEvent("evacuating", sampleInput(250), { maxInstances: 100 });
    assert.equal(e.data.instances.length, 100);
    assert.equal(e.data.instancesTotal, 250);
    assert.equal(e.data.instancesOmitted, 150);
    assert.ok(Buffer.byteLength(serializeEvent(buildIncidentEvent("evacuating", sampleInput(2000)))) < 64 * 1024);
  });

  it("scoped to a policy, lists only that policy and its instances (owners never see each other's VMs)", () => {
    const e = buildIncidentEvent("detected", sampleInput(4), { policy: "web" });
    assert.deepEqual(e.data.policies, [{ name: "web", mode: "NotifyOnly" }]);
    assert.deepEqual(e.data.instances.map((i) => i.name), ["vm-0", "vm-2"]);
    assert.equal(e.data.summary.total, 2);
    assert.equal(e.id, "lab.compute-1-7/detected/web");
    assert.ok(!serializeEvent(e).includes("vm-1"));
  });

  it("suppressed events carry the gate; instance events carry the instance", () => {
    const input = { ...sampleInput(), gate: { name: "StormThreshold", reason: "MaxUnhealthy", message: "3 of 5 hosts failed within 10 min" } };
    const s = buildIncidentEvent("suppressed", input);
    assert.deepEqual(s.data.gate, input.gate);
    assert.match(s.data.message, /suppressed by gate StormThreshold: 3 of 5 hosts/);
    assert.equal(buildIncidentEvent("detected", input).data.gate, undefined);
    const inst = { ...sampleInput(), instances: [{ id: "i-9", name: "db-0", policy: "db", state: "Recovered", targetHost: "compute-2" }] };
    const r = buildIncidentEvent("instance_recovered", inst, { instanceId: "i-9" });
    assert.equal(r.data.instance?.targetHost, "compute-2");
    assert.equal(r.data.message, "Instance db-0 (i-9) recovered on compute-2.");
    assert.throws(() => buildIncidentEvent("instance_failed", inst), /needs an instanceId/);
  });

  it("clips the human message at 1024 characters", () => {
    const e = buildIncidentEvent("detected", { ...sampleInput(), reason: "x".repeat(5000) });
    assert.ok(e.data.message.length <= 1024);
    assert.ok((e.data.reason ?? "").length <= 1024);
  });

  it("reads its input from an Incident", () => {
    const incident: Incident = {
      apiVersion: "ha.vmkeeper.dev/v1alpha1",
      kind: "Incident",
      metadata: { name: "lab.compute-2-3", namespace: "ops" },
      spec: { cloudRef: { name: "lab" }, hostRef: { name: "lab.compute-2" }, serviceHost: "compute-2", epoch: 3, trigger: "HostFailure", detectedAt: "2026-01-01T00:00:00Z", reason: "r" },
      status: {
        phase: "Recovered",
        policies: [{ name: "web", mode: "KeepRunning" }],
        summary: { total: 2, recovered: 2, failed: 0, pending: 0 },
        instances: [
          { id: "b", name: "vm-b", policy: "web", state: "Recovered", targetHost: "compute-3" },
          { id: "a", name: "vm-a", policy: "web", state: "Recovered", targetHost: "compute-1" },
        ],
      },
    };
    const input = incidentEventInput(incident, new Date("2026-01-01T00:01:00Z"), (id) => (id === "a" ? "proj-a" : undefined));
    const e = buildIncidentEvent("recovered", input);
    assert.equal(e.source, "/ha.vmkeeper.dev/ops/lab");
    assert.equal(e.data.phase, "Recovered");
    assert.deepEqual(e.data.instances.map((i) => [i.id, i.project]), [["a", "proj-a"], ["b", undefined]]);
    assert.equal(e.data.message, "All 2 instance(s) of host lab.compute-2 of cloud lab (epoch 3) recovered.");
  });
});
