import type { IncomingHttpHeaders } from "node:http";
import { HttpError, isRecord, optString, Router, type HttpReply } from "./http-util.js";
import { KeystoneError, type AuthRequest, type IssuedToken, type KeystoneModel } from "./keystone-model.js";

export interface KeystoneRequest {
  keystone: KeystoneModel;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  body: unknown;
  baseUrl: string;
}

const TITLES: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found" };

/** Keystone's error body: {"error": {"code", "message", "title"}}. */
export function keystoneError(status: number, message: string): HttpReply {
  return { status, body: { error: { code: status, message, title: TITLES[status] ?? "Error" } } };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function ksTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}.${String(d.getUTCMilliseconds() * 1000).padStart(6, "0")}Z`;
}

export function serviceCatalog(baseUrl: string, region: string): unknown[] {
  const endpoints = (url: string, prefix: string): unknown[] =>
    ["public", "internal", "admin"].map((iface) => ({ id: `${prefix}-${iface}`, interface: iface, region, region_id: region, url }));
  return [
    { id: "compute", type: "compute", name: "nova", endpoints: endpoints(`${baseUrl}/v2.1`, "compute") },
    { id: "identity", type: "identity", name: "keystone", endpoints: endpoints(`${baseUrl}/v3`, "identity") },
  ];
}

/** The token body Keystone returns on issue and validation. */
export function tokenBody(ks: KeystoneModel, t: IssuedToken, baseUrl: string, withCatalog: boolean): unknown {
  const user = ks.users.get(t.userId);
  const project = t.projectId ? ks.projects.get(t.projectId) : undefined;
  const token: Record<string, unknown> = {
    methods: t.methods,
    user: { id: t.userId, name: user?.name, domain: { id: "default", name: "Default" }, password_expires_at: null },
    audit_ids: [t.auditId],
    issued_at: ksTime(ks.wallAt(t.issuedAtMs)),
    expires_at: ksTime(ks.wallAt(t.expiresAtMs)),
  };
  if (project) {
    token.project = { id: project.id, name: project.name, domain: { id: "default", name: "Default" } };
    token.is_domain = false;
    token.roles = t.roles.map((r) => ({ id: ks.roleByName(r)?.id ?? r, name: r }));
    if (withCatalog) token.catalog = serviceCatalog(baseUrl, ks.region);
  }
  if (t.appCredentialId) token.application_credential = { id: t.appCredentialId, restricted: true };
  return { token };
}

function parseScope(scope: unknown): AuthRequest["scope"] {
  if (scope === undefined) return undefined;
  if (scope === "unscoped") return { unscoped: true };
  if (!isRecord(scope)) throw new KeystoneError(400, "Invalid scope.");
  if (isRecord(scope.system) || isRecord(scope.domain)) throw new KeystoneError(401, "The request you have made requires authentication.");
  const p = scope.project;
  if (!isRecord(p)) throw new KeystoneError(400, "Expecting to find project in scope.");
  return { projectId: optString(p, "id"), projectName: optString(p, "name"), domainName: isRecord(p.domain) ? optString(p.domain, "name") : undefined };
}

/** Parses POST /v3/auth/tokens; Keystone's 400s for a malformed body. */
export function parseAuthRequest(body: unknown): AuthRequest {
  const auth = isRecord(body) ? body.auth : undefined;
  const identity = isRecord(auth) ? auth.identity : undefined;
  if (!isRecord(auth) || !isRecord(identity) || !Array.isArray(identity.methods)) {
    throw new KeystoneError(400, "Expecting to find identity in auth - the server could not comply with the request since it is either malformed or otherwise incorrect.");
  }
  const req: AuthRequest = { methods: identity.methods.filter((m): m is string => typeof m === "string"), scope: parseScope(auth.scope) };
  const pw = identity.password;
  if (isRecord(pw) && isRecord(pw.user)) {
    const u = pw.user;
    req.password = { userId: optString(u, "id"), userName: optString(u, "name"), domainName: isRecord(u.domain) ? optString(u.domain, "name") : undefined, password: optString(u, "password") ?? "" };
  }
  const ac = identity.application_credential;
  if (isRecord(ac)) {
    const u = isRecord(ac.user) ? ac.user : {};
    req.applicationCredential = { id: optString(ac, "id"), name: optString(ac, "name"), secret: optString(ac, "secret") ?? "", userId: optString(u, "id"), userName: optString(u, "name") };
  }
  const tok = identity.token;
  if (isRecord(tok)) req.token = { id: optString(tok, "id") ?? "" };
  return req;
}

function requireAuth(r: KeystoneRequest): IssuedToken {
  const t = r.keystone.validate(header(r.headers, "x-auth-token"));
  if (!t) throw new KeystoneError(401, "The request you have made requires authentication.");
  return t;
}

export function keystoneRouter(): Router<KeystoneRequest> {
  const router = new Router<KeystoneRequest>();
  router.add("GET", "/v3", (r) => ({
    status: 200,
    body: { version: { id: "v3.14", status: "stable", updated: "2020-04-07T00:00:00Z", links: [{ rel: "self", href: `${r.baseUrl}/v3/` }], "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }] } },
  }));
  router.add("POST", "/v3/auth/tokens", (r) => {
    const t = r.keystone.authenticate(parseAuthRequest(r.body));
    return { status: 201, headers: { "x-subject-token": t.id }, body: tokenBody(r.keystone, t, r.baseUrl, !r.query.has("nocatalog")) };
  });
  router.add("GET", "/v3/auth/tokens", (r) => {
    requireAuth(r);
    const subject = r.keystone.validate(header(r.headers, "x-subject-token"));
    if (!subject) throw new KeystoneError(404, `Could not find token: ${header(r.headers, "x-subject-token") ?? ""}.`);
    return { status: 200, headers: { "x-subject-token": subject.id }, body: tokenBody(r.keystone, subject, r.baseUrl, !r.query.has("nocatalog")) };
  });
  router.add("DELETE", "/v3/auth/tokens", (r) => {
    requireAuth(r);
    const id = header(r.headers, "x-subject-token") ?? "";
    if (!r.keystone.validate(id)) throw new KeystoneError(404, `Could not find token: ${id}.`);
    r.keystone.revoke(id);
    return { status: 204 };
  });
  router.add("GET", "/v3/auth/catalog", (r) => {
    requireAuth(r);
    return { status: 200, body: { catalog: serviceCatalog(r.baseUrl, r.keystone.region), links: { self: `${r.baseUrl}/v3/auth/catalog` } } };
  });
  router.add("GET", "/v3/auth/projects", (r) => {
    const t = requireAuth(r);
    const user = r.keystone.users.get(t.userId);
    const projects = [...(user?.roles.keys() ?? [])].map((id) => r.keystone.projects.get(id)).filter((p) => p !== undefined);
    return { status: 200, body: { projects: projects.map((p) => ({ id: p.id, name: p.name, domain_id: p.domainId, enabled: true, is_domain: false })) } };
  });
  return router;
}

/** Runs a Keystone route, mapping its errors to Keystone's bodies. */
export async function handleKeystone(router: Router<KeystoneRequest>, method: string, path: string, r: KeystoneRequest): Promise<HttpReply> {
  const m = router.match(method, path);
  if (m === undefined) return keystoneError(404, "The resource could not be found.");
  if (m === "methodMismatch") return { status: 405, body: { error: { code: 405, message: "The method is not allowed for the requested URL.", title: "Method Not Allowed" } } };
  try {
    return await m.route.handler(r, m.params);
  } catch (err: unknown) {
    if (err instanceof KeystoneError || err instanceof HttpError) return keystoneError(err.status, err.message);
    throw err;
  }
}
