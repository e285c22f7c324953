import type { HttpTransport, TransportErrorKind } from "../openstack/http-transport.js";
import { isTransportError } from "../openstack/http-transport.js";
import { NodeHttpTransport } from "../openstack/node-http-transport.js";

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** PEM bundle that replaces the default roots for this endpoint. */
  caPem?: string;
  signal?: AbortSignal;
}

export interface WebhookResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
}

/**
 * The notifier's one door to the network. Implementations must not follow redirects and
 * must reject with a PostError when no HTTP response arrived.
 */
export interface HttpPoster {
  post(req: WebhookPost): Promise<WebhookResponse>;
}

export type PostErrorKind = TransportErrorKind | "unknown";

/** No HTTP response. The message never contains the URL (webhook paths often carry tokens). */
export class PostError extends Error {
  override readonly name = "PostError";

  constructor(
    readonly kind: PostErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * HttpPoster over the OpenStack layer's HttpTransport (node:http/https with one agent per
 * CA bundle; it never follows redirects). Response bodies are read and ignored.
 */
export class TransportHttpPoster implements HttpPoster {
  constructor(private readonly transport: HttpTransport = new NodeHttpTransport({ keepAlive: true, maxResponseBytes: 1024 * 1024 })) {}

  async post(req: WebhookPost): Promise<WebhookResponse> {
    try {
      const res = await this.transport.request({
        method: "POST",
        url: req.url,
        headers: req.headers,
        body: req.body,
        timeoutMs: req.timeoutMs,
        ...(req.caPem !== undefined ? { caPem: req.caPem } : {}),
        ...(req.signal !== undefined ? { signal: req.signal } : {}),
      });
      return { status: res.status, headers: res.headers };
    } catch (e) {
      throw toPostError(e, req.timeoutMs);
    }
  }

  /** Closes idle sockets when the transport supports it. */
  close(): void {
    if (this.transport instanceof NodeHttpTransport) this.transport.close();
  }
}

function toPostError(e: unknown, timeoutMs: number): PostError {
  if (!isTransportError(e)) return new PostError("unknown", "request failed");
  const code = e.code ? ` (${e.code})` : "";
  switch (e.kind) {
    case "timeout":
      return new PostError("timeout", `no response within ${timeoutMs} ms`);
    case "tls":
      return new PostError("tls", `TLS error${code}`);
    case "connection":
      return new PostError("connection", `connection failed${code}`);
    case "aborted":
      return new PostError("aborted", "aborted");
    case "too-large":
      return new PostError("too-large", "response too large");
    case "invalid-url":
      return new PostError("invalid-url", "invalid URL");
  }
}
