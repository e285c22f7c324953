import assert from "node:assert/strict";
import { join } from "node:path";
import { formatWhatIf } from "../../../src/cli/view/format-what-if.js";
import { PLAIN } from "../../../src/cli/view/style.js";
import { placeInstance } from "../../../src/what-if/placement.js";
import { whatIf } from "../../../src/what-if/what-if.js";
import { assertGolden, sourceDir } from "../../support/golden.js";
import { world, type WorldSpec } from "./world-fixture.js";

const GOLDEN = join(sourceDir(import.meta.url), "golden");

const FOUR_HOSTS = [{ name: "compute-1" }, { name: "compute-2" }, { name: "compute-3" }, { name: "compute-4" }];

/** Golden scenarios: each is a world, the hosts that fail, and the report as printed. */
const SCENARIOS: Record<string, WorldSpec> = {
  "tiers-and-batches": {
    hosts: FOUR_HOSTS,
    vms: [
      { name: "web-1", host: "compute-1", ramMb: 2048 },
      { name: "db-1", host: "compute-1", ramMb: 4096, tier: "databases", priority: 100 },
      { name: "web-2", host: "compute-1", ramMb: 2048 },
      { name: "web-3", host: "compute-1", ramMb: 2048 },
      { name: "other", host: "compute-2", ramMb: 8192 },
    ],
    settings: { maxConcurrentEvacuations: 2 },
    failing: ["compute-1"],
  },
  "does-not-fit": {
    hosts: [{ name: "compute-1", memoryMb: 32_768 }, { name: "compute-2" }, { name: "compute-3" }],
    vms: [
      { name: "huge", host: "compute-1", ramMb: 16_000 },
      { name: "small", host: "compute-1", ramMb: 1024 },
    ],
    failing: ["compute-1"],
  },
  "reserved-host-full-then-scheduler": {
    hosts: [{ name: "compute-1" }, { name: "compute-2" }, { name: "spare", memoryMb: 4096, disabled: "spare capacity" }],
    vms: [
      { name: "a", host: "compute-1", ramMb: 2048, methods: ["ReservedHost", "Evacuate"], reservedHosts: ["lab.spare"] },
      { name: "b", host: "compute-1", ramMb: 2048, methods: ["ReservedHost", "Evacuate"], reservedHosts: ["lab.spare"] },
    ],
    failing: ["compute-1"],
  },
  "anti-affinity": {
    hosts: [{ name: "compute-1" }, { name: "compute-2" }, { name: "compute-3" }],
    vms: [
      { name: "peer-1", host: "compute-1", ramMb: 1024, group: "pair" },
      { name: "peer-2", host: "compute-2", ramMb: 1024, group: "pair" },
      { name: "peer-3", host: "compute-3", ramMb: 1024, group: "pair" },
    ],
    groups: { pair: "anti-affinity" },
    failing: ["compute-1"],
  },
  "paused-policy": { hosts: FOUR_HOSTS, vms: [{ name: "vm", host: "compute-1", ramMb: 1024 }], policy: { paused: true }, failing: ["compute-1"] },
  "maintenance": { hosts: [{ name: "compute-1", maintenance: true }, { name: "compute-2" }], vms: [{ name: "vm", host: "compute-1", ramMb: 1024 }], failing: ["compute-1"] },
  "two-of-four-at-once": {
    hosts: FOUR_HOSTS,
    vms: [
      { name: "vm-1", host: "compute-1", ramMb: 1024 },
      { name: "vm-2", host: "compute-2", ramMb: 1024 },
    ],
    failing: ["compute-1", "compute-2"],
  },
  "fencing-not-ready": { hosts: FOUR_HOSTS, vms: [{ name: "vm", host: "compute-1", ramMb: 1024 }], fencing: "notReady", failing: ["compute-1"] },
  "no-fencing-and-no-unsafe-skip": { hosts: FOUR_HOSTS, vms: [{ name: "vm", host: "compute-1", ramMb: 1024 }], settings: { unsafeSkipPowerFencing: false }, failing: ["compute-1"] },
  "fenced-by-ready-level": { hosts: FOUR_HOSTS, vms: [{ name: "vm", host: "compute-1", ramMb: 1024 }], fencing: "ready", settings: { unsafeSkipPowerFencing: false }, failing: ["compute-1"] },
};

describe("what-if (golden scenarios)", () => {
  for (const [name, spec] of Object.entries(SCENARIOS)) {
    it(name, () => {
      const report = whatIf(world(spec), spec.failing.map((h) => `lab.${h}`));
      assertGolden(join(GOLDEN, `${name}.yaml`), { printed: formatWhatIf(report, PLAIN), log: report.hosts.flatMap((h) => h.log) });
    });
  }
});

