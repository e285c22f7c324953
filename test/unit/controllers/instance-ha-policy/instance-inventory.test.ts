import assert from "node:assert/strict";
import { readInstanceInventory, toInstanceInventory, type InstanceInventoryNova } from "../../../../src/controllers/instance-ha-policy/instance-inventory.js";
import type { Flavor, Server, ServerGroup } from "../../../../src/openstack/nova-types.js";

const flavor = (id: string, name: string, vcpus: number, ramMb: number, diskGb: number): Flavor => ({ id, name, vcpus, ramMb, diskGb, ephemeralGb: 0, swapMb: 0, isPublic: true });

function server(over: Partial<Server>): Server {
  return { id: "s", name: "vm", status: "ACTIVE", taskState: null, projectId: "p-1", metadata: {}, tags: [], flavor: {}, ...over };
}

describe("instance inventory", () => {
  it("maps Nova servers to instances: flavor, disk kind, groups, projects, placement", () => {
    const servers: Server[] = [
      server({ id: "b", name: "vol", host: "c1", availabilityZone: "az-1", vmState: "active", imageId: "", volumesAttached: ["v1"], flavor: { originalName: "m1.small", vcpus: 1, ramMb: 2048, diskGb: 20 }, tags: ["z", "a"], metadata: { ha: "true" } }),
      server({ id: "a", name: "img", host: "c2", status: "SHUTOFF", imageId: "img-1", flavor: { id: "3" } }),
      server({ id: "c", name: "unknown-image", status: "BUILD", host: null, flavor: { originalName: "gone" } }),
    ];
    const groups: ServerGroup[] = [
      { id: "g1", name: "db", policy: "anti-affinity", rules: {}, members: ["a", "b"] },
      { id: "g2", name: "web", policy: "affinity", rules: {}, members: ["b"] },
    ];
    const inv = toInstanceInventory(servers, groups, [flavor("2", "m1.small", 1, 2048, 20), flavor("3", "m1.medium", 2, 4096, 40)], [{ id: "p-1", name: "payments", domain: "Default" }]);
    assert.equal(inv.projectNamesKnown, true);
    assert.deepEqual(inv.instances.map((i) => i.id), ["a", "b", "c"]);
    const [a, b, c] = inv.instances;
    assert.deepEqual(b, {
      id: "b",
      name: "vol",
      projectId: "p-1",
      projectName: "payments",
      projectDomain: "Default",
      host: "c1",
      status: "ACTIVE",
      vmState: "active",
      flavor: { id: "2", name: "m1.small", vcpus: 1, ramMiB: 2048, diskGiB: 20, ephemeralGiB: 0, swapMiB: 0 },
      imageId: "",
      volumeBacked: true,
      localRootDisk: false,
      tags: ["a", "z"],
      metadata: { ha: "true" },
      serverGroups: [
        { id: "g1", name: "db" },
        { id: "g2", name: "web" },
      ],
      availabilityZone: "az-1",
    });
    assert.equal(a?.vmState, "stopped", "vm_state derived from the status when not reported");
    assert.deepEqual(a?.flavor, { id: "3", name: "m1.medium", vcpus: 2, ramMiB: 4096, diskGiB: 40, ephemeralGiB: 0, swapMiB: 0 }, "below 2.47: sizes from the flavor list");
    assert.equal(a?.localRootDisk, true);
    assert.equal(c?.host, undefined);
    assert.equal(c?.localRootDisk, true, "no image field: storage not known to be a volume counts as local");
    assert.deepEqual(c?.flavor, { name: "gone" }, "a deleted flavor leaves the sizes unknown");
  });

  it("reads all projects' servers, groups and flavors; project names only when a project list is provided", async () => {
    const calls: string[] = [];
    const nova: InstanceInventoryNova = {
      listServers: async (filter) => {
        calls.push(`servers allProjects=${String(filter?.allProjects)}`);
        return [server({ id: "x", serverGroups: ["g9"] })];
      },
      listServerGroups: async (filter) => {
        calls.push(`groups allProjects=${String(filter?.allProjects)}`);
        return [];
      },
      listFlavors: async () => {
        calls.push("flavors");
        return [];
      },
    };
    const inv = await readInstanceInventory(nova);
    assert.deepEqual(calls.sort(), ["flavors", "groups allProjects=true", "servers allProjects=true"]);
    assert.equal(inv.projectNamesKnown, false);
    assert.deepEqual(inv.instances[0]?.serverGroups, [{ id: "g9", name: "" }], "2.71+ server_groups without a listed group keep the id");
    const named = await readInstanceInventory({ ...nova, listProjects: async () => [{ id: "p-1", name: "payments" }] });
    assert.equal(named.projectNamesKnown, true);
    assert.equal(named.instances[0]?.projectName, "payments");
  });
});
