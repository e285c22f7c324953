import assert from "node:assert/strict";
import type { ComputeHost, HostFencing } from "../../../src/api/v1alpha1/index.js";
import { hostFencingsFor, hostSelected } from "../../../src/fencing/select-fenced-hosts.js";

const host = (name: string, labels: Record<string, string> = {}, aggregates: string[] = [], cloud = "lab"): ComputeHost =>
  ({ apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "ComputeHost", metadata: { name, labels }, spec: { cloudRef: { name: cloud }, serviceHost: name.split(".")[1] ?? name }, status: { aggregates } });
const hf = (name: string, hostSelector: HostFencing["spec"]["hostSelector"], cloud = "lab"): HostFencing => ({ apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "HostFencing", metadata: { name }, spec: { cloudRef: { name: cloud }, hostSelector, levels: [] } });

describe("HostFencing host selection", () => {
  it("ANDs criteria and ORs values; an empty selector selects nothing", () => {
    const h = host("lab.compute-1", { rack: "a", tier: "gold" }, ["ssd"]);
    assert.equal(hostSelected({ nameGlobs: ["lab.compute-*"], matchLabels: { rack: "a" } }, h), true);
    assert.equal(hostSelected({ nameGlobs: ["lab.compute-*"], matchLabels: { rack: "b" } }, h), false);
    assert.equal(hostSelected({ names: ["lab.compute-2", "lab.compute-1"] }, h), true);
    assert.equal(hostSelected({ aggregates: ["hdd", "ssd"] }, h), true);
    assert.equal(hostSelected({ matchExpressions: [{ key: "tier", operator: "In", values: ["gold"] }, { key: "maintenance", operator: "DoesNotExist" }] }, h), true);
    assert.equal(hostSelected({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["gold"] }] }, h), false);
    assert.equal(hostSelected({ matchExpressions: [{ key: "rack", operator: "Exists" }] }, h), true);
    assert.equal(hostSelected({}, h), false);
  });

  it("finds every HostFencing of the host's cloud that selects it (two = conflict)", () => {
    const h = host("lab.compute-1");
    const all = [hf("b-rack", { nameGlobs: ["lab.*"] }), hf("a-one", { names: ["lab.compute-1"] }), hf("other-cloud", { nameGlobs: ["*"] }, "prod"), hf("none", { names: ["lab.compute-9"] })];
    assert.deepEqual(hostFencingsFor(h, all).map((x) => x.metadata?.name), ["a-one", "b-rack"]);
  });
});
