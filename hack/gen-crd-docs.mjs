#!/usr/bin/env node
// Generates docs/crd-reference.md from the CRD schemas in crds/.
//
//   node hack/gen-crd-docs.mjs           write the file
//   node hack/gen-crd-docs.mjs --check   exit 1 when the file on disk differs from what would be written
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CRD_DIR = join(ROOT, "crds");
const OUT = join(ROOT, "docs/crd-reference.md");
const VERSION = "v1alpha1";
// Order of the reference: the way a user meets the kinds.
const ORDER = ["OpenStackCloud", "InstanceHAPolicy", "HostFencing", "ServerGroupMessaging", "ComputeHost", "Incident"];

function loadCrds() {
  const crds = readdirSync(CRD_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => parse(readFileSync(join(CRD_DIR, f), "utf8")));
  const rank = (c) => {
    const i = ORDER.indexOf(c.spec.names.kind);
    return i < 0 ? ORDER.length : i;
  };
  return crds.sort((a, b) => rank(a) - rank(b) || a.spec.names.kind.localeCompare(b.spec.names.kind));
}

// Markdown table cells: one line, pipes escaped.
const cell = (s) => String(s ?? "").replace(/\s+/g, " ").replace(/\|/g, "\\|").trim();
const code = (s) => "`" + String(s).replace(/`/g, "'") + "`";

function typeName(s) {
  if (s["x-kubernetes-int-or-string"]) return "int or string";
  if (s.type === "array") return `[]${s.items ? typeName(s.items) : "any"}`;
  if (s.type === "object" && !s.properties && typeof s.additionalProperties === "object") return `map[string]${typeName(s.additionalProperties)}`;
  return s.type ?? "any";
}

function validation(s) {
  const v = [];
  if (s.enum) v.push(`one of ${s.enum.map(code).join(", ")}`);
  if (s.minimum !== undefined) v.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) v.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined) v.push(`min length ${s.minLength}`);
  if (s.maxLength !== undefined) v.push(`max length ${s.maxLength}`);
  if (s.minItems !== undefined) v.push(`min items ${s.minItems}`);
  if (s.maxItems !== undefined) v.push(`max items ${s.maxItems}`);
  if (s.maxProperties !== undefined) v.push(`max entries ${s.maxProperties}`);
  if (s.pattern !== undefined) v.push(`pattern ${code(s.pattern)}`);
  if (s.format !== undefined) v.push(`format ${s.format}`);
  if (s["x-kubernetes-list-type"] === "map") v.push(`unique by ${(s["x-kubernetes-list-map-keys"] ?? []).map(code).join(", ")}`);
  if (s["x-kubernetes-list-type"] === "set") v.push("unique items");
  if (s["x-kubernetes-validations"]) v.push(`${s["x-kubernetes-validations"].length} CEL rule(s)`);
  return v.join("; ");
}

function fieldRows(schema, path, required, rows, rules) {
  for (const r of schema["x-kubernetes-validations"] ?? []) rules.push({ path: path || "(object)", ...r });
  if (path) {
    const def = schema.default === undefined ? "" : code(JSON.stringify(schema.default));
    rows.push(`| ${code(path)} | ${cell(typeName(schema))} | ${required ? "yes" : ""} | ${def} | ${cell(validation(schema))} | ${cell(schema.description)} |`);
  }
  const req = new Set(schema.required ?? []);
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    if (!path && ["apiVersion", "kind", "metadata"].includes(name)) continue;
    fieldRows(sub, path ? `${path}.${name}` : name, req.has(name), rows, rules);
  }
  if (schema.items && (schema.items.properties || schema.items["x-kubernetes-validations"])) fieldRows(schema.items, `${path}[]`, false, rows, rules);
}

function kindSection(crd) {
  const n = crd.spec.names;
  const version = crd.spec.versions.find((v) => v.name === VERSION);
  const schema = version.schema.openAPIV3Schema;
  const out = [];
  out.push(`## ${n.kind}`, "");
  out.push(cell(schema.description), "");
  out.push(`- API version: ${code(`${crd.spec.group}/${VERSION}`)}, ${crd.spec.scope.toLowerCase()}`);
  out.push(`- Resource: ${code(n.plural)}; short names: ${(n.shortNames ?? []).map(code).join(", ") || "none"}; categories: ${(n.categories ?? []).map(code).join(", ")}`);
  out.push(`- Status subresource: ${version.subresources?.status ? "yes" : "no"}`, "");
  out.push("### Printer columns", "", "| Name | Type | JSONPath | Shown |", "|---|---|---|---|");
  for (const c of version.additionalPrinterColumns ?? []) out.push(`| ${cell(c.name)} | ${c.type} | ${code(c.jsonPath)} | ${c.priority ? "with `-o wide`" : "always"} |`);
  out.push("");
  const rows = [];
  const rules = [];
  fieldRows(schema, "", false, rows, rules);
  out.push("### Fields", "", "| Field | Type | Required | Default | Validation | Description |", "|---|---|---|---|---|---|", ...rows, "");
  out.push("### Validation rules (CEL)", "");
  if (rules.length === 0) out.push("None.", "");
  else {
    out.push("| On | Rule | Message | Reported at |", "|---|---|---|---|");
    for (const r of rules) {
      const at = r.fieldPath ? code(`${r.path}${r.fieldPath}`) : code(r.path);
      const transition = /\boldSelf\b/.test(r.rule) ? " (on update)" : "";
      out.push(`| ${code(r.path)} | ${code(r.rule)}${transition} | ${cell(r.message ?? r.messageExpression)} | ${at}${r.reason ? ` (${r.reason})` : ""} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

function generate() {
  const crds = loadCrds();
  const head = [
    "<!-- Code generated by hack/gen-crd-docs.mjs from crds/*.yaml; do not edit. -->",
    "",
    "# CRD reference (ha.vmkeeper.dev/v1alpha1)",
    "",
    "Every vmkeeper kind is namespaced and in the `vmkeeper` category (`kubectl get vmkeeper`). Fields are",
    "validated by the API server at admission and, offline, by `vmkeeper validate -f FILE|DIR|-`. Rules marked",
    "\"on update\" compare with the previous object and are checked by the API server only.",
    "",
    ...crds.map((c) => `- [${c.spec.names.kind}](#${c.spec.names.kind.toLowerCase()})`),
    "",
  ];
  return [head.join("\n"), ...crds.map(kindSection)].join("\n").trimEnd() + "\n";
}

function main() {
  const text = generate();
  if (!process.argv.includes("--check")) {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, text);
    console.log(`gen-crd-docs: wrote ${OUT}`);
    return;
  }
  const disk = existsSync(OUT) ? readFileSync(OUT, "utf8") : undefined;
  if (disk === text) {
    console.log("gen-crd-docs --check: up to date");
    return;
  }
  const a = text.split("\n");
  const b = (disk ?? "").split("\n");
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  console.error(
    disk === undefined
      ? "gen-crd-docs --check: docs/crd-reference.md is missing (run npm run gen:crd-docs)"
      : `gen-crd-docs --check: docs/crd-reference.md is out of date with crds/ (run npm run gen:crd-docs); first difference at line ${i + 1}:\n  on disk:   ${JSON.stringify(b[i] ?? "<end of file>")}\n  generated: ${JSON.stringify(a[i] ?? "<end of file>")}`,
  );
  process.exit(1);
}

main();
