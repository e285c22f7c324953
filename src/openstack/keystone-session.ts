import type { Logger } from "../util/logger.js";
import type { Clock } from "../util/clock.js";
import type { CloudConfig } from "./clouds-config.js";
import { parseErrorBody } from "./error-body.js";
import { isTransportError, openstackRequestId, safeUrl, type HttpMethod, type HttpResponse, type HttpTransport } from "./http-transport.js";
import { ResponseShapeError, parseJsonBody } from "./json-read.js";
import { buildAuthRequestBody, describePrincipal } from "./keystone-auth-body.js";
import { parseTokenBody, selectEndpoint, type CatalogEndpoint, type EndpointOptions } from "./keystone-catalog.js";
import { KeystoneError } from "./keystone-errors.js";
import { SecretValue, scrubSecrets } from "./secret-value.js";

export interface SessionRequest {
  /** Name of the operation, for logs and errors (e.g. `nova.forceDownService`). */
  operation: string;
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What service clients need from a session; KeystoneSession is the real one. */
export interface AuthenticatedSession {
  endpoint(serviceType: string, opts?: EndpointOptions): Promise<string>;
  /**
   * Sends the request with a valid token. A 401 makes the session re-authenticate once and
   * send the request once more (a 401 proves the service rejected it before acting).
   * Any other status is returned as is. Throws KeystoneError when no token can be had
   * (the request was then not sent) and TransportError when the request got no response.
   */
  request(req: SessionRequest): Promise<HttpResponse>;
}

/** Token facts without the token itself. */
export interface TokenInfo {
  expiresAt: Date;
  issuedAt?: Date;
  projectId?: string;
  projectName?: string;
  userId?: string;
  userName?: string;
  roles: string[];
}

interface CachedToken extends TokenInfo {
  value: SecretValue;
  catalog: CatalogEndpoint[];
}

export interface KeystoneSessionOptions {
  cloud: CloudConfig;
  transport: HttpTransport;
  clock: Clock;
  logger: Logger;
  /** Refresh this long before `expires_at` (default 5 min; at most a quarter of the token's life). */
  refreshMarginMs?: number;
  /** Deadline of the auth request (default: the cloud's api_timeout, else 30 s). */
  authTimeoutMs?: number;
  userAgent?: string;
}

const DEFAULT_MARGIN_MS = 5 * 60_000;

/** Keystone v3 session: password, application-credential or token auth, token cache, catalog. */
export class KeystoneSession implements AuthenticatedSession {
  private token: CachedToken | undefined;
  private inflight: Promise<CachedToken> | undefined;
  private authentications = 0;
  private readonly log: Logger;

  constructor(private readonly o: KeystoneSessionOptions) {
    this.log = o.logger.child({ component: "keystone", cloud: o.cloud.cloudName });
  }

  /** Number of successful authentications so far (for tests and metrics). */
  get authCount(): number {
    return this.authentications;
  }

  /** The current token's facts, if there is one. */
  tokenInfo(): TokenInfo | undefined {
    if (!this.token) return undefined;
    const { value: _v, catalog: _c, ...info } = this.token;
    return info;
  }

  /** The catalog of the current (or a new) token. */
  async catalog(signal?: AbortSignal): Promise<readonly CatalogEndpoint[]> {
    return (await this.validToken(signal)).catalog;
  }

  /** Forgets the token; the next request authenticates. */
  invalidate(): void {
    this.token = undefined;
  }

  /** Authenticates now (or joins an authentication in flight) and returns the token's facts. */
  async authenticate(signal?: AbortSignal): Promise<TokenInfo> {
    this.token = undefined;
    await this.sharedAuth(signal);
    const info = this.tokenInfo();
    if (!info) throw new KeystoneError("InvalidResponse", "token vanished after authentication");
    return info;
  }

  async endpoint(serviceType: string, opts: EndpointOptions = {}): Promise<string> {
    const token = await this.validToken();
    const region = opts.region ?? this.o.cloud.regionName;
    return selectEndpoint(token.catalog, serviceType, { interface: opts.interface ?? this.o.cloud.interface, ...(region !== undefined ? { region } : {}) });
  }

  async request(req: SessionRequest): Promise<HttpResponse> {
    const first = await this.validToken(req.signal);
    const res = await this.send(req, first);
    if (res.status !== 401) return res;
    this.log.info({ operation: req.operation, requestId: openstackRequestId(res.headers) }, "token rejected with 401; re-authenticating once");
    const second = await this.tokenAfterRejection(first, req.signal);
    return this.send(req, second);
  }

