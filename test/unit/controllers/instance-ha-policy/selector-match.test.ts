import assert from "node:assert/strict";
import type { InstanceHAPolicySelector } from "../../../../src/api/v1alpha1/index.js";
import type { Instance } from "../../../../src/controllers/instance-ha-policy/instance-inventory.js";
import { globMatch } from "../../../../src/controllers/instance-ha-policy/name-glob.js";
import { compareClaims } from "../../../../src/controllers/instance-ha-policy/resolve-protection.js";
import { excludedBy, selectorMatches, selectorSpecificity, tierMatches, type PlacedInstance } from "../../../../src/controllers/instance-ha-policy/selector-match.js";

function instance(over: Partial<Instance> = {}): Instance {
  return {
    id: "i-1",
    name: "web-1",
    projectId: "p-1",
    status: "ACTIVE",
    vmState: "active",
    flavor: { id: "2", name: "m1.small", vcpus: 1, ramMiB: 2048, diskGiB: 20 },
    imageId: "img-1",
    volumeBacked: false,
    localRootDisk: true,
    tags: [],
    metadata: {},
    serverGroups: [],
    ...over,
  };
}

const placed = (i: Instance, aggregates: string[] = [], az?: string): PlacedInstance => ({ instance: i, aggregates, ...(az ? { availabilityZone: az } : {}) });

describe("globMatch (shell-style name globs)", () => {
  const cases: [string, string, boolean][] = [
    ["web-*", "web-1", true],
    ["web-*", "web-", true],
    ["web-*", "app-web-1", false],
    ["*", "", true],
    ["db-?", "db-1", true],
    ["db-?", "db-10", false],
    ["db-[0-9]", "db-7", true],
    ["db-[0-9]", "db-x", false],
    ["db-[!0-9]", "db-x", true],
    ["db-[^0-9]", "db-7", false],
    ["[Ss]cratch-*", "Scratch-1", true],
    ["[Ss]cratch-*", "scratch-1", true],
    ["[Ss]cratch-*", "SCRATCH-1", false],
    ["a.b", "a.b", true],
    ["a.b", "axb", false],
    ["(x)+", "(x)+", true],
    ["a\\*", "a*", true],
    ["a\\*", "ab", false],
    ["[]]", "]", true],
    ["[a-]", "-", true],
    ["[abc", "[abc", true],
    ["x?y", "x\u00e9y", true],
    ["*-?", "gold-1", true],
    ["multi\nline", "multi\nline", true],
  ];
  for (const [glob, name, want] of cases) {
    it(`${JSON.stringify(glob)} ${want ? "matches" : "does not match"} ${JSON.stringify(name)}`, () => {
      assert.equal(globMatch(glob, name), want);
    });
  }
});

describe("selectorSpecificity", () => {
  const spec = (s: InstanceHAPolicySelector): number => selectorSpecificity(s);
  it("counts 0 for allInstances, whatever the exclusions", () => {
    assert.equal(spec({ allInstances: true, exclude: { tags: ["a"], projects: ["p"] } }), 0);
  });
  it("counts an OR-list once, however many alternatives it lists", () => {
    assert.equal(spec({ projects: [{ id: "a" }] }), 1);
    assert.equal(spec({ projects: [{ id: "a" }, { id: "b" }, { name: "c" }] }), 1);
    assert.equal(spec({ anyTags: ["a", "b", "c"] }), 1);
  });
  it("counts every tag and metadata entry, since each is a further requirement", () => {
    assert.equal(spec({ tags: ["a", "b"] }), 2);
    assert.equal(spec({ metadata: [{ key: "a" }, { key: "b", value: "1" }, { key: "c" }] }), 3);
  });
  it("adds up the criteria of a combined selector", () => {
    const all: InstanceHAPolicySelector = {
      instanceIds: ["x"],
      projects: [{ id: "p" }],
      serverGroups: [{ name: "g" }],
      tags: ["t1", "t2"],
      anyTags: ["a"],
      metadata: [{ key: "k" }],
      flavors: ["f"],
      images: ["i"],
      aggregates: ["agg"],
      availabilityZones: ["az"],
      nameGlobs: ["n*"],
      exclude: { nameGlobs: ["x*"] },
    };
    assert.equal(spec(all), 12);
  });
  it("orders claims by priority, then specificity, then namespace/name — a total order", () => {
    const c = (key: string, priority: number, specificity: number) => ({ key, priority, specificity, policy: undefined as never });
    const sorted = [c("ns/z", 0, 5), c("ns/b", 10, 1), c("ns/a", 10, 1), c("ns/c", 10, 3), c("ns/d", 0, 0)].sort(compareClaims).map((x) => x.key);
    assert.deepEqual(sorted, ["ns/c", "ns/a", "ns/b", "ns/z", "ns/d"]);
    assert.equal(compareClaims(c("ns/a", 1, 1), c("ns/a", 1, 1)), 0);
  });
});

