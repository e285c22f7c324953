import { isTransportError, type HttpMethod, type HttpResponse, type HttpTransport } from "../../openstack/http-transport.js";
import type { RedfishTarget } from "../device-targets.js";
import { FenceDeviceError } from "../fence-device.js";
import { authFailure, transportFailure, unexpectedStatus, type RedfishRequestContext } from "./redfish-errors.js";
import { redfishPath } from "./redfish-resources.js";

export const DEFAULT_SESSIONS_PATH = "/redfish/v1/SessionService/Sessions";

interface Session {
  token: string;
  /** The session resource (`Location`), for logging out; some BMCs send none. */
  path?: string;
}

export interface RedfishRequest {
  method: HttpMethod;
  path: string;
  body?: unknown;
  /** false: send no credentials (the service root is readable without them). Default true. */
  auth?: boolean;
}

/**
 * One BMC's Redfish service: the base URL, TLS trust, and authentication. `Basic` sends the
 * credentials with every request. `Session` logs in once (POST to the Sessions collection),
 * sends `X-Auth-Token`, and logs in again once when the BMC answers 401 to a token it had
 * accepted before (sessions expire when idle). 401 and 403 become `AuthFailed`, network
 * failures their own reasons; any other status is returned to the caller.
 */
export class RedfishClient {
  readonly origin: string;
  readonly endpoint: string;
  /** Where Session auth logs in; the device sets it from the service root's `Links.Sessions`. */
  sessionsPath = DEFAULT_SESSIONS_PATH;
  /** Every token this client was given, so the device can scrub them from any message. */
  readonly tokens = new Set<string>();
  private session: Promise<Session> | undefined;

  constructor(
    private readonly target: RedfishTarget,
    private readonly transport: HttpTransport,
    private readonly requestTimeoutMs: number,
  ) {
    const host = target.address.includes(":") ? `[${target.address}]` : target.address;
    this.endpoint = `${host}:${target.port}`;
    this.origin = `${target.scheme === "HTTP" ? "http" : "https"}://${this.endpoint}`;
  }

  async request(req: RedfishRequest, signal: AbortSignal): Promise<HttpResponse> {
    if (req.auth === false || this.target.authMethod === "Basic") return this.send(req, signal);
    const pending = this.login(signal);
    const res = await this.send(req, signal, await pending, true);
    if (res.status !== 401) return res;
    // The session may have expired: log in again once; a second 401 is AuthFailed.
    if (this.session === pending) this.session = undefined;
    return this.send(req, signal, await this.login(signal));
  }

  /** Deletes the session, if there is one; failures are ignored (the BMC expires it anyway). */
  async logout(signal: AbortSignal): Promise<void> {
    const pending = this.session;
    this.session = undefined;
    if (pending === undefined) return;
    try {
      const s = await pending;
      if (s.path !== undefined) await this.send({ method: "DELETE", path: s.path }, signal, s, true);
    } catch {
      // nothing to clean up, or the BMC will time the session out
    }
  }

  private login(signal: AbortSignal): Promise<Session> {
    if (this.session === undefined) {
      const pending = this.createSession(signal);
      this.session = pending;
      pending.catch(() => {
        if (this.session === pending) this.session = undefined;
      });
    }
    return this.session;
  }

  private async createSession(signal: AbortSignal): Promise<Session> {
    const { username, password } = this.target.credentials;
    const req: RedfishRequest = { method: "POST", path: this.sessionsPath, body: { UserName: username, Password: password } };
    const res = await this.send({ ...req, auth: false }, signal);
    const ctx = this.context(req);
    if (res.status === 404 || res.status === 405) {
      throw new FenceDeviceError("Config", `Redfish BMC ${this.endpoint} offers no sessions (HTTP ${res.status} on ${ctx.request}); use authMethod Basic`);
    }
    if (res.status !== 200 && res.status !== 201) throw unexpectedStatus(res.status, res.body, ctx);
    const token = res.headers["x-auth-token"];
    if (!token) throw new FenceDeviceError("Protocol", `Redfish BMC ${this.endpoint}: login answered HTTP ${res.status} without an X-Auth-Token`);
    this.tokens.add(token);
    const location = res.headers.location;
    return location ? { token, path: redfishPath(location, "Location") } : { token };
  }

  private context(req: RedfishRequest): RedfishRequestContext {
    return { endpoint: this.endpoint, request: `${req.method} ${req.path}` };
  }

  /** One request; 401 / 403 throw AuthFailed, except a 401 to a session token when `tokenMayExpire`. */
  private async send(req: RedfishRequest, signal: AbortSignal, session?: Session, tokenMayExpire = false): Promise<HttpResponse> {
    const ctx = this.context(req);
    const headers: Record<string, string> = { accept: "application/json", "odata-version": "4.0" };
    if (req.body !== undefined) headers["content-type"] = "application/json";
    if (session !== undefined) headers["x-auth-token"] = session.token;
    else if (req.auth !== false && this.target.authMethod === "Basic") {
      const { username, password } = this.target.credentials;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
    }
    let res: HttpResponse;
    try {
      res = await this.transport.request({
        method: req.method,
        url: `${this.origin}${req.path}`,
        headers,
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
        timeoutMs: this.requestTimeoutMs,
        ...(this.target.scheme === "HTTPS" ? this.tls() : {}),
        signal,
      });
    } catch (e: unknown) {
      if (isTransportError(e)) throw transportFailure(e, ctx);
      throw e;
    }
    if (res.status === 401 && tokenMayExpire) return res;
    if (res.status === 401 || res.status === 403) throw authFailure(res.status, this.target.credentials.username, ctx);
    return res;
  }

  private tls(): { caPem?: string; rejectUnauthorized: boolean } {
    if (this.target.insecureSkipTLSVerify) return { rejectUnauthorized: false };
    return this.target.caBundle ? { caPem: this.target.caBundle, rejectUnauthorized: true } : { rejectUnauthorized: true };
  }
}
