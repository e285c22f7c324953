import assert from "node:assert/strict";
import type { IncidentStatus } from "../../../../src/api/v1alpha1/index.js";
import { hostReturnPending, initialHostReturn, planHostReturn, type HostReturnInput } from "../../../../src/recovery/workflow/plan-host-return.js";
import type { WorkflowHost } from "../../../../src/recovery/workflow/workflow-model.js";

const NOW = "2026-01-01T00:10:00.000Z";
const svc = (over: Partial<WorkflowHost> = {}): WorkflowHost => ({ serviceHost: "compute-1", serviceId: "svc-1", forcedDown: true, disabled: true, disabledReason: "vmkeeper: host failure, incident lab.compute-1-1", up: false, updatedAt: "2026-01-01T00:00:00Z", ...over });

function finished(mode: "Manual" | "Automatic"): IncidentStatus {
  const status: IncidentStatus = { phase: "Recovered", fencing: { forcedDown: true, serviceDisabled: true }, timestamps: { finishedAt: "2026-01-01T00:00:05Z" } };
  initialHostReturn(status, mode, svc(), "2026-01-01T00:00:05Z");
  return status;
}

const input = (over: Partial<HostReturnInput>): HostReturnInput => ({ nowIso: NOW, status: finished("Automatic"), service: svc(), health: "Degraded", hostExists: true, maintenance: false, ...over });

describe("planHostReturn", () => {
  it("starts only for a host vmkeeper forced down or disabled, with Nova's updated_at as the mark", () => {
    const untouched: IncidentStatus = { phase: "Recovered", fencing: {} };
    initialHostReturn(untouched, "Automatic", svc(), NOW);
    assert.equal(untouched.hostReturn, undefined);
    assert.equal(hostReturnPending(untouched), false);
    const s = finished("Automatic");
    assert.deepEqual([s.hostReturn?.state, s.hostReturn?.serviceUpdatedAt, s.conditions?.[0]?.type, s.conditions?.[0]?.status], ["WaitingForHost", "2026-01-01T00:00:00Z", "HostReenabled", "False"]);
    assert.equal(finished("Manual").hostReturn?.state, "WaitingForPerson");
  });

  it("needs both channels before lifting the force-down: heartbeats and a newer Nova report", () => {
    assert.match(planHostReturn(input({ health: "Failed", service: svc({ updatedAt: "2026-01-01T00:09:50Z" }) })).status.hostReturn?.message ?? "", /agent heartbeats \(health Failed\)/);
    const noReport = planHostReturn(input({ health: "Degraded" }));
    assert.equal(noReport.action, undefined);
    assert.match(noReport.status.hostReturn?.message ?? "", /waiting for nova-compute to report/);
    assert.deepEqual(planHostReturn(input({ service: svc({ updatedAt: "2026-01-01T00:09:50Z" }) })).action, { kind: "LiftForceDown", serviceId: "svc-1" });
  });

  it("enables only once Nova says up, and only a service vmkeeper disabled", () => {
    const lifted = svc({ forcedDown: false, updatedAt: "2026-01-01T00:09:50Z" });
    assert.equal(planHostReturn(input({ service: lifted })).status.hostReturn?.state, "WaitingForServiceUp");
    assert.deepEqual(planHostReturn(input({ service: { ...lifted, up: true } })).action, { kind: "EnableService", serviceId: "svc-1" });
    const person = planHostReturn(input({ service: { ...lifted, up: true, disabledReason: "RMA ticket 12" } }));
    assert.equal(person.action, undefined);
    assert.equal(person.status.hostReturn?.state, "LeftDisabled");
  });

  it("holds in maintenance, ends when the host is gone, and stays put once final", () => {
    const held = planHostReturn(input({ maintenance: true, service: svc({ updatedAt: "2026-01-01T00:09:50Z" }) }));
    assert.equal(held.action, undefined);
    assert.match(held.status.hostReturn?.message ?? "", /maintenance/);
    const gone = planHostReturn(input({ hostExists: false }));
    assert.equal(gone.status.hostReturn?.state, "HostGone");
    assert.equal(gone.requeueAfterMs, undefined);
    assert.equal(hostReturnPending(gone.status), false);
    const again = planHostReturn(input({ status: gone.status, service: svc({ forcedDown: false, disabled: false, up: true }) }));
    assert.deepEqual([again.status.hostReturn?.state, again.log], ["HostGone", []]);
  });
});

describe("planHostReturn with a newer failure of the host", () => {
  it("hands over to a newer incident, but only pauses while a safety gate holds that one", () => {
    const back = svc({ updatedAt: "2026-01-01T00:09:50Z" });
    const held = planHostReturn(input({ service: back, newerIncident: { name: "lab.compute-1-2", suppressed: true } }));
    assert.deepEqual([held.action, held.status.hostReturn?.state, held.requeueAfterMs], [undefined, "WaitingForHost", 10_000]);
    const taken = planHostReturn(input({ service: back, newerIncident: { name: "lab.compute-1-2", suppressed: false } }));
    assert.deepEqual([taken.status.hostReturn?.state, hostReturnPending(taken.status)], ["Superseded", false]);
  });
});
