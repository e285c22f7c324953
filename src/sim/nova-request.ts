import { atLeast, type Microversion } from "./microversion.js";
import { badRequest, forbidden } from "./nova-error.js";
import type { NovaModel } from "./nova-model.js";
import type { RequestContext } from "./nova-types.js";

/** One authenticated compute request, as handlers see it. */
export interface NovaRequest {
  nova: NovaModel;
  ctx: RequestContext;
  version: Microversion;
  query: URLSearchParams;
  body: unknown;
  /** Scheme, host and port the client used. */
  baseUrl: string;
  /** Path below /v2.1, for pagination links. */
  path: string;
}

/** Admin-only API: Nova's policy refusal otherwise. */
export function requireAdmin(r: NovaRequest, rule: string): void {
  if (!r.ctx.isAdmin) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
}

export function queryInt(r: NovaRequest, name: string): number | undefined {
  const v = r.query.get(name);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`Invalid input for query parameters ${name}. Value: ${v}. '${v}' does not match '^[0-9]*$'`);
  return Number(v);
}

export function queryBool(r: NovaRequest, name: string): boolean | undefined {
  const v = r.query.get(name);
  if (v === null) return undefined;
  const t = v.toLowerCase();
  if (["1", "true", "t", "yes", "y", "on", ""].includes(t)) return true;
  if (["0", "false", "f", "no", "n", "off"].includes(t)) return false;
  throw badRequest(`Invalid input for query parameters ${name}. Value: ${v}.`);
}

export function queryList(r: NovaRequest, name: string): string[] | undefined {
  const v = r.query.get(name);
  return v === null ? undefined : v.split(",").filter((t) => t.length > 0);
}

/** From 2.75, unknown query parameters are refused instead of ignored. */
export function rejectUnknownQuery(r: NovaRequest, allowed: ReadonlySet<string>, since = 75): void {
  if (!atLeast(r.version, since)) return;
  for (const key of r.query.keys()) {
    if (!allowed.has(key)) throw badRequest(`Invalid input for query parameters ${key}. Additional properties are not allowed ('${key}' was unexpected)`);
  }
}

/** Nova's `<collection>_links`: a next link keeping the query and replacing the marker. */
export function nextLinks(r: NovaRequest, next: string | null): Array<{ rel: string; href: string }> | undefined {
  if (next === null) return undefined;
  const q = new URLSearchParams(r.query);
  q.set("marker", next);
  return [{ rel: "next", href: `${r.baseUrl}/v2.1${r.path}?${q.toString()}` }];
}

/** Checks a request body object against the keys a microversion allows (Nova's JSON schema). */
export function checkKeys(field: string, o: Record<string, unknown>, allowed: readonly string[], required: readonly string[] = []): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(o)}. Additional properties are not allowed ('${k}' was unexpected)`);
  }
  for (const k of required) {
    if (!(k in o)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(o)}. '${k}' is a required property`);
  }
}
