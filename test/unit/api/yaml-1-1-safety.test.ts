import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../../support/test-assets.js";

/**
 * kubectl and the API server read YAML as YAML 1.1 (sigs.k8s.io/yaml), where an unquoted
 * On, Off, Yes, No, y or n is a boolean; our own tools read YAML 1.2, where it is a string.
 * A CRD enum written `[On, Off]` therefore became `["true", "false"]` in the cluster and every
 * status write naming a power state was refused with 422, while `vmkeeper validate` saw
 * nothing wrong. Every manifest we ship must read the same under both.
 */
const FOLDERS = ["crds", "config/samples", "test/fixtures/invalid", "deploy", "guest/deploy"];

function manifests(dir: string): string[] {
  const root = join(REPO_ROOT, dir);
  let entries: string[];
  try {
    entries = readdirSync(root, { recursive: true, encoding: "utf8" });
  } catch {
    return [];
  }
  return entries.filter((f) => /\.ya?ml$/.test(f)).map((f) => join(root, f));
}

describe("manifests read the same as YAML 1.1 (kubectl, kube-apiserver) and YAML 1.2 (vmkeeper validate)", () => {
  const files = FOLDERS.flatMap(manifests);

  it("finds the CRDs and samples", () => {
    assert.ok(files.some((f) => f.includes("/crds/")), "no CRDs found");
    assert.ok(files.some((f) => f.includes("/config/samples/")), "no samples found");
  });

  for (const file of files) {
    it(file.slice(REPO_ROOT.length), () => {
      const text = readFileSync(file, "utf8");
      const as12 = parseAllDocuments(text).map((d) => d.toJS() as unknown);
      const as11 = parseAllDocuments(text, { version: "1.1" }).map((d) => d.toJS() as unknown);
      assert.deepStrictEqual(as11, as12, "a value changes meaning under YAML 1.1: quote On/Off/Yes/No/y/n");
    });
  }
});
