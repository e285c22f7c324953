import type { CelValidationRule, OpenApiSchema } from "../api/v1alpha1/crd-schemas.js";
import { CelEvalError, evaluateCel, type CelValue } from "./cel-evaluator.js";
import { parseCel, usesOldSelf, type CelNode } from "./cel-parser.js";
import { applyFieldPath, childPath, indexPath } from "./field-path.js";

/** A rule found in a schema, with the schema path that declares it (for reports and tests). */
export interface LocatedRule {
  schemaPath: string;
  rule: CelValidationRule;
}

/** A problem found by walking an object with its schema. */
export interface RuleIssue {
  path: string;
  message: string;
  /** Evaluation errors are reported only when the object passed schema validation. */
  evaluationError?: boolean;
}

/** Every x-kubernetes-validations rule of a schema tree. */
export function collectRules(schema: OpenApiSchema, schemaPath = ""): LocatedRule[] {
  const found: LocatedRule[] = (schema["x-kubernetes-validations"] ?? []).map((rule) => ({ schemaPath: schemaPath || "<root>", rule }));
  for (const [name, sub] of Object.entries(schema.properties ?? {})) found.push(...collectRules(sub, childPath(schemaPath, name)));
  if (schema.items) found.push(...collectRules(schema.items, `${schemaPath}[*]`));
  if (typeof schema.additionalProperties === "object") found.push(...collectRules(schema.additionalProperties, `${schemaPath}[*]`));
  return found;
}

interface CompiledRule {
  rule: CelValidationRule;
  ast: CelNode;
  message?: CelNode;
  transition: boolean;
}

const REASON_PREFIX: Readonly<Record<string, string>> = {
  FieldValueRequired: "Required value",
  FieldValueForbidden: "Forbidden",
  FieldValueDuplicate: "Duplicate value",
};

/**
 * Walks an object along its schema and evaluates the CEL rules of every node that is present
 * (as the API server does), plus the uniqueness of list-type set and map lists. Transition
 * rules (those using oldSelf) need the previous object and are skipped offline. Rules are
 * parsed once per instance; a rule outside the supported CEL subset throws CelParseError.
 */
export class CelRuleChecker {
  private readonly compiled = new Map<CelValidationRule, CompiledRule>();

  compile(rule: CelValidationRule): CompiledRule {
    let c = this.compiled.get(rule);
    if (!c) {
      const ast = parseCel(rule.rule);
      c = { rule, ast, transition: usesOldSelf(ast) || rule.optionalOldSelf === true };
      if (rule.messageExpression) c.message = parseCel(rule.messageExpression);
      this.compiled.set(rule, c);
    }
    return c;
  }

  check(value: unknown, schema: OpenApiSchema, path = ""): RuleIssue[] {
    const issues: RuleIssue[] = [];
    this.walk(value as CelValue, schema, path, issues);
    return issues;
  }

  private walk(value: CelValue, schema: OpenApiSchema, path: string, issues: RuleIssue[]): void {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      if (schema.items) value.forEach((item, i) => this.walk(item, schema.items as OpenApiSchema, indexPath(path, i), issues));
      checkListUniqueness(value, schema, path, issues);
    } else if (typeof value === "object") {
      const obj = value as Record<string, CelValue>;
      for (const [name, sub] of Object.entries(obj)) {
        const subSchema = schema.properties?.[name] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
        if (subSchema) this.walk(sub, subSchema, childPath(path, name), issues);
      }
    }
    for (const rule of schema["x-kubernetes-validations"] ?? []) this.evaluate(rule, value, path, issues);
  }

  private evaluate(rule: CelValidationRule, self: CelValue, path: string, issues: RuleIssue[]): void {
    const c = this.compile(rule);
    if (c.transition) return;
    const target = applyFieldPath(path, rule.fieldPath) || "<root>";
    let ok: CelValue;
    try {
      ok = evaluateCel(c.ast, { self });
    } catch (err: unknown) {
      if (!(err instanceof CelEvalError)) throw err;
      issues.push({ path: target, message: `Invalid value: rule ${JSON.stringify(rule.rule)} could not be evaluated: ${err.message}`, evaluationError: true });
      return;
    }
    if (ok === true) return;
    const message = this.message(c, self);
    const prefix = REASON_PREFIX[rule.reason ?? ""] ?? `Invalid value: "${typeName(self)}"`;
    issues.push({ path: target, message: `${prefix}: ${message}` });
  }

  private message(c: CompiledRule, self: CelValue): string {
    if (c.message) {
      try {
        const m = evaluateCel(c.message, { self });
        if (typeof m === "string" && m.trim() !== "") return m;
      } catch (err: unknown) {
        if (!(err instanceof CelEvalError)) throw err;
      }
    }
    return c.rule.message ?? `failed rule: ${c.rule.rule}`;
  }
}

function typeName(v: CelValue): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "number") return "integer";
  return typeof v;
}

function checkListUniqueness(list: CelValue[], schema: OpenApiSchema, path: string, issues: RuleIssue[]): void {
  const listType = schema["x-kubernetes-list-type"];
  if (listType !== "set" && listType !== "map") return;
  const keys = schema["x-kubernetes-list-map-keys"] ?? [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const key = listType === "set" ? JSON.stringify(item) : JSON.stringify(keys.map((k) => (typeof item === "object" && item !== null && !Array.isArray(item) ? (item as Record<string, CelValue>)[k] : undefined)));
    if (seen.has(key)) issues.push({ path: indexPath(path, i), message: `Duplicate value: ${listType === "set" ? JSON.stringify(item) : key}` });
    seen.add(key);
  });
}