describe("selectorMatches", () => {
  it("ANDs the criteria and ORs the values of one criterion", () => {
    const i = placed(instance({ tags: ["ha", "prod"], metadata: { tier: "1" } }), ["rack-a"], "az-1");
    assert.ok(selectorMatches({ anyTags: ["x", "ha"], aggregates: ["rack-b", "rack-a"] }, i));
    assert.ok(!selectorMatches({ anyTags: ["ha"], aggregates: ["rack-b"] }, i));
    assert.ok(selectorMatches({ tags: ["ha", "prod"], availabilityZones: ["az-1"] }, i));
    assert.ok(!selectorMatches({ tags: ["ha", "db"] }, i));
    assert.ok(selectorMatches({ metadata: [{ key: "tier" }] }, i));
    assert.ok(!selectorMatches({ metadata: [{ key: "tier", value: "2" }] }, i));
  });
  it("matches flavors and images by id or name, and never an empty image id", () => {
    const i = placed(instance({ imageName: "cirros" }));
    assert.ok(selectorMatches({ flavors: ["2"] }, i));
    assert.ok(selectorMatches({ flavors: ["m1.small"] }, i));
    assert.ok(selectorMatches({ images: ["cirros"] }, i));
    assert.ok(selectorMatches({ images: ["img-1"] }, i));
    const volume = placed(instance({ imageId: "", volumeBacked: true, localRootDisk: false }));
    assert.ok(!selectorMatches({ images: [""] }, volume));
  });
  it("matches a project name only when the names are known, checking the domain when both are known", () => {
    const unnamed = placed(instance());
    assert.ok(!selectorMatches({ projects: [{ name: "payments" }] }, unnamed));
    const named = placed(instance({ projectName: "payments", projectDomain: "Default" }));
    assert.ok(selectorMatches({ projects: [{ name: "payments" }] }, named));
    assert.ok(selectorMatches({ projects: [{ name: "payments", domain: "Default" }] }, named));
    assert.ok(!selectorMatches({ projects: [{ name: "payments", domain: "Other" }] }, named));
  });
  it("selects nothing with an empty selector (refused at admission anyway)", () => {
    assert.ok(!selectorMatches({}, placed(instance())));
    assert.ok(!selectorMatches({ allInstances: false }, placed(instance())));
  });
  it("excludes on any matching criterion and says which", () => {
    const i = placed(instance({ tags: ["no-ha"], metadata: { ha: "false" } }));
    assert.equal(excludedBy({ tags: ["x", "no-ha"] }, i), 'exclude.tags "no-ha"');
    assert.equal(excludedBy({ metadata: [{ key: "ha", value: "false" }] }, i), 'exclude.metadata "ha=false"');
    assert.equal(excludedBy({ metadata: [{ key: "ha" }] }, i), 'exclude.metadata "ha"');
    assert.equal(excludedBy({ metadata: [{ key: "ha", value: "true" }], nameGlobs: ["db-*"] }, i), undefined);
    assert.equal(excludedBy(undefined, i), undefined);
  });
  it("matches tier selectors with server groups by id or name", () => {
    const i = instance({ serverGroups: [{ id: "g-1", name: "quorum" }] });
    assert.ok(tierMatches({ serverGroups: ["quorum"] }, i));
    assert.ok(tierMatches({ serverGroups: ["g-1"] }, i));
    assert.ok(!tierMatches({ serverGroups: ["other"] }, i));
    assert.ok(!tierMatches({}, i));
  });
});
