import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { runValidate } from "../../../src/cli/commands/validate.js";
import type { CliIO } from "../../../src/cli/cli-io.js";
import { REPO_ROOT } from "../../support/test-assets.js";

interface Captured {
  io: CliIO;
  out: () => string;
  err: () => string;
}

function memoryIO(stdin = ""): Captured {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  return { io: { stdout, stderr, stdin: Readable.from([stdin]), env: {}, cwd: REPO_ROOT }, out: () => out, err: () => err };
}

describe("vmkeeper validate", () => {
  it("exits 0 for the samples directory and notes skipped Secrets", async () => {
    const c = memoryIO();
    assert.equal(await runValidate(["-f", "config/samples"], c.io), 0);
    assert.match(c.out(), /13 valid, 0 invalid, 4 skipped/);
    assert.match(c.out(), /Secret\/openstack-clouds: note: v1 Secret is not a vmkeeper kind/);
  });

  it("exits 1 and names file, object, document and field for invalid manifests", async () => {
    const c = memoryIO();
    assert.equal(await runValidate(["-f", "test/fixtures/invalid/hf-kind-settings-mismatch.yaml"], c.io), 1);
    assert.match(c.out(), /test\/fixtures\/invalid\/hf-kind-settings-mismatch\.yaml \(document 0\) HostFencing\/mismatch: spec\.levels\[0\]\.devices\[0\]\.kind: /);
  });

  it("reads standard input with -f - and prints JSON with --output json", async () => {
    const c = memoryIO("apiVersion: ha.vmkeeper.dev/v1alpha1\nkind: ServerGroupMessaging\nmetadata: {name: g, namespace: team-a}\nspec: {cloudRef: {name: c}, serverGroup: {name: g}, maxPayloadBytes: 5000}\n");
    assert.equal(await runValidate(["-f", "-", "--output", "json"], c.io), 1);
    const doc = JSON.parse(c.out()) as { valid: boolean; objects: { object: string; source: string; errors: { path: string }[] }[] };
    assert.equal(doc.valid, false);
    assert.equal(doc.objects[0]?.object, "ServerGroupMessaging/team-a/g");
    assert.equal(doc.objects[0]?.source, "<stdin>");
    assert.deepEqual(doc.objects[0]?.errors.map((e) => e.path), ["spec.maxPayloadBytes"]);
  });

  it("exits 2 on usage errors", async () => {
    for (const args of [[], ["--nope"], ["-f", "config/samples", "-o", "yaml"], ["-f", "does/not/exist.yaml"], ["stray"]]) {
      const c = memoryIO();
      assert.equal(await runValidate(args, c.io), 2, args.join(" "));
      assert.match(c.err(), /vmkeeper validate: /);
    }
  });

  it("prints help and exits 0", async () => {
    const c = memoryIO();
    assert.equal(await runValidate(["--help"], c.io), 0);
    assert.match(c.out(), /Usage: vmkeeper validate/);
  });
});
