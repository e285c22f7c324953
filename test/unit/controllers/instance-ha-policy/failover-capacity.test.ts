import assert from "node:assert/strict";
import fc from "fast-check";
import type { ComputeHost } from "../../../../src/api/v1alpha1/index.js";
import { computeFailoverCapacity, demandOf, isTarget } from "../../../../src/controllers/instance-ha-policy/failover-capacity.js";
import type { Instance } from "../../../../src/controllers/instance-ha-policy/instance-inventory.js";

function host(name: string, freeRamMiB: number, over: Partial<NonNullable<ComputeHost["status"]>> = {}): ComputeHost {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "ComputeHost",
    metadata: { name: `lab.${name}` },
    spec: { cloudRef: { name: "lab" }, serviceHost: name },
    status: {
      nova: { state: "Up", status: "Enabled", forcedDown: false },
      capacity: { vcpus: { used: 0, total: 1000 }, memoryMiB: { used: 0, total: freeRamMiB }, diskGiB: { used: 0, total: 100000 } },
      ...over,
    },
  };
}

function vm(id: string, hostName: string, ramMiB: number, over: Partial<Instance> = {}): Instance {
  return {
    id,
    name: id,
    projectId: "p",
    host: hostName,
    status: "ACTIVE",
    vmState: "active",
    flavor: { vcpus: 1, ramMiB, diskGiB: 10 },
    imageId: "",
    volumeBacked: true,
    localRootDisk: false,
    tags: [],
    metadata: {},
    serverGroups: [],
    ...over,
  };
}

describe("failover capacity", () => {
  it("counts the root disk only when it is local, plus ephemeral and swap", () => {
    assert.deepEqual(demandOf(vm("a", "h", 1024, { flavor: { vcpus: 2, ramMiB: 1024, diskGiB: 20, ephemeralGiB: 5, swapMiB: 1536 } })), { vcpu: 2, memory: 1024, disk: 7 });
    assert.deepEqual(demandOf(vm("a", "h", 1024, { localRootDisk: true, imageId: "img", flavor: { vcpus: 2, ramMiB: 1024, diskGiB: 20 } })), { vcpu: 2, memory: 1024, disk: 20 });
    assert.equal(demandOf(vm("a", "h", 1024, { flavor: { name: "gone" } })), undefined);
  });

  it("reports a scope with no capacity figures as unknown, never as a number", () => {
    const h = host("c1", 4096);
    delete h.status?.capacity;
    const r = computeFailoverCapacity([vm("a", "c2", 512)], [h, host("c2", 4096)], { cloudName: "lab" });
    assert.equal(r.hostFailuresTolerated, undefined);
    assert.match(r.scopes[0]?.unknown ?? "", /no capacity figures for 1 target host\(s\) \(c1\)/);
  });

  it("counts instances on hosts that are not ComputeHosts of the cloud as unplaced", () => {
    const r = computeFailoverCapacity([vm("a", "elsewhere", 512)], [host("c1", 4096)], { cloudName: "lab" });
    assert.equal(r.unplacedInstances, 1);
    assert.deepEqual(r.scopes, []);
  });

  it("does not count maintenance, down or Failed hosts as targets", () => {
    assert.ok(isTarget(host("a", 1), false));
    assert.ok(!isTarget({ ...host("a", 1), spec: { cloudRef: { name: "lab" }, serviceHost: "a", maintenance: { enabled: true } } }, false));
    assert.ok(!isTarget(host("a", 1, { nova: { state: "Down", status: "Enabled" } }), false));
    assert.ok(!isTarget(host("a", 1, { nova: { state: "Up", status: "Disabled" } }), false));
    assert.ok(isTarget(host("a", 1, { nova: { state: "Up", status: "Disabled" } }), true), "a reserved host is disabled on purpose");
    assert.ok(!isTarget(host("a", 1, { health: { state: "Failed" } }), true));
  });

  it("never reports more tolerated failures than hosts carrying protected instances, nor fewer after capacity is added (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 16384 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(5), fc.integer({ min: 256, max: 8192 })), { maxLength: 12 }),
        fc.nat(5),
        (free, placements, grow) => {
          const hosts = free.map((f, i) => host(`h${i}`, f));
          const vms = placements.map(([h, ram], i) => vm(`v${String(i).padStart(2, "0")}`, `h${h % free.length}`, ram));
          const r = computeFailoverCapacity(vms, hosts, { cloudName: "lab" });
          const cloud = r.scopes.find((s) => s.scope === "Cloud");
          if (vms.length === 0) return cloud === undefined;
          const carrying = new Set(vms.map((v) => v.host)).size;
          assert.ok(cloud?.hostFailuresTolerated !== undefined && cloud.hostFailuresTolerated <= carrying);
          // More free RAM on every host never lowers the count (the worst-case order is by demand, not by free space).
          const bigger = computeFailoverCapacity(vms, free.map((f, i) => host(`h${i}`, f + grow * 1024)), { cloudName: "lab" });
          const cloud2 = bigger.scopes.find((s) => s.scope === "Cloud");
          return (cloud2?.hostFailuresTolerated ?? 0) >= cloud.hostFailuresTolerated || grow === 0;
        },
      ),
      { numRuns: 300 },
    );
  });
});
