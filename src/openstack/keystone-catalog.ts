import type { EndpointInterface } from "./clouds-config.js";
import { asRecord, isRecord, optString, reqArray, reqString } from "./json-read.js";
import { KeystoneError } from "./keystone-errors.js";

export interface CatalogEndpoint {
  serviceType: string;
  serviceName?: string;
  interface: string;
  region?: string;
  url: string;
}

export interface EndpointOptions {
  interface?: EndpointInterface;
  region?: string;
}

/** Flattens `token.catalog` into one row per endpoint; malformed entries are skipped. */
export function parseCatalog(catalog: unknown): CatalogEndpoint[] {
  if (!Array.isArray(catalog)) return [];
  const out: CatalogEndpoint[] = [];
  for (const svc of catalog) {
    if (!isRecord(svc) || typeof svc.type !== "string" || !Array.isArray(svc.endpoints)) continue;
    for (const ep of svc.endpoints) {
      if (!isRecord(ep) || typeof ep.url !== "string" || typeof ep.interface !== "string") continue;
      const row: CatalogEndpoint = { serviceType: svc.type, interface: ep.interface, url: ep.url };
      const name = optString(svc, "name");
      if (name !== undefined) row.serviceName = name;
      const region = optString(ep, "region_id") ?? optString(ep, "region");
      if (region !== undefined) row.region = region;
      out.push(row);
    }
  }
  return out;
}

/**
 * The URL of `serviceType` for the interface and region. Without a region, the catalog
 * must hold that service in one region only: picking one of several silently could point
 * vmkeeper at the wrong cloud.
 */
export function selectEndpoint(catalog: readonly CatalogEndpoint[], serviceType: string, opts: EndpointOptions = {}): string {
  const iface = opts.interface ?? "public";
  const ofType = catalog.filter((e) => e.serviceType === serviceType);
  if (ofType.length === 0) {
    const types = [...new Set(catalog.map((e) => e.serviceType))].sort().join(", ");
    throw new KeystoneError("EndpointNotFound", `the service catalog has no "${serviceType}" service (it has: ${types || "nothing"})`);
  }
  const matching = ofType.filter((e) => e.interface === iface && (opts.region === undefined || e.region === opts.region));
  const regions = [...new Set(matching.map((e) => e.region ?? "(none)"))];
  const first = matching[0];
  if (!first) {
    const have = ofType.map((e) => `${e.interface}@${e.region ?? "(no region)"}`).join(", ");
    throw new KeystoneError("EndpointNotFound", `no ${iface} "${serviceType}" endpoint${opts.region ? ` in region "${opts.region}"` : ""}; the catalog has: ${have}`);
  }
  if (regions.length > 1) {
    throw new KeystoneError("EndpointNotFound", `"${serviceType}" has ${iface} endpoints in several regions (${regions.join(", ")}); set region_name in clouds.yaml`);
  }
  return first.url.replace(/\/+$/, "");
}

/** Reads the parts of `{"token": {...}}` vmkeeper uses; throws ResponseShapeError when required parts are missing. */
export function parseTokenBody(body: unknown): { expiresAt: string; issuedAt?: string; catalog: CatalogEndpoint[]; projectId?: string; projectName?: string; userId?: string; userName?: string; roles: string[] } {
  const token = asRecord(asRecord(body, "(body)").token, "token");
  const expiresAt = reqString(token, "expires_at", "token");
  const catalog = parseCatalog(reqArray(token, "catalog", "token"));
  const project = isRecord(token.project) ? token.project : {};
  const user = isRecord(token.user) ? token.user : {};
  const roles = Array.isArray(token.roles) ? token.roles.flatMap((r) => (isRecord(r) && typeof r.name === "string" ? [r.name] : [])) : [];
  const out: ReturnType<typeof parseTokenBody> = { expiresAt, catalog, roles };
  const set = (k: "issuedAt" | "projectId" | "projectName" | "userId" | "userName", v: string | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set("issuedAt", optString(token, "issued_at"));
  set("projectId", optString(project, "id"));
  set("projectName", optString(project, "name"));
  set("userId", optString(user, "id"));
  set("userName", optString(user, "name"));
  return out;
}
