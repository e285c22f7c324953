import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** One x-kubernetes-validations entry (a CEL rule). */
export interface CelValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** The parts of a Kubernetes structural OpenAPI v3 schema (JSONSchemaProps) that vmkeeper uses. */
export interface OpenApiSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  format?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, OpenApiSchema>;
  additionalProperties?: boolean | OpenApiSchema;
  items?: OpenApiSchema;
  required?: string[];
  anyOf?: OpenApiSchema[];
  allOf?: OpenApiSchema[];
  oneOf?: OpenApiSchema[];
  not?: OpenApiSchema;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  uniqueItems?: boolean;
  pattern?: string;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
  "x-kubernetes-validations"?: CelValidationRule[];
}

/** What vmkeeper needs to know about one CustomResourceDefinition version. */
export interface CrdSchemaInfo {
  file: string;
  group: string;
  version: string;
  apiVersion: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  schema: OpenApiSchema;
}

interface CrdDocument {
  kind?: string;
  spec?: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular?: string; shortNames?: string[] };
    versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: OpenApiSchema } }[];
  };
}

const CRD_FILE = /\.ha\.vmkeeper\.dev\.ya?ml$/;

/**
 * Finds the package's crds/ folder by walking up from this module: it sits three levels up
 * from src/api/v1alpha1 and four from dist/src/api/v1alpha1, in the repository and in an
 * installed package alike (package.json ships crds/ next to dist/).
 */
export function findCrdDirectory(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "crds");
    if (existsSync(candidate) && readdirSync(candidate).some((f) => CRD_FILE.test(f))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`vmkeeper CRD folder (crds/) not found above ${fileURLToPath(fromUrl)}`);
}

/** Loaded CRD schemas, looked up by apiVersion and kind. Create one and pass it around. */
export class CrdCatalog {
  private readonly byKey = new Map<string, CrdSchemaInfo>();

  constructor(readonly entries: readonly CrdSchemaInfo[]) {
    for (const e of entries) this.byKey.set(`${e.apiVersion}/${e.kind}`, e);
  }

  /** The CRD info for (apiVersion, kind), or undefined. */
  lookup(apiVersion: string, kind: string): CrdSchemaInfo | undefined {
    return this.byKey.get(`${apiVersion}/${kind}`);
  }

  /** The openAPIV3Schema for (apiVersion, kind), or undefined. */
  schemaFor(apiVersion: string, kind: string): OpenApiSchema | undefined {
    return this.lookup(apiVersion, kind)?.schema;
  }

  groups(): Set<string> {
    return new Set(this.entries.map((e) => e.group));
  }
}

/** Reads every CRD file of the folder (default: the package's crds/). */
export function loadCrdCatalog(dir: string = findCrdDirectory()): CrdCatalog {
  const entries: CrdSchemaInfo[] = [];
  for (const file of readdirSync(dir).filter((f) => CRD_FILE.test(f)).sort()) {
    const doc = parse(readFileSync(join(dir, file), "utf8")) as CrdDocument;
    if (doc.kind !== "CustomResourceDefinition" || !doc.spec) throw new Error(`${file}: not a CustomResourceDefinition`);
    const { group, names, scope } = doc.spec;
    for (const v of doc.spec.versions) {
      const schema = v.schema?.openAPIV3Schema;
      if (!v.served || !schema) continue;
      entries.push({
        file: join(dir, file),
        group,
        version: v.name,
        apiVersion: `${group}/${v.name}`,
        kind: names.kind,
        plural: names.plural,
        singular: names.singular ?? names.kind.toLowerCase(),
        shortNames: names.shortNames ?? [],
        namespaced: scope === "Namespaced",
        schema,
      });
    }
  }
  return new CrdCatalog(entries);
}
