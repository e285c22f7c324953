import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../support/run-command.js";
import { REPO_ROOT, testAssets } from "../support/test-assets.js";

describe("kubectl-vmkeeper as a kubectl plugin", function () {
  this.timeout(60_000);
  let bin: string;

  before(() => {
    // What `npm install -g vmkeeper` puts on PATH: an executable named kubectl-vmkeeper.
    bin = mkdtempSync(join(tmpdir(), "vmkeeper-plugin-"));
    const shim = join(bin, "kubectl-vmkeeper");
    writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${join(REPO_ROOT, "dist/src/cli/kubectl-vmkeeper.js")}" "$@"\n`);
    chmodSync(shim, 0o755);
  });

  after(() => rmSync(bin, { recursive: true, force: true }));

  it("is found by kubectl and validates manifests", async () => {
    const { kubectl } = await testAssets();
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` };
    const list = await runCommand(kubectl, ["plugin", "list"], { env });
    assert.match(list.stdout, /kubectl-vmkeeper/);
    const ok = await runCommand(kubectl, ["vmkeeper", "validate", "-f", join(REPO_ROOT, "config/samples")], { env });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    const bad = await runCommand(kubectl, ["vmkeeper", "validate", "-f", join(REPO_ROOT, "test/fixtures/invalid")], { env });
    assert.equal(bad.code, 1);
    const help = await runCommand(kubectl, ["vmkeeper", "--help"], { env });
    assert.match(help.stdout, /Usage: kubectl vmkeeper <command>/);
  });
});
