import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { findCrdDirectory, loadCrdCatalog, type OpenApiSchema } from "../../../src/api/v1alpha1/crd-schemas.js";
import { API_VERSION, KINDS } from "../../../src/api/v1alpha1/index.js";
import { collectRules } from "../../../src/validate/cel-rules.js";
import { parseCel } from "../../../src/validate/cel-parser.js";
import { REPO_ROOT } from "../../support/test-assets.js";

// JSONSchemaProps fields the API server accepts; anything else in a CRD (for example a stray
// key produced by a comma inside a YAML flow mapping) is rejected at install time.
const SCHEMA_KEYS = new Set([
  "description", "type", "format", "title", "default", "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum",
  "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "multipleOf", "enum", "maxProperties",
  "minProperties", "required", "items", "allOf", "oneOf", "anyOf", "not", "properties", "additionalProperties", "nullable",
  "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-validations",
]);

function walk(schema: OpenApiSchema, path: string, visit: (s: OpenApiSchema, path: string) => void): void {
  visit(schema, path);
  for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, `${path}.${k}`, visit);
  if (schema.items) walk(schema.items, `${path}[]`, visit);
  if (typeof schema.additionalProperties === "object") walk(schema.additionalProperties, `${path}{}`, visit);
}

describe("CRD schemas", () => {
  const catalog = loadCrdCatalog();

  it("finds the crds/ folder from the compiled module", () => {
    assert.equal(findCrdDirectory(), join(REPO_ROOT, "crds"));
  });

  it("has one served v1alpha1 schema per kind of the generated KINDS table", () => {
    assert.deepEqual(catalog.entries.map((e) => e.kind).sort(), KINDS.map((k) => k.kind).sort());
    for (const k of KINDS) {
      const info = catalog.lookup(API_VERSION, k.kind);
      assert.ok(info, k.kind);
      assert.equal(info.plural, k.plural);
      assert.ok(info.namespaced, `${k.kind} is namespaced`);
      assert.ok(info.schema.properties?.spec, `${k.kind} has a spec`);
    }
  });

  it("uses only JSONSchemaProps keys", () => {
    for (const e of catalog.entries) {
      walk(e.schema, e.kind, (s, path) => {
        for (const key of Object.keys(s)) assert.ok(SCHEMA_KEYS.has(key), `${path}: unknown schema key ${JSON.stringify(key)}`);
        if (s.description !== undefined) assert.equal(typeof s.description, "string", `${path}: description`);
      });
    }
  });

  it("bounds every string and list of the spec (CEL cost estimates need it)", () => {
    for (const e of catalog.entries) {
      walk(e.schema.properties?.spec ?? {}, `${e.kind}.spec`, (s, path) => {
        if (s.type === "string" && s.enum === undefined && s.format === undefined) assert.ok(s.maxLength !== undefined, `${path}: string without maxLength`);
        if (s.type === "array") assert.ok(s.maxItems !== undefined, `${path}: array without maxItems`);
      });
    }
  });

  it("keeps conditions as a map list keyed by type", () => {
    for (const e of catalog.entries) {
      const c = e.schema.properties?.status?.properties?.conditions;
      assert.ok(c, `${e.kind} has status.conditions`);
      assert.equal(c["x-kubernetes-list-type"], "map");
      assert.deepEqual(c["x-kubernetes-list-map-keys"], ["type"]);
    }
  });

  it("parses every CEL rule and messageExpression with the offline evaluator's parser", () => {
    let count = 0;
    for (const e of catalog.entries) {
      for (const { schemaPath, rule } of collectRules(e.schema)) {
        assert.doesNotThrow(() => parseCel(rule.rule), `${e.kind} ${schemaPath}: ${rule.rule}`);
        if (rule.messageExpression) assert.doesNotThrow(() => parseCel(rule.messageExpression ?? ""), `${e.kind} ${schemaPath}`);
        assert.ok(rule.message ?? rule.messageExpression, `${e.kind} ${schemaPath}: rule without message`);
        count++;
      }
    }
    assert.ok(count >= 20, `expected the CRDs to carry CEL rules, found ${count}`);
  });
});

describe("generated files", () => {
  for (const script of ["hack/gen-types.mjs", "hack/gen-crd-docs.mjs"]) {
    it(`${script} --check reports no drift`, function () {
      this.timeout(30_000);
      try {
        execFileSync(process.execPath, [join(REPO_ROOT, script), "--check"], { cwd: REPO_ROOT, stdio: "pipe" });
      } catch (err: unknown) {
        const e = err as { stderr?: Buffer; stdout?: Buffer };
        assert.fail(`${script} --check failed:\n${e.stderr?.toString() ?? ""}${e.stdout?.toString() ?? ""}`);
      }
    });
  }
});
