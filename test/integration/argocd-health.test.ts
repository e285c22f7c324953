import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { runCommand } from "../support/run-command.js";
import { REPO_ROOT } from "../support/test-assets.js";

const GROUP_DIR = join(REPO_ROOT, "config/argocd/resource_customizations/ha.vmkeeper.dev");
const KINDS = ["OpenStackCloud", "InstanceHAPolicy", "HostFencing", "ServerGroupMessaging", "ComputeHost", "Incident"];

interface HealthStatus { status: string; message: string }
interface HealthTest { healthStatus: HealthStatus; inputPath: string }

/** A Lua table constructor for a YAML value; null fields are left out, as Argo CD's conversion leaves them nil. */
export function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "string") return JSON.stringify(value).replace(/\\u([0-9a-f]{4})/gi, (_m, hex: string) => `\\${parseInt(hex, 16)}`);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(", ")}}`;
  if (typeof value === "object") {
    const fields = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);
    return `{${fields.map(([k, v]) => `[${JSON.stringify(k)}] = ${luaLiteral(v)}`).join(", ")}}`;
  }
  throw new Error(`no Lua literal for ${typeof value}`);
}

/** Runs one health.lua with `obj` set to the object, the way Argo CD calls it; returns what the script returned. */
async function runHealth(lua: string, healthScript: string, object: unknown, workDir: string): Promise<HealthStatus> {
  const wrapper = join(workDir, `wrapper-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(wrapper, [
    `obj = ${luaLiteral(object)}`,
    `local hs = dofile(${JSON.stringify(healthScript)})`,
    'assert(type(hs) == "table", "health.lua returned no table")',
    'io.write(tostring(hs.status), "\\n", tostring(hs.message))',
  ].join("\n"));
  const res = await runCommand(lua, [wrapper]);
  assert.equal(res.code, 0, `${healthScript}: ${res.stderr}`);
  const nl = res.stdout.indexOf("\n");
  return { status: res.stdout.slice(0, nl), message: res.stdout.slice(nl + 1) };
}

/** Every test case of one kind whose result differs from its health_test.yaml expectation. */
async function mismatches(lua: string, kind: string, workDir: string, tests?: HealthTest[]): Promise<string[]> {
  const dir = join(GROUP_DIR, kind);
  const cases = tests ?? (parse(readFileSync(join(dir, "health_test.yaml"), "utf8")) as { tests: HealthTest[] }).tests;
  const out: string[] = [];
  for (const t of cases) {
    const object: unknown = parse(readFileSync(join(dir, t.inputPath), "utf8"));
    const got = await runHealth(lua, join(dir, "health.lua"), object, workDir);
    if (got.status !== t.healthStatus.status || got.message !== t.healthStatus.message) {
      out.push(`${kind} ${t.inputPath}: expected ${JSON.stringify(t.healthStatus)}, got ${JSON.stringify(got)}`);
    }
  }
  return out;
}

describe("Argo CD health checks (config/argocd) under a real Lua 5.1", function () {
  this.timeout(600_000);
  let lua: string;
  let workDir: string;

  before(async function () {
    const res = await runCommand("bash", [join(REPO_ROOT, "hack/install-lua.sh")]);
    assert.equal(res.code, 0, res.stderr);
    lua = res.stdout.trim().split("\n").pop() ?? "";
    const version = await runCommand(lua, ["-v"]);
    assert.match(`${version.stdout}${version.stderr}`, /^Lua 5\.1/);
    workDir = mkdtempSync(join(tmpdir(), "vmk-argocd-health-"));
  });

  it("has a health check for every kind of the API group, and nothing else", () => {
    assert.deepEqual(readdirSync(GROUP_DIR).sort(), [...KINDS].sort());
  });

  for (const kind of KINDS) {
    it(`${kind}: every health_test.yaml case gives its status and message`, async () => {
      assert.deepEqual(await mismatches(lua, kind, workDir), []);
    });

    it(`${kind}: the cases cover Healthy, Progressing (no status) and Degraded, and every testdata file is used`, () => {
      const dir = join(GROUP_DIR, kind);
      const tests = (parse(readFileSync(join(dir, "health_test.yaml"), "utf8")) as { tests: HealthTest[] }).tests;
      const statuses = new Set(tests.map((t) => t.healthStatus.status));
      for (const s of ["Healthy", "Progressing", "Degraded"]) assert.ok(statuses.has(s), `${kind}: no ${s} case`);
      assert.ok(tests.some((t) => t.healthStatus.message === "Waiting for the operator to report status"), `${kind}: no case without status`);
      assert.deepEqual(readdirSync(join(dir, "testdata")).map((f) => `testdata/${f}`).sort(), tests.map((t) => t.inputPath).sort());
    });
  }

  it("reports Suspended for a paused policy, a host in maintenance and a suppressed incident", async () => {
    const suspended = (kind: string): string[] =>
      (parse(readFileSync(join(GROUP_DIR, kind, "health_test.yaml"), "utf8")) as { tests: HealthTest[] }).tests
        .filter((t) => t.healthStatus.status === "Suspended").map((t) => t.inputPath);
    assert.ok(suspended("InstanceHAPolicy").includes("testdata/paused.yaml"));
    assert.ok(suspended("ComputeHost").includes("testdata/maintenance.yaml"));
    assert.ok(suspended("Incident").includes("testdata/suppressed.yaml"));
    assert.deepEqual(await mismatches(lua, "Incident", workDir), []);
  });

  it("detects a wrong expectation (self-check)", async () => {
    const wrong: HealthTest[] = [
      { healthStatus: { status: "Healthy", message: "Waiting for the operator to report status" }, inputPath: "testdata/no-status.yaml" },
      { healthStatus: { status: "Progressing", message: "Waiting for the operator to report status!" }, inputPath: "testdata/no-status.yaml" },
    ];
    const found = await mismatches(lua, "HostFencing", workDir, wrong);
    assert.equal(found.length, 2, found.join("\n"));
    assert.match(found[0] ?? "", /got \{"status":"Progressing"/);
  });

  it("writes Lua string literals that survive quotes, backslashes, newlines and non-ASCII text", async () => {
    const message = 'say "hi"\\ \n ünïcode ✓';
    const script = join(workDir, "echo.lua");
    writeFileSync(script, "return { status = obj.kind, message = obj.status.conditions[1].message }");
    const got = await runHealth(lua, script, { kind: "Echo", status: { conditions: [{ message }], empty: null } }, workDir);
    assert.deepEqual(got, { status: "Echo", message });
  });
});
