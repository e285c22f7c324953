import { createHash } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import { TransportError, safeUrl, type HttpRequest, type HttpResponse, type HttpTransport } from "./http-transport.js";

export interface NodeHttpTransportOptions {
  /** Reuse connections (default true). Some uwsgi set-ups reset kept-alive sockets. */
  keepAlive?: boolean;
  maxSockets?: number;
  /** Responses larger than this fail with kind `too-large` (default 64 MiB). */
  maxResponseBytes?: number;
  /** Default deadline when a request has none (default 60 s). */
  defaultTimeoutMs?: number;
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH)/;

/**
 * HttpTransport on node:http/https, with one keep-alive agent per CA setting so that a
 * custom CA bundle never leaks into requests to other endpoints.
 */
export class NodeHttpTransport implements HttpTransport {
  private readonly agents = new Map<string, https.Agent>();
  private readonly httpAgent: http.Agent;
  private readonly keepAlive: boolean;
  private readonly maxSockets: number;
  private readonly maxBytes: number;
  private readonly defaultTimeoutMs: number;

  constructor(options: NodeHttpTransportOptions = {}) {
    this.keepAlive = options.keepAlive ?? true;
    this.maxSockets = options.maxSockets ?? 16;
    this.maxBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 60_000;
    this.httpAgent = new http.Agent({ keepAlive: this.keepAlive, maxSockets: this.maxSockets });
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return Promise.reject(new TransportError("invalid-url", "invalid request URL"));
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return Promise.reject(new TransportError("invalid-url", `unsupported protocol ${url.protocol}`));
    }
    return new Promise((resolve, reject) => this.send(url, req, resolve, reject));
  }

  /** Closes idle sockets of every agent. */
  close(): void {
    this.httpAgent.destroy();
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  private agentFor(req: HttpRequest): https.Agent {
    const verify = req.rejectUnauthorized !== false;
    const key = `${verify}|${req.caPem ? createHash("sha256").update(req.caPem).digest("hex") : "default"}`;
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new https.Agent({ keepAlive: this.keepAlive, maxSockets: this.maxSockets, rejectUnauthorized: verify, ...(req.caPem ? { ca: req.caPem } : {}) });
      this.agents.set(key, agent);
    }
    return agent;
  }

  private send(url: URL, req: HttpRequest, resolve: (r: HttpResponse) => void, reject: (e: Error) => void): void {
    const where = `${req.method} ${safeUrl(req.url)}`;
    if (req.signal?.aborted) {
      reject(new TransportError("aborted", `${where} aborted`));
      return;
    }
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers["content-length"] = String(Buffer.byteLength(req.body));
    const options: http.RequestOptions = { method: req.method, headers, agent: url.protocol === "https:" ? this.agentFor(req) : this.httpAgent };
    const mod = url.protocol === "https:" ? https : http;
    let settled = false;
    const finish = (err: Error | undefined, res?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else if (res) resolve(res);
    };
    const r = mod.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > this.maxBytes) r.destroy(new TransportError("too-large", `${where}: response larger than ${this.maxBytes} bytes`));
        else chunks.push(c);
      });
      res.on("end", () => finish(undefined, { status: res.statusCode ?? 0, headers: flattenHeaders(res.headers), body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => finish(toTransportError(e, where)));
    });
    const timeoutMs = req.timeoutMs ?? this.defaultTimeoutMs;
    const timer = setTimeout(() => r.destroy(new TransportError("timeout", `${where}: no complete response within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => {
      r.destroy(new TransportError("aborted", `${where} aborted`));
    };
    req.signal?.addEventListener("abort", onAbort, { once: true });
    r.on("error", (e) => finish(toTransportError(e, where)));
    if (req.body !== undefined) r.write(req.body);
    r.end();
  }
}

function toTransportError(e: Error, where: string): TransportError {
  if (e instanceof TransportError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code && TLS_CODES.test(code)) return new TransportError("tls", `${where}: TLS error ${code}`, code);
  return new TransportError("connection", `${where}: connection failed (${code ?? e.message})`, code);
}

function flattenHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}
