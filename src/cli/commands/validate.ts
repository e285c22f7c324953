import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadCrdCatalog } from "../../api/v1alpha1/crd-schemas.js";
import { ManifestValidator, objectLabel, objectLocation, type ObjectReport } from "../../validate/manifest-validator.js";
import { readAll, type CliIO } from "../cli-io.js";

const USAGE = `Usage: vmkeeper validate -f FILE|DIR|- [-f ...] [--output text|json]

Validates Kubernetes manifests offline against vmkeeper's CRD schemas and validation rules,
as the API server would admit them. Directories are searched recursively for .yaml, .yml and
.json files; "-" reads standard input. Objects of other API groups are skipped.

Exit status: 0 all valid, 1 validation errors, 2 usage or input errors.
`;

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

class UsageError extends Error {}

interface Source {
  name: string;
  text: string;
}

/** `vmkeeper validate`: see USAGE. */
export async function runValidate(args: string[], io: CliIO): Promise<number> {
  let files: string[];
  let output: string;
  try {
    const { values } = parseArgs({
      args,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        output: { type: "string", short: "o", default: "text" },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
      strict: true,
    });
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    files = values.filename ?? [];
    output = values.output;
    if (files.length === 0) throw new UsageError("at least one -f FILE|DIR|- is required");
    if (output !== "text" && output !== "json") throw new UsageError(`--output must be text or json, not ${JSON.stringify(output)}`);
  } catch (err: unknown) {
    io.stderr.write(`vmkeeper validate: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  let sources: Source[];
  try {
    sources = await readSources(files, io);
  } catch (err: unknown) {
    io.stderr.write(`vmkeeper validate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const validator = new ManifestValidator(loadCrdCatalog());
  const reports = sources.flatMap((s) => validator.validateText(s.text, s.name));
  io.stdout.write(output === "json" ? renderJson(reports) : renderText(reports));
  return reports.some((r) => r.status === "invalid") ? 1 : 0;
}

async function readSources(files: string[], io: CliIO): Promise<Source[]> {
  const sources: Source[] = [];
  let stdinUsed = false;
  for (const f of files) {
    if (f === "-") {
      if (stdinUsed) throw new UsageError("standard input (-f -) can be given only once");
      stdinUsed = true;
      sources.push({ name: "<stdin>", text: await readAll(io.stdin) });
      continue;
    }
    const path = resolve(io.cwd, f);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new UsageError(`the path "${f}" does not exist`);
    const paths = st.isDirectory() ? await manifestFiles(path) : [path];
    if (st.isDirectory() && paths.length === 0) throw new UsageError(`no .yaml, .yml or .json files in "${f}"`);
    for (const p of paths) sources.push({ name: displayName(p, io.cwd), text: await readFile(p, "utf8") });
  }
  return sources;
}

/** Manifest files below a directory, recursively, in a stable order. */
async function manifestFiles(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await manifestFiles(p)));
    else if (e.isFile() && MANIFEST_FILE.test(e.name)) out.push(p);
  }
  return out;
}

function displayName(path: string, cwd: string): string {
  const base = resolve(cwd) + "/";
  return path.startsWith(base) ? path.slice(base.length) : path;
}

function renderText(reports: ObjectReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    const where = `${objectLocation(r)} ${objectLabel(r)}`;
    for (const e of r.errors) lines.push(`${where}: ${e.path}: ${e.message}`);
    for (const n of r.notes) lines.push(`${where}: note: ${n}`);
  }
  const count = (s: ObjectReport["status"]): number => reports.filter((r) => r.status === s).length;
  const invalid = count("invalid");
  lines.push(`${reports.length} object(s): ${count("valid")} valid, ${invalid} invalid, ${count("skipped")} skipped${invalid > 0 ? " — validation failed" : ""}`);
  return lines.join("\n") + "\n";
}

function renderJson(reports: ObjectReport[]): string {
  const summary = { total: reports.length, valid: 0, invalid: 0, skipped: 0 };
  for (const r of reports) summary[r.status]++;
  const objects = reports.map((r) => ({ ...r, object: objectLabel(r) }));
  return JSON.stringify({ valid: summary.invalid === 0, summary, objects }, null, 2) + "\n";
}
