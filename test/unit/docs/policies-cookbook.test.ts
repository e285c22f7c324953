import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { runValidate } from "../../../src/cli/commands/validate.js";
import { REPO_ROOT } from "../../support/test-assets.js";

/** The ```yaml blocks of a Markdown file, with the line each starts on. */
function yamlBlocks(markdown: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```yaml") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]?.trim() !== "```") end++;
    blocks.push({ line: start + 1, text: lines.slice(start, end).join("\n") });
    i = end;
  }
  return blocks;
}

async function validate(text: string): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (out += c.toString()));
  const code = await runValidate(["-f", "-"], { stdout, stderr, stdin: Readable.from([text]), env: {}, cwd: REPO_ROOT });
  return { code, out };
}

describe("docs/policies-cookbook.md", () => {
  it("every YAML example is a valid InstanceHAPolicy for vmkeeper validate", async () => {
    const blocks = yamlBlocks(readFileSync(join(REPO_ROOT, "docs/policies-cookbook.md"), "utf8"));
    assert.ok(blocks.length >= 6, `only ${blocks.length} examples found`);
    for (const b of blocks) {
      const r = await validate(b.text);
      assert.equal(r.code, 0, `block at line ${b.line}:\n${r.out}`);
      assert.match(r.out, /1 object\(s\): 1 valid, 0 invalid, 0 skipped/, `block at line ${b.line}:\n${r.out}`);
      assert.match(b.text, /^kind: InstanceHAPolicy$/m, `block at line ${b.line} is not a policy`);
    }
  });

  it("the validator refuses a broken example (the check can fail)", async () => {
    const r = await validate("apiVersion: ha.vmkeeper.dev/v1alpha1\nkind: InstanceHAPolicy\nmetadata: {name: x}\nspec:\n  cloudRef: {name: production}\n  mode: KeepRunning\n  selector: {}\n  recovery: {methods: [Teleport]}\n");
    assert.notEqual(r.code, 0, r.out);
  });
});
