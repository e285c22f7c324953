import assert from "node:assert/strict";
import { chooseReservedHost } from "../../../../src/recovery/workflow/choose-reserved-host.js";
import type { ReservedHostState } from "../../../../src/recovery/workflow/workflow-model.js";

const spare = (name: string, over: Partial<ReservedHostState> = {}): ReservedHostState => ({
  name,
  serviceHost: name.replace(/^lab\./, ""),
  serviceId: `svc-${name}`,
  up: true,
  forcedDown: false,
  disabled: true,
  maintenance: false,
  ...over,
});

describe("chooseReservedHost", () => {
  it("enables a disabled spare, in the order the policy lists them", () => {
    const c = chooseReservedHost(["lab.b", "lab.a"], [spare("lab.a"), spare("lab.b")], [], "compute-1");
    assert.deepEqual(c.kind !== "none" ? [c.kind, c.host.name] : c, ["enable", "lab.b"]);
  });

  it("prefers a host this incident chose before, then one already enabled, over a disabled spare", () => {
    const world = [spare("lab.a"), spare("lab.b", { disabled: false }), spare("lab.c", { disabled: false })];
    const fresh = chooseReservedHost(["lab.a", "lab.b", "lab.c"], world, [], "compute-1");
    assert.deepEqual(fresh.kind !== "none" && [fresh.kind, fresh.host.name], ["use", "lab.b"]);
    const sticky = chooseReservedHost(["lab.a", "lab.b", "lab.c"], world, [{ name: "lab.c" }], "compute-1");
    assert.deepEqual(sticky.kind !== "none" && [sticky.kind, sticky.host.name], ["use", "lab.c"]);
  });

  it("says why no reserved host is usable", () => {
    const world = [
      spare("lab.down", { up: false }),
      spare("lab.forced", { forcedDown: true }),
      spare("lab.maint", { maintenance: true }),
      spare("lab.fenced", { disabledReason: "vmkeeper: host failure, incident lab.fenced-2" }),
      spare("lab.full", { disabled: false }),
      spare("lab.compute-1"),
      { name: "lab.noservice", serviceHost: "noservice", up: false, forcedDown: false, disabled: false, maintenance: false },
    ];
    const names = [...world.map((h) => h.name), "lab.missing"];
    const c = chooseReservedHost(names, [...world, { name: "lab.missing", up: false, forcedDown: false, disabled: false, maintenance: false }], [{ name: "lab.full", full: true }], "compute-1");
    assert.equal(c.kind, "none");
    assert.equal(
      c.kind === "none" && c.reason,
      "lab.down: nova-compute is down; lab.forced: forced down; lab.maint: in maintenance; lab.fenced: disabled by vmkeeper after a failure of its own; lab.full: found full by an earlier evacuation (NoValidHost); lab.compute-1: it is the failed host; lab.noservice: no nova-compute service in Nova; lab.missing: no such ComputeHost",
    );
    assert.deepEqual(chooseReservedHost([], [], [], "compute-1"), { kind: "none", reason: "the policy names no reserved host" });
  });

  it("enables a spare disabled by a person for the spare pool (any reason that is not vmkeeper's failure marker)", () => {
    const c = chooseReservedHost(["lab.a"], [spare("lab.a", { disabledReason: "reserved for HA" })], [], "compute-1");
    assert.equal(c.kind, "enable");
  });
});
