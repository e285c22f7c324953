import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { parseErrorBody } from "./error-body.js";
import { isTransportError, openstackRequestId, type HttpMethod, type HttpResponse } from "./http-transport.js";
import { ResponseShapeError, parseJsonBody } from "./json-read.js";
import type { EndpointOptions } from "./keystone-catalog.js";
import { isKeystoneError, type KeystoneError } from "./keystone-errors.js";
import type { AuthenticatedSession } from "./keystone-session.js";
import { formatMicroversion, type Microversion } from "./microversion.js";
import type { NovaError } from "./nova-errors.js";
import { NovaInvalidResponseError, NovaRateLimitedError, NovaServerError, NovaUnavailableError, novaErrorFor } from "./nova-errors.js";
import { backoffDelayMs, parseRetryAfter, type RetryPolicy } from "./retry-policy.js";
import { scrubSecrets } from "./secret-value.js";

export type QueryValue = string | number | boolean | undefined;

export interface NovaCall {
  /** e.g. `nova.forceDownService`; appears in logs and errors. */
  operation: string;
  method: HttpMethod;
  /** Path below the compute endpoint, starting with "/". */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /**
   * Safe to send again after a timeout or 5xx: GETs, and PUTs whose repeat leaves the same
   * state. POST actions are never marked idempotent.
   */
  idempotent: boolean;
  /** Send this microversion instead of the negotiated one. */
  microversion: Microversion;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Per-attempt deadline; defaults to the client's. */
  timeoutMs?: number;
}

export interface NovaResponse {
  status: number;
  body: unknown;
  requestId: string | undefined;
  headers: Record<string, string>;
}

export interface NovaHttpOptions {
  session: AuthenticatedSession;
  clock: Clock;
  logger: Logger;
  endpoint?: EndpointOptions;
  timeoutMs: number;
  retry: RetryPolicy;
  random: () => number;
}

/** Connection errors that prove the request never reached the server. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Sends Nova requests: microversion headers, per-attempt deadline, typed errors, and
 * retries with capped backoff and jitter for idempotent calls only.
 */
export class NovaHttp {
  constructor(private readonly o: NovaHttpOptions) {}

  endpoint(): Promise<string> {
    return this.o.session.endpoint("compute", this.o.endpoint);
  }

  /** Sends a call with retries as its idempotency allows; returns the 2xx response or throws a NovaError/KeystoneError. */
  async call(c: NovaCall, opts: CallOptions = {}): Promise<NovaResponse> {
    const base = await this.endpoint();
    return this.callUrl(c, base + c.path, opts);
  }

  async callUrl(c: NovaCall, baseUrl: string, opts: CallOptions = {}): Promise<NovaResponse> {
    const url = withQuery(baseUrl, c.query);
    for (let attempt = 1; ; attempt++) {
      const failure = await this.attempt(c, url, opts);
      if (!(failure instanceof Error)) return failure;
      const retryAfterMs = failure instanceof NovaRateLimitedError ? failure.retryAfterMs : undefined;
      if (!this.retryable(c, failure) || attempt >= this.o.retry.maxAttempts || opts.signal?.aborted) throw failure;
      const delayMs = backoffDelayMs(this.o.retry, attempt, this.o.random, retryAfterMs);
      this.o.logger.warn({ operation: c.operation, attempt, delayMs, status: statusOf(failure), requestId: requestIdOf(failure), error: failure.message }, "retrying safe Nova call");
      await this.o.clock.sleep(delayMs, opts.signal);
    }
  }

  private async attempt(c: NovaCall, url: string, opts: CallOptions): Promise<NovaResponse | NovaError | KeystoneError> {
    const version = formatMicroversion(c.microversion);
    const headers: Record<string, string> = { "openstack-api-version": `compute ${version}`, "x-openstack-nova-api-version": version };
    let res: HttpResponse;
    try {
      res = await this.o.session.request({
        operation: c.operation,
        method: c.method,
        url,
        headers,
        timeoutMs: opts.timeoutMs ?? this.o.timeoutMs,
        ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (e: unknown) {
      if (isKeystoneError(e)) return e;
      if (isTransportError(e)) {
        const notSent = e.code !== undefined && NOT_SENT_CODES.has(e.code);
        return new NovaUnavailableError({ operation: c.operation, novaMessage: scrubSecrets(e.message), outcomeUnknown: !c.idempotent && !notSent && e.kind !== "tls" && e.kind !== "invalid-url" });
      }
      throw e;
    }
    const requestId = openstackRequestId(res.headers);
    if (res.status >= 200 && res.status < 300) {
      try {
        return { status: res.status, body: parseJsonBody(res.body), requestId, headers: res.headers };
      } catch (e: unknown) {
        return this.invalid(c.operation, e, res.status, requestId);
      }
    }
    const novaMessage = scrubSecrets(parseErrorBody(res.body).message) || `HTTP ${res.status}`;
    const outcomeUnknown = !c.idempotent && res.status >= 500;
    const retryAfter = parseRetryAfter(res.headers["retry-after"], this.o.clock.now());
    const err = novaErrorFor({ operation: c.operation, status: res.status, novaMessage, outcomeUnknown, ...(requestId ? { requestId } : {}) }, retryAfter);
    this.o.logger.debug({ operation: c.operation, status: res.status, requestId, code: err.code }, "Nova call failed");
    return err;
  }

  /** Wraps a body that does not have the expected shape. */
  invalid(operation: string, e: unknown, status?: number, requestId?: string): NovaInvalidResponseError {
    const msg = e instanceof ResponseShapeError ? e.message : e instanceof Error ? e.message : "unreadable response";
    return new NovaInvalidResponseError({ operation, novaMessage: msg, ...(status !== undefined ? { status } : {}), ...(requestId ? { requestId } : {}) });
  }

  private retryable(c: NovaCall, e: NovaError | KeystoneError): boolean {
    if (!c.idempotent) return false;
    if (isKeystoneError(e)) return e.transient;
    return e instanceof NovaUnavailableError || e instanceof NovaServerError || e instanceof NovaRateLimitedError;
  }
}

export function withQuery(url: string, query: Record<string, QueryValue> | undefined): string {
  if (!query) return url;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, String(v));
  const qs = params.toString();
  return qs ? `${url}${url.includes("?") ? "&" : "?"}${qs}` : url;
}

function statusOf(e: NovaError | KeystoneError): number | undefined {
  return e.status;
}

function requestIdOf(e: NovaError | KeystoneError): string | undefined {
  return e.requestId;
}

