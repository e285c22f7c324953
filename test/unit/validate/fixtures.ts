import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../support/test-assets.js";

/** An invalid manifest of test/fixtures/invalid with the substrings its errors must contain. */
export interface InvalidFixture {
  file: string;
  path: string;
  text: string;
  /** Substring expected in `vmkeeper validate`'s output. */
  expectValidate: string;
  /** Substring expected in the API server's error. */
  expectApiServer: string;
}

export const SAMPLES_DIR = join(REPO_ROOT, "config/samples");
export const INVALID_DIR = join(REPO_ROOT, "test/fixtures/invalid");

/** Reads the fixtures and their `# expect:` (or `# expect-validate:` / `# expect-apiserver:`) lines. */
export function invalidFixtures(): InvalidFixture[] {
  return readdirSync(INVALID_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((file) => {
      const path = join(INVALID_DIR, file);
      const text = readFileSync(path, "utf8");
      const header = (key: string): string | undefined => text.match(new RegExp(`^# ${key}: (.+)$`, "m"))?.[1]?.trim();
      const both = header("expect");
      const expectValidate = header("expect-validate") ?? both;
      const expectApiServer = header("expect-apiserver") ?? both;
      if (!expectValidate || !expectApiServer) throw new Error(`${file}: missing # expect: line`);
      return { file, path, text, expectValidate, expectApiServer };
    });
}

export function sampleFiles(): string[] {
  return readdirSync(SAMPLES_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join(SAMPLES_DIR, f));
}
