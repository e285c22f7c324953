import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

/** The source folder of a compiled test (dist/test/... → test/...), where golden files live. */
export function sourceDir(importMetaUrl: string): string {
  return fileURLToPath(new URL(".", importMetaUrl)).replace(/\/dist\/test\//, "/test/");
}

export function scenarioDirs(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/**
 * Compares `actual` (serialised as YAML) with the golden file. `UPDATE_GOLDEN=1 npm test`
 * rewrites golden files; review the diff before committing it.
 */
export function assertGolden(path: string, actual: unknown): void {
  const text = stringify(actual, { sortMapEntries: false, lineWidth: 0 });
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(path)) {
    if (process.env.UPDATE_GOLDEN !== "1" && !existsSync(path)) assert.fail(`golden file missing: ${path} (run with UPDATE_GOLDEN=1 to create it)`);
    writeFileSync(path, text);
    return;
  }
  assert.equal(text, readFileSync(path, "utf8"), `${path} differs (UPDATE_GOLDEN=1 rewrites it)`);
}

export function readScenario<T>(dir: string, file: string): T {
  return JSON.parse(JSON.stringify(parseYamlFile(join(dir, file)))) as T;
}

function parseYamlFile(path: string): unknown {
  return parse(readFileSync(path, "utf8"));
}