describe("what-if decisions", () => {
  it("evacuates the higher tier first and in batches no larger than maxConcurrentEvacuations", () => {
    const spec = SCENARIOS["tiers-and-batches"];
    assert.ok(spec);
    const [h] = whatIf(world(spec), ["lab.compute-1"]).hosts;
    assert.deepEqual(h?.evacuations.map((e) => [e.name, e.batch]), [["db-1", 1], ["web-1", 2], ["web-2", 2], ["web-3", 3]]);
    assert.deepEqual(h?.outcomes.map((o) => o.state), ["Recovered", "Recovered", "Recovered", "Recovered"]);
  });

  it("reports the instance that does not fit as Failed with NoValidHost and still moves the others", () => {
    const spec = SCENARIOS["does-not-fit"];
    assert.ok(spec);
    const [h] = whatIf(world(spec), ["lab.compute-1"]).hosts;
    assert.deepEqual(h?.outcomes.map((o) => [o.name, o.state]), [["huge", "Failed"], ["small", "Recovered"]]);
    assert.match(h?.outcomes[0]?.message ?? "", /No valid host/);
  });

  it("enables the reserved host, fills it, then falls back to the scheduler", () => {
    const spec = SCENARIOS["reserved-host-full-then-scheduler"];
    assert.ok(spec);
    const [h] = whatIf(world(spec), ["lab.compute-1"]).hosts;
    assert.deepEqual(h?.evacuations.map((e) => [e.name, e.method, e.target, e.outcome]), [["a", "ReservedHost", "spare", "placed"], ["b", "ReservedHost", "spare", "noValidHost"], ["b", "Evacuate", "compute-2", "placed"]]);
    assert.deepEqual(h?.outcomes.map((o) => o.state), ["Recovered", "Recovered"]);
  });

  it("names the gate that holds the recovery back and moves nothing", () => {
    for (const [name, gate] of [["paused-policy", "Paused"], ["two-of-four-at-once", "HeartbeatCliff"]] as const) {
      const spec = SCENARIOS[name];
      assert.ok(spec);
      const report = whatIf(world(spec), spec.failing.map((f) => `lab.${f}`));
      for (const h of report.hosts) {
        assert.equal(h.verdict.kind === "suppressed" ? h.verdict.gate.gate : h.verdict.kind, gate, `${name} ${h.host}`);
        assert.deepEqual(h.evacuations, []);
      }
      assert.ok(report.closedGates.some((g) => g.gate === gate));
    }
  });

  it("stops at fencing when no level is ready, and when nothing fences without the unsafe skip", () => {
    for (const name of ["fencing-not-ready", "no-fencing-and-no-unsafe-skip"]) {
      const spec = SCENARIOS[name];
      assert.ok(spec);
      const [h] = whatIf(world(spec), ["lab.compute-1"]).hosts;
      assert.match(h?.blocked ?? "", /fencing would fail/, name);
      assert.deepEqual(h?.evacuations, []);
    }
  });

  it("throws on a host that is not in the world", () => {
    assert.throws(() => whatIf(world({ hosts: FOUR_HOSTS, vms: [], failing: [] }), ["lab.nope"]), /no ComputeHost lab\.nope/);
  });
});

describe("placeInstance", () => {
  const host = (serviceHost: string, memory: number, schedulable = true) => ({ serviceHost, schedulable, free: { vcpu: 8, memory, disk: 100 } });
  const need = { vcpu: 1, memory: 1024, disk: 0 };

  it("spreads by most free RAM, ties by name, and skips failed, disabled and full hosts", () => {
    assert.deepEqual(placeInstance([host("b", 4096), host("a", 4096), host("c", 8192, false)], { need, exclude: new Set(), groups: [] }), { ok: true, host: "a" });
    assert.deepEqual(placeInstance([host("a", 4096), host("b", 512)], { need, exclude: new Set(["a"]), groups: [] }), { ok: false, reason: "no valid host: 1 failed, 1 short of MiB RAM" });
  });

  it("honours a requested host and hard affinity", () => {
    assert.deepEqual(placeInstance([host("a", 8192), host("b", 2048)], { need, exclude: new Set(), requestedHost: "b", groups: [] }), { ok: true, host: "b" });
    assert.deepEqual(placeInstance([host("a", 8192), host("b", 2048)], { need, exclude: new Set(), groups: [{ name: "g", policy: "affinity", maxServerPerHost: 1, memberHosts: ["b"] }] }), { ok: true, host: "b" });
  });
});
