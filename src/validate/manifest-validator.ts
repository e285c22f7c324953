import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { CrdCatalog, CrdSchemaInfo } from "../api/v1alpha1/crd-schemas.js";
import { toAjvSchema } from "./ajv-schema.js";
import { CelRuleChecker } from "./cel-rules.js";
import { childPath, pointerToPath } from "./field-path.js";
import { parseManifests, type ManifestDocument } from "./manifest-parser.js";

/** One problem with one object, named by field path. */
export interface ValidationIssue {
  path: string;
  message: string;
}

export type ObjectStatus = "valid" | "invalid" | "skipped";

/** The result for one object (or one unparsable document). */
export interface ObjectReport {
  source: string;
  documentIndex: number;
  itemIndex?: number;
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  status: ObjectStatus;
  errors: ValidationIssue[];
  notes: string[];
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// ajv-formats is CommonJS; under NodeNext its default import is module.exports, whose
// `default` property is the plugin.
const addFormats = addFormatsModule.default;

type Json = Record<string, unknown>;

/**
 * Validates manifests offline the way the API server would admit them: the CRD's OpenAPI
 * schema (with defaults applied first, unknown fields reported instead of pruned), list
 * uniqueness, the CEL rules that do not need the old object, metadata.name, apiVersion and
 * kind. Objects of other API groups are skipped with a note.
 */
export class ManifestValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly cel = new CelRuleChecker();
  private readonly vmkeeperGroups: Set<string>;

