export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Whole-request deadline (connect to last byte). */
  timeoutMs?: number;
  /** PEM bundle trusted for https (replaces the default roots). */
  caPem?: string;
  /** false turns certificate verification off. Default true. */
  rejectUnauthorized?: boolean;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

/** The one door to the network for the OpenStack layer; tests pass a fake. */
export interface HttpTransport {
  request(req: HttpRequest): Promise<HttpResponse>;
}

export type TransportErrorKind = "timeout" | "connection" | "tls" | "aborted" | "too-large" | "invalid-url";

/**
 * A request that got no HTTP response. `timeout` and `connection` after the request was
 * written leave the outcome unknown: the server may have acted on it.
 */
export class TransportError extends Error {
  override readonly name = "TransportError";

  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    /** Node's error code (ECONNREFUSED, CERT_HAS_EXPIRED, ...), when there is one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export function isTransportError(e: unknown): e is TransportError {
  return e instanceof TransportError;
}

/** The URL without query string or credentials, safe for messages and logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}

/** The request id an OpenStack API returned (`x-openstack-request-id`, else `x-compute-request-id`). */
export function openstackRequestId(headers: Record<string, string>): string | undefined {
  return headers["x-openstack-request-id"] ?? headers["x-compute-request-id"];
}
