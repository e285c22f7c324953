import assert from "node:assert/strict";
import type { ComputeHost, HostFencing, Incident } from "../../../../src/api/v1alpha1/index.js";
import { planHostFencingStatus } from "../../../../src/controllers/host-fencing/plan-host-fencing-status.js";
import { incidentAwaitingPowerOn } from "../../../../src/controllers/host-fencing/unfence-hosts.js";

const NOW = new Date("2026-11-22T08:00:00Z");
const host = (name: string): ComputeHost => ({ apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "ComputeHost", metadata: { name }, spec: { cloudRef: { name: "lab" }, serviceHost: name.replace("lab.", "") } });
const HF: HostFencing = {
  apiVersion: "ha.vmkeeper.dev/v1alpha1",
  kind: "HostFencing",
  metadata: { name: "rack-a", generation: 3 },
  spec: {
    cloudRef: { name: "lab" },
    hostSelector: { nameGlobs: ["lab.*"] },
    levels: [
      { name: "bmc", devices: [{ name: "ipmi", kind: "IPMI", ipmi: { address: "10.0.0.1", credentialsSecretRef: { name: "s" } } }] },
      { name: "test", devices: [{ name: "noop", kind: "Noop", noop: {} }] },
    ],
  },
};
const dev = (level: string, device: string, reachable: boolean, lastError?: string) => ({ level, device, reachable, powerState: reachable ? ("On" as const) : ("Unknown" as const), lastCheckTime: NOW.toISOString(), ...(lastError ? { lastError } : {}) });
const incident = (name: string, hostName: string, detectedAt: string, phase: string, fencing: Record<string, unknown>): Incident =>
  ({ metadata: { name }, spec: { hostRef: { name: hostName }, cloudRef: { name: "lab" }, detectedAt, epoch: 1, trigger: "HostFailure" }, status: { phase, fencing } }) as unknown as Incident;

describe("planHostFencingStatus", () => {
  it("reports selected, conflicting and unfenceable hosts with conditions", () => {
    const status = planHostFencingStatus({
      hf: HF,
      selected: [host("lab.compute-2"), host("lab.compute-1"), host("lab.compute-3")],
      conflicts: new Map([["lab.compute-3", ["rack-b"]]]),
      probes: new Map([
        ["lab.compute-1", [dev("bmc", "ipmi", true), dev("test", "noop", true)]],
        ["lab.compute-2", [dev("bmc", "ipmi", false, "Unreachable: no answer"), dev("test", "noop", false)]],
        ["lab.compute-3", [dev("bmc", "ipmi", true), dev("test", "noop", true)]],
      ]),
      incidents: [incident("lab.compute-1-1", "lab.compute-1", "2026-11-22T07:00:00Z", "Recovered", { hostFencingRef: { name: "rack-a" }, attempts: 1, powerReadBackOff: true, level: "bmc" })],
      now: NOW,
    });
    assert.deepEqual(status.hosts?.map((h) => h.name), ["lab.compute-1", "lab.compute-2", "lab.compute-3"]);
    assert.equal(status.selectedHostCount, 3);
    assert.equal(status.unfenceableHostCount, 2);
    const cond = (t: string) => status.conditions?.find((c) => c.type === t);
    assert.equal(cond("DevicesReady")?.status, "False");
    assert.match(cond("DevicesReady")?.message ?? "", /lab.compute-2 \(bmc\/ipmi: Unreachable: no answer, test\/noop: unreachable\)/);
    assert.match(cond("DevicesReady")?.message ?? "", /lab.compute-3 \(selected by another HostFencing\)/);
    assert.equal(cond("Conflict")?.status, "True");
    assert.equal(cond("TestDevice")?.status, "True");
    assert.equal(cond("HostsSelected")?.observedGeneration, 3);
    assert.deepEqual(status.hosts?.[0]?.lastFencing, { incidentRef: { name: "lab.compute-1-1" }, result: "Succeeded", level: "bmc", message: "power read back Off (level bmc)" });
  });

  it("keeps the last probe of a host when this pass did not probe", () => {
    const first = planHostFencingStatus({ hf: HF, selected: [host("lab.compute-1")], conflicts: new Map(), probes: new Map([["lab.compute-1", [dev("bmc", "ipmi", true)]]]), incidents: [], now: NOW });
    const second = planHostFencingStatus({ hf: { ...HF, status: first }, selected: [host("lab.compute-1")], conflicts: new Map(), probes: new Map(), incidents: [], now: NOW });
    assert.deepEqual(second.hosts, first.hosts);
    assert.equal(second.conditions?.find((c) => c.type === "DevicesReady")?.status, "True");
  });
});

describe("incidentAwaitingPowerOn", () => {
  const fenced = { hostFencingRef: { name: "rack-a" }, attempts: 1, powerReadBackOff: true, level: "bmc" };
  it("picks the newest Recovered incident that fenced the host and is not powered on yet", () => {
    const a = incident("i-1", "lab.compute-1", "2026-11-22T07:00:00Z", "Recovered", fenced);
    assert.equal(incidentAwaitingPowerOn("lab.compute-1", "rack-a", [a])?.metadata?.name, "i-1");
    assert.equal(incidentAwaitingPowerOn("lab.compute-1", "rack-b", [a]), undefined);
    const poweredOn = incident("i-1", "lab.compute-1", "2026-11-22T07:00:00Z", "Recovered", { ...fenced, unfence: { poweredOnAt: NOW.toISOString() } });
    assert.equal(incidentAwaitingPowerOn("lab.compute-1", "rack-a", [poweredOn]), undefined);
  });

  it("never powers on while the host's incident is still recovering or a newer one is open (F20)", () => {
    const evacuating = incident("i-1", "lab.compute-1", "2026-11-22T07:00:00Z", "Evacuating", fenced);
    assert.equal(incidentAwaitingPowerOn("lab.compute-1", "rack-a", [evacuating]), undefined);
    const old = incident("i-1", "lab.compute-1", "2026-11-22T07:00:00Z", "Recovered", fenced);
    const newer = incident("i-2", "lab.compute-1", "2026-11-22T07:30:00Z", "Confirmed", {});
    assert.equal(incidentAwaitingPowerOn("lab.compute-1", "rack-a", [old, newer]), undefined);
  });
});
