import assert from "node:assert/strict";
import type { InstanceHAPolicy } from "../../../../src/api/v1alpha1/index.js";
import { hostReenableMode } from "../../../../src/controllers/incident/host-reenable-mode.js";

const policy = (hostReenable?: "Manual" | "Automatic"): InstanceHAPolicy => ({
  apiVersion: "ha.vmkeeper.dev/v1alpha1",
  kind: "InstanceHAPolicy",
  metadata: { name: "p" },
  spec: { cloudRef: { name: "lab" }, selector: { allInstances: true }, ...(hostReenable ? { recovery: { hostReenable } } : {}) },
});

describe("hostReenableMode", () => {
  it("is Automatic only if every KeepRunning policy involved says so", () => {
    assert.equal(hostReenableMode([policy("Automatic"), policy("Automatic")]), "Automatic");
    assert.equal(hostReenableMode([policy("Automatic"), policy("Manual")]), "Manual");
    assert.equal(hostReenableMode([policy("Automatic"), policy()]), "Manual", "the default is Manual");
    assert.equal(hostReenableMode([]), "Manual", "no policy involved: a person decides");
  });
});