  private async send(req: SessionRequest, token: CachedToken): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: "application/json", ...req.headers, "x-auth-token": token.value.reveal() };
    if (req.body !== undefined) headers["content-type"] ??= "application/json";
    if (this.o.userAgent) headers["user-agent"] = this.o.userAgent;
    const started = this.o.clock.monotonicMs();
    const res = await this.o.transport.request({ method: req.method, url: req.url, headers, ...this.tls(), ...optional(req) });
    this.log.debug(
      { operation: req.operation, method: req.method, url: safeUrl(req.url), status: res.status, requestId: openstackRequestId(res.headers), durationMs: Math.round(this.o.clock.monotonicMs() - started) },
      "openstack request",
    );
    return res;
  }

  private tls(): { caPem?: string; rejectUnauthorized: boolean } {
    const c = this.o.cloud;
    return { rejectUnauthorized: c.verify, ...(c.caCertPem ? { caPem: c.caCertPem } : {}) };
  }

  private async validToken(signal?: AbortSignal): Promise<CachedToken> {
    const t = this.token;
    if (t && !this.needsRefresh(t)) return t;
    return this.sharedAuth(signal);
  }

  /** After a 401: a new token, unless another request already replaced the rejected one. */
  private async tokenAfterRejection(rejected: CachedToken, signal?: AbortSignal): Promise<CachedToken> {
    if (this.token && this.token !== rejected && !this.needsRefresh(this.token)) return this.token;
    if (this.token === rejected) this.token = undefined;
    return this.sharedAuth(signal);
  }

  private needsRefresh(t: CachedToken): boolean {
    const now = this.o.clock.now().getTime();
    const expires = t.expiresAt.getTime();
    let margin = this.o.refreshMarginMs ?? DEFAULT_MARGIN_MS;
    if (t.issuedAt) margin = Math.min(margin, Math.max(0, (expires - t.issuedAt.getTime()) / 4));
    return now >= expires - margin;
  }

  /** One authentication at a time; concurrent callers share it. */
  private sharedAuth(signal?: AbortSignal): Promise<CachedToken> {
    if (!this.inflight) {
      this.inflight = this.authenticateOnce(signal).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async authenticateOnce(signal?: AbortSignal): Promise<CachedToken> {
    const cloud = this.o.cloud;
    const url = `${cloud.authUrl}/auth/tokens`;
    const body = JSON.stringify(buildAuthRequestBody(cloud));
    const headers: Record<string, string> = { accept: "application/json", "content-type": "application/json" };
    if (this.o.userAgent) headers["user-agent"] = this.o.userAgent;
    let res: HttpResponse;
    try {
      res = await this.o.transport.request({ method: "POST", url, headers, body, timeoutMs: this.o.authTimeoutMs ?? cloud.apiTimeoutMs ?? 30_000, ...this.tls(), ...(signal ? { signal } : {}) });
    } catch (e: unknown) {
      const what = isTransportError(e) ? e.message : "request failed";
      throw new KeystoneError("Unreachable", this.scrub(`cannot reach Keystone at ${cloud.authUrl}: ${what}`));
    }
    const requestId = openstackRequestId(res.headers);
    if (res.status !== 201 && res.status !== 200) throw this.authError(res, requestId);
    const token = this.readToken(res, requestId);
    this.token = token;
    this.authentications++;
    this.log.info({ requestId, expiresAt: token.expiresAt.toISOString(), projectId: token.projectId, userId: token.userId }, "authenticated to Keystone");
    return token;
  }

  private readToken(res: HttpResponse, requestId: string | undefined): CachedToken {
    const subject = res.headers["x-subject-token"];
    if (!subject) throw new KeystoneError("InvalidResponse", `Keystone at ${this.o.cloud.authUrl} answered without an X-Subject-Token header`, res.status, requestId);
    try {
      const t = parseTokenBody(parseJsonBody(res.body));
      const expiresAt = new Date(t.expiresAt);
      if (Number.isNaN(expiresAt.getTime())) throw new ResponseShapeError("token.expires_at", "a timestamp");
      const token: CachedToken = { value: new SecretValue(subject), expiresAt, catalog: t.catalog, roles: t.roles };
      if (t.issuedAt !== undefined && !Number.isNaN(Date.parse(t.issuedAt))) token.issuedAt = new Date(t.issuedAt);
      if (t.projectId !== undefined) token.projectId = t.projectId;
      if (t.projectName !== undefined) token.projectName = t.projectName;
      if (t.userId !== undefined) token.userId = t.userId;
      if (t.userName !== undefined) token.userName = t.userName;
      return token;
    } catch (e: unknown) {
      const detail = e instanceof ResponseShapeError ? e.message : "unreadable body";
      throw new KeystoneError("InvalidResponse", `Keystone at ${this.o.cloud.authUrl} returned an unusable token (${detail}); is the token project-scoped?`, res.status, requestId);
    }
  }

  private authError(res: HttpResponse, requestId: string | undefined): KeystoneError {
    const cloud = this.o.cloud;
    const who = describePrincipal(cloud);
    const said = this.scrub(parseErrorBody(res.body).message);
    const tail = `(HTTP ${res.status}${requestId ? `, request ${requestId}` : ""}: ${said})`;
    if (res.status === 401) {
      return new KeystoneError("AuthFailed", `Keystone at ${cloud.authUrl} rejected the credentials of ${who} for cloud "${cloud.cloudName}" ${tail}`, 401, requestId);
    }
    if (res.status === 403) return new KeystoneError("Forbidden", `Keystone refused a token to ${who} ${tail}`, 403, requestId);
    if (res.status === 404) return new KeystoneError("NotFound", `${cloud.authUrl}/auth/tokens was not found: is auth_url the Keystone URL? ${tail}`, 404, requestId);
    if (res.status >= 500) return new KeystoneError("Unavailable", `Keystone at ${cloud.authUrl} failed ${tail}`, res.status, requestId);
    return new KeystoneError("BadRequest", `Keystone at ${cloud.authUrl} refused the auth request of ${who} ${tail}`, res.status, requestId);
  }

  private scrub(text: string): string {
    const a = this.o.cloud.auth;
    return scrubSecrets(text, [a.password, a.applicationCredentialSecret, a.token, this.token?.value]);
  }
}

function optional(req: SessionRequest): { body?: string; timeoutMs?: number; signal?: AbortSignal } {
  const out: { body?: string; timeoutMs?: number; signal?: AbortSignal } = {};
  if (req.body !== undefined) out.body = req.body;
  if (req.timeoutMs !== undefined) out.timeoutMs = req.timeoutMs;
  if (req.signal !== undefined) out.signal = req.signal;
  return out;
}
