import type { OpenApiSchema } from "../api/v1alpha1/crd-schemas.js";

/** A JSON Schema document as ajv takes it. */
export type JsonSchema = Record<string, unknown>;

const K8S_ONLY_KEYWORDS = [
  "x-kubernetes-validations",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
  "x-kubernetes-int-or-string",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "nullable",
];

/**
 * Translates a Kubernetes structural schema into plain JSON Schema with the API server's
 * semantics made explicit:
 * - objects without x-kubernetes-preserve-unknown-fields get additionalProperties: false,
 *   because the API server silently prunes unknown fields (we report them instead);
 * - x-kubernetes-int-or-string keeps its anyOf integer|string and drops any type;
 * - x-kubernetes-embedded-resource objects accept apiVersion, kind and metadata;
 * - nullable: true admits null;
 * - the root metadata is ObjectMeta, validated separately, so it is left open.
 */
export function toAjvSchema(schema: OpenApiSchema, isRoot = true): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (K8S_ONLY_KEYWORDS.includes(key) || key === "properties" || key === "items" || key === "additionalProperties" || key === "anyOf" || key === "allOf" || key === "oneOf" || key === "not") continue;
    out[key] = value;
  }
  if (schema["x-kubernetes-int-or-string"]) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (schema.nullable && typeof schema.type === "string") out.type = [schema.type, "null"];
  for (const key of ["anyOf", "allOf", "oneOf"] as const) {
    const list = schema[key];
    if (list && !(key === "anyOf" && schema["x-kubernetes-int-or-string"])) out[key] = list.map((s) => toAjvSchema(s, false));
  }
  if (schema.not) out.not = toAjvSchema(schema.not, false);
  if (schema.items) out.items = toAjvSchema(schema.items, false);
  if (schema.type === "object" || schema.properties) convertObject(schema, out, isRoot);
  return out;
}

function convertObject(schema: OpenApiSchema, out: JsonSchema, isRoot: boolean): void {
  const props: Record<string, JsonSchema> = {};
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    // The root metadata is ObjectMeta: only name (and generateName) may be constrained.
    props[name] = isRoot && name === "metadata" ? { ...toAjvSchema(sub, false), additionalProperties: true } : toAjvSchema(sub, false);
  }
  if (schema["x-kubernetes-embedded-resource"]) {
    props.apiVersion ??= { type: "string" };
    props.kind ??= { type: "string" };
    props.metadata ??= { type: "object" };
  }
  if (Object.keys(props).length > 0) out.properties = props;
  if (typeof schema.additionalProperties === "object") out.additionalProperties = toAjvSchema(schema.additionalProperties, false);
  else if (schema.additionalProperties === true || schema["x-kubernetes-preserve-unknown-fields"]) out.additionalProperties = true;
  else out.additionalProperties = false;
}
