import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { loadCrdCatalog } from "../../../src/api/v1alpha1/crd-schemas.js";
import { ManifestValidator, objectLabel } from "../../../src/validate/manifest-validator.js";
import { invalidFixtures, sampleFiles } from "./fixtures.js";

describe("ManifestValidator", () => {
  const validator = new ManifestValidator(loadCrdCatalog());
  const errorsOf = (text: string): string[] => validator.validateText(text, "t.yaml").flatMap((r) => r.errors.map((e) => `${e.path}: ${e.message}`));

  describe("samples", () => {
    for (const file of sampleFiles()) {
      it(`accepts config/samples/${basename(file)}`, () => {
        const reports = validator.validateText(readFileSync(file, "utf8"), file);
        assert.ok(reports.some((r) => r.status === "valid"), "at least one vmkeeper object");
        for (const r of reports) assert.notEqual(r.status, "invalid", `${objectLabel(r)}: ${JSON.stringify(r.errors)}`);
      });
    }
  });

  describe("invalid fixtures", () => {
    for (const fx of invalidFixtures()) {
      it(`rejects ${fx.file} naming ${fx.expectValidate}`, () => {
        const reports = validator.validateText(fx.text, fx.file);
        assert.equal(reports.length, 1, "one object per fixture");
        const [r] = reports;
        assert.equal(r?.status, "invalid");
        const lines = errorsOf(fx.text);
        assert.ok(lines.some((l) => l.includes(fx.expectValidate)), `expected ${JSON.stringify(fx.expectValidate)} in:\n${lines.join("\n")}`);
        assert.equal(lines.length, 1, `a fixture breaks exactly one rule, got:\n${lines.join("\n")}`);
      });
    }
  });

  const osc = (spec: string, name = "c1"): string => `apiVersion: ha.vmkeeper.dev/v1alpha1\nkind: OpenStackCloud\nmetadata: {name: ${name}}\nspec: ${spec}\n`;

  it("applies defaults before CEL rules, like the API server", () => {
    // insecureSkipTLSVerify defaults to false, so the rule can read it without has().
    assert.deepEqual(errorsOf(osc("{secretRef: {name: s}, cloudName: c, caBundleSecretRef: {name: ca}}")), []);
  });

  it("reports unknown fields, bad names and type errors with paths", () => {
    assert.match(errorsOf(osc("{secretRef: {name: s, extra: 1}, cloudName: c}")).join("\n"), /spec\.secretRef\.extra: field not declared in schema/);
    assert.match(errorsOf(osc("{secretRef: {name: s}, cloudName: c}", "Bad_Name")).join("\n"), /metadata\.name: Invalid value: "Bad_Name"/);
    assert.match(errorsOf(osc("{secretRef: {name: s}, cloudName: c, requestTimeoutSeconds: fast}")).join("\n"), /spec\.requestTimeoutSeconds: Invalid value: "fast": must be of type integer/);
  });

  it("checks list-type map keys for duplicates", () => {
    const text = `apiVersion: ha.vmkeeper.dev/v1alpha1\nkind: ServerGroupMessaging\nmetadata: {name: g}\nspec:\n  cloudRef: {name: c}\n  serverGroup: {name: g}\n  notifications: {states: [Active, Active]}\n`;
    assert.match(errorsOf(text).join("\n"), /spec\.notifications\.states\[1\]: Duplicate value/);
  });

  it("skips other kinds with a note and reads List items", () => {
    const list = { apiVersion: "v1", kind: "List", items: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }, { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "OpenStackCloud", metadata: { name: "c1" }, spec: { cloudName: "c" } }] };
    const reports = validator.validateText(JSON.stringify(list), "list.json");
    assert.deepEqual(reports.map((r) => [r.itemIndex, r.status]), [[0, "skipped"], [1, "invalid"]]);
    assert.match(reports[0]?.notes[0] ?? "", /not a vmkeeper kind/);
    assert.deepEqual(reports[1]?.errors.map((e) => e.path), ["spec.secretRef"]);
  });

  it("rejects unknown kinds and versions of the vmkeeper group, and unparsable YAML", () => {
    assert.match(errorsOf("apiVersion: ha.vmkeeper.dev/v1alpha1\nkind: Cloud\nmetadata: {name: x}\n").join(), /^kind: Unsupported value/);
    assert.match(errorsOf("apiVersion: ha.vmkeeper.dev/v1\nkind: OpenStackCloud\nmetadata: {name: x}\n").join(), /^apiVersion: Unsupported value/);
    assert.match(errorsOf("a: [1\n").join(), /cannot parse YAML/);
  });

  it("ignores status and skips transition rules offline", () => {
    const text = "apiVersion: ha.vmkeeper.dev/v1alpha1\nkind: ComputeHost\nmetadata: {name: h1}\nspec: {cloudRef: {name: c}, serviceHost: h1}\nstatus: {instanceCount: -1}\n";
    const [r] = validator.validateText(text, "t.yaml");
    assert.equal(r?.status, "valid");
    assert.match(r?.notes.join() ?? "", /status is ignored/);
  });
});
