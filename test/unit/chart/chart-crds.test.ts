import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

// The chart's CRD templates are generated from crds/ by hack/gen-chart-crds.mjs.

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const GENERATOR = join(REPO, "hack/gen-chart-crds.mjs");
const run = promisify(execFile);

async function generator(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [GENERATOR, ...args], { cwd: REPO });
    return { code: 0, stderr };
  } catch (err: unknown) {
    const e = err as { code?: unknown; stderr?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stderr: e.stderr ?? "" };
  }
}

const SAMPLE_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.dev
  labels:
    app.kubernetes.io/part-of: vmkeeper
    app.kubernetes.io/managed-by: kubectl
spec:
  group: example.dev
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          description: "Renders {{ literally }} in Helm."
`;

describe("chart CRDs (hack/gen-chart-crds.mjs)", function () {
  this.timeout(20_000);

  it("are up to date with crds/ (--check exits 0)", async function () {
    const res = await generator(["--check"]);
    assert.equal(res.code, 0, `chart CRDs drifted from crds/:\n${res.stderr}`);
  });

  describe("on a scratch folder", function () {
    let dir: string;
    let src: string;
    let out: string;

    beforeEach(function () {
      dir = mkdtempSync(join(tmpdir(), "vmkeeper-chart-crds-"));
      src = join(dir, "crds");
      out = join(dir, "out");
      mkdirSync(src);
      writeFileSync(join(src, "widgets.example.dev.yaml"), SAMPLE_CRD);
    });

    afterEach(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it("wraps each CRD in crds.install, adds the switchable keep policy and escapes {{", async function () {
      assert.equal((await generator(["--source", src, "--out", out])).code, 0);
      const text = readFileSync(join(out, "widgets.example.dev.yaml"), "utf8");
      assert.match(text, /^\{\{- if \.Values\.crds\.install \}\}$/m);
      assert.match(text, /\{\{- if \.Values\.crds\.keep \}\}\n\s+annotations:\n\s+helm\.sh\/resource-policy: keep/);
      assert.ok(text.includes(`{{ "{{" }} literally }}`), text);
      assert.ok(!text.includes("managed-by: kubectl"), "chart-owned labels come from the chart");
      assert.match(text, /\{\{- end \}\}\n$/);
    });

    it("reports outdated, missing and stale copies in --check mode", async function () {
      assert.equal((await generator(["--source", src, "--out", out])).code, 0);
      assert.equal((await generator(["--check", "--source", src, "--out", out])).code, 0);
      writeFileSync(join(out, "widgets.example.dev.yaml"), "edited by hand\n");
      writeFileSync(join(out, "gone.example.dev.yaml"), "stale\n");
      const res = await generator(["--check", "--source", src, "--out", out]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /outdated widgets\.example\.dev\.yaml/);
      assert.match(res.stderr, /stale gone\.example\.dev\.yaml/);
    });
  });
});
