/**
 * Defensive readers for JSON from OpenStack: unknown fields are ignored, a missing or
 * mistyped required field throws `ResponseShapeError` with its path (never its value).
 */
export type JsonRecord = Record<string, unknown>;

export class ResponseShapeError extends Error {
  override readonly name = "ResponseShapeError";

  constructor(readonly path: string, expected: string) {
    super(`response field "${path}" is missing or not ${expected}`);
  }
}

export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function asRecord(v: unknown, path: string): JsonRecord {
  if (!isRecord(v)) throw new ResponseShapeError(path, "an object");
  return v;
}

export function reqRecord(o: JsonRecord, key: string, path: string): JsonRecord {
  return asRecord(o[key], `${path}.${key}`);
}

export function reqArray(o: JsonRecord, key: string, path: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new ResponseShapeError(`${path}.${key}`, "an array");
  return v;
}

export function reqString(o: JsonRecord, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== "string") throw new ResponseShapeError(`${path}.${key}`, "a string");
  return v;
}

/** A string or a number (Nova returns some ids as integers, some as strings), as a string. */
export function reqId(o: JsonRecord, key: string, path: string): string {
  const v = o[key];
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new ResponseShapeError(`${path}.${key}`, "a string or number id");
}

export function optString(o: JsonRecord, key: string): string | undefined {
  const v = o[key];
  return typeof v === "string" ? v : undefined;
}

export function nullableString(o: JsonRecord, key: string): string | null {
  const v = o[key];
  return typeof v === "string" ? v : null;
}

export function optNumber(o: JsonRecord, key: string): number | undefined {
  const v = o[key];
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function optBoolean(o: JsonRecord, key: string): boolean | undefined {
  const v = o[key];
  return typeof v === "boolean" ? v : undefined;
}

export function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === "string") out[k] = val;
  return out;
}

/** Parses a JSON body; an empty body is `undefined`; invalid JSON throws ResponseShapeError. */
export function parseJsonBody(body: string): unknown {
  if (body.trim() === "") return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new ResponseShapeError("(body)", "valid JSON");
  }
}