  constructor(private readonly catalog: CrdCatalog) {
    this.ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true });
    addFormats(this.ajv);
    this.vmkeeperGroups = catalog.groups();
  }

  /** Parses and validates every object of one manifest text. */
  validateText(text: string, source: string): ObjectReport[] {
    const parsed = parseManifests(text, source);
    const reports: ObjectReport[] = parsed.errors.map((e) => ({
      source: e.source,
      documentIndex: e.documentIndex,
      status: "invalid",
      errors: [{ path: "<document>", message: `cannot parse YAML/JSON: ${e.message}` }],
      notes: [],
    }));
    for (const doc of parsed.documents) reports.push(this.validateDocument(doc));
    return reports.sort((a, b) => a.documentIndex - b.documentIndex || (a.itemIndex ?? 0) - (b.itemIndex ?? 0));
  }

  validateDocument(doc: ManifestDocument): ObjectReport {
    const report: ObjectReport = { source: doc.source, documentIndex: doc.documentIndex, itemIndex: doc.itemIndex, status: "valid", errors: [], notes: [] };
    const obj = doc.object;
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      report.errors.push({ path: "<document>", message: "not a Kubernetes object (expected a mapping with apiVersion and kind)" });
      report.status = "invalid";
      return report;
    }
    const o = obj as Json;
    const meta = (typeof o.metadata === "object" && o.metadata !== null ? o.metadata : {}) as Json;
    if (typeof o.apiVersion === "string") report.apiVersion = o.apiVersion;
    if (typeof o.kind === "string") report.kind = o.kind;
    if (typeof meta.name === "string") report.name = meta.name;
    if (typeof meta.namespace === "string") report.namespace = meta.namespace;
    this.validateTyped(o, report);
    report.status = report.status === "skipped" ? "skipped" : report.errors.length > 0 ? "invalid" : "valid";
    return report;
  }

  private validateTyped(o: Json, report: ObjectReport): void {
    if (typeof o.apiVersion !== "string" || o.apiVersion === "") report.errors.push({ path: "apiVersion", message: "Required value: apiVersion must be set" });
    if (typeof o.kind !== "string" || o.kind === "") report.errors.push({ path: "kind", message: "Required value: kind must be set" });
    if (report.errors.length > 0 || report.apiVersion === undefined || report.kind === undefined) return;
    const group = report.apiVersion.includes("/") ? report.apiVersion.split("/")[0] ?? "" : "";
    if (!this.vmkeeperGroups.has(group)) {
      report.status = "skipped";
      report.notes.push(`${report.apiVersion} ${report.kind} is not a vmkeeper kind; not validated`);
      return;
    }
    const info = this.catalog.lookup(report.apiVersion, report.kind);
    if (!info) {
      const known = this.catalog.entries.filter((e) => e.group === group);
      const kindKnown = known.some((e) => e.kind === report.kind);
      if (kindKnown) report.errors.push({ path: "apiVersion", message: `Unsupported value: "${report.apiVersion}": supported values: ${[...new Set(known.map((e) => `"${e.apiVersion}"`))].join(", ")}` });
      else report.errors.push({ path: "kind", message: `Unsupported value: "${report.kind}": supported kinds in ${group}: ${known.map((e) => e.kind).join(", ")}` });
      return;
    }
    this.validateMetadata(o, info, report);
    this.validateAgainstSchema(o, info, report);
  }

  private validateMetadata(o: Json, info: CrdSchemaInfo, report: ObjectReport): void {
    const meta = o.metadata;
    if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
      report.errors.push({ path: "metadata", message: "Required value: metadata with a name is required" });
      return;
    }
    const { name, generateName, namespace } = meta as Json;
    if (name === undefined && generateName === undefined) report.errors.push({ path: "metadata.name", message: "Required value: name or generateName is required" });
    if (name !== undefined && (typeof name !== "string" || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)))
      report.errors.push({ path: "metadata.name", message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (at most 253 characters)` });
    if (namespace !== undefined && (typeof namespace !== "string" || namespace.length > 63 || !DNS1123_LABEL.test(namespace)))
      report.errors.push({ path: "metadata.namespace", message: `Invalid value: ${JSON.stringify(namespace)}: must be a DNS-1123 label` });
    if (namespace !== undefined && !info.namespaced) report.notes.push(`${info.kind} is cluster-scoped; metadata.namespace is ignored`);
  }

  private validateAgainstSchema(o: Json, info: CrdSchemaInfo, report: ObjectReport): void {
    // The API server ignores status on create and update (status subresource); so do we.
    const data = structuredClone(o);
    if ("status" in data) {
      delete data.status;
      report.notes.push("status is ignored: the API server only accepts it through the status subresource");
    }
    const validate = this.validatorFor(info);
    const schemaOk = validate(data);
    const schemaErrors = schemaOk ? [] : mapAjvErrors(validate.errors ?? [], data);
    report.errors.push(...schemaErrors);
    for (const issue of this.cel.check(data, info.schema)) {
      if (issue.evaluationError && schemaErrors.length > 0) continue;
      report.errors.push({ path: issue.path, message: issue.message });
    }
    report.errors = dedupe(report.errors);
  }

  private validatorFor(info: CrdSchemaInfo): ValidateFunction {
    const key = `${info.apiVersion}/${info.kind}`;
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(toAjvSchema(info.schema));
      this.compiled.set(key, fn);
    }
    return fn;
  }
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function valueAt(data: unknown, pointer: string): unknown {
  let node = data;
  for (const raw of pointer === "" ? [] : pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    node = typeof node === "object" && node !== null ? (node as Json)[seg] : undefined;
  }
  return node;
}

/** Maps ajv errors to the API server's wording ("Required value", "Unsupported value", ...). */
export function mapAjvErrors(errors: ErrorObject[], data: unknown): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const e of errors) {
    // Branch errors of anyOf (int-or-string) are summarised by the anyOf error itself.
    if (e.schemaPath.includes("/anyOf/")) continue;
    const path = pointerToPath(e.instancePath, data);
    const value = JSON.stringify(valueAt(data, e.instancePath));
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case "required":
        out.push({ path: childPath(path, String(p.missingProperty)), message: "Required value" });
        break;
      case "additionalProperties":
        out.push({ path: childPath(path, String(p.additionalProperty)), message: `field not declared in schema (unknown field "${String(p.additionalProperty)}"; the API server would drop it)` });
        break;
      case "enum":
        out.push({ path, message: `Unsupported value: ${value}: supported values: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` });
        break;
      default:
        out.push({ path: path || "<root>", message: describeKeyword(e, value, p) });
    }
  }
  return out;
}

function describeKeyword(e: ErrorObject, value: string, p: Record<string, unknown>): string {
  switch (e.keyword) {
    case "type":
      return `Invalid value: ${value}: must be of type ${String(p.type)}`;
    case "maximum":
      return `Invalid value: ${value}: should be less than or equal to ${String(p.limit)}`;
    case "minimum":
      return `Invalid value: ${value}: should be greater than or equal to ${String(p.limit)}`;
    case "maxLength":
      return `Too long: may not be more than ${String(p.limit)} bytes`;
    case "minLength":
      return `Invalid value: ${value}: should be at least ${String(p.limit)} chars long`;
    case "pattern":
      return `Invalid value: ${value}: should match '${String(p.pattern)}'`;
    case "format":
      return `Invalid value: ${value}: must be of type ${String(p.format)}`;
    case "maxItems":
    case "maxProperties":
      return `Too many: must have at most ${String(p.limit)} items`;
    case "minItems":
      return `Invalid value: ${value}: should have at least ${String(p.limit)} items`;
    case "anyOf":
      return `Invalid value: ${value}: must be an integer or a string`;
    default:
      return `Invalid value: ${value}: ${e.message ?? e.keyword}`;
  }
}

/** `Kind/namespace/name` (or `Kind/name`), for messages. */
export function objectLabel(r: ObjectReport): string {
  const kind = r.kind ?? "<unknown kind>";
  const name = r.name ?? "<unnamed>";
  return r.namespace ? `${kind}/${r.namespace}/${name}` : `${kind}/${name}`;
}

/** Where the object is: file and document (and List item). */
export function objectLocation(r: ObjectReport): string {
  const item = r.itemIndex === undefined ? "" : `, item ${r.itemIndex}`;
  return `${r.source} (document ${r.documentIndex}${item})`;
}
