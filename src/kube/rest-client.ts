import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError, KubeTransportError } from "./api-error.js";

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptionsLite {
  query?: Query;
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: Record<string, unknown>;
}

/** Called before every mutating request; throws to refuse it (the leader-election write fence). */
export type WriteGuard = (method: string, path: string) => void;

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * A small REST client for the Kubernetes API on top of client-node's KubeConfig (which
 * handles every kubeconfig auth flavour). It exists so that controllers get one place for
 * timeouts, keep-alive, subresources, server-side apply, metadata-only lists and the write
 * guard that stops a deposed leader from writing.
 */
export class KubeRestClient {
  private readonly server: URL;
  private agent: HttpsAgent | HttpAgent | undefined;
  private writeGuard: WriteGuard | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: { userAgent: string; defaultTimeoutMs: number } = { userAgent: "vmkeeper", defaultTimeoutMs: 30_000 },
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    this.server = new URL(cluster.server);
  }

  /** Installs the guard consulted before every POST/PUT/PATCH/DELETE except those marked `unguarded`. */
  setWriteGuard(guard: WriteGuard | undefined): void {
    this.writeGuard = guard;
  }

  async request<T>(method: string, path: string, o: RequestOptionsLite & { unguarded?: boolean } = {}): Promise<T> {
    if (MUTATING.has(method) && !o.unguarded) this.writeGuard?.(method, path);
    const res = await this.send(method, path, o);
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
    throw toApiError(status, text, method, path);
  }

  /**
   * Streams a watch. Resolves when the server ends the stream (its timeout), rejects on
   * transport errors; ERROR events are passed to `onEvent` for the caller to interpret.
   */
  async watch(path: string, query: Query, onEvent: (ev: WatchEvent) => void, o: { accept?: string; signal?: AbortSignal } = {}): Promise<void> {
    const res = await this.send("GET", path, { query: { ...query, watch: true }, accept: o.accept, signal: o.signal, timeoutMs: 0 });
    if ((res.statusCode ?? 0) >= 300) throw toApiError(res.statusCode ?? 0, await readBody(res), "GET", path);
    await new Promise<void>((resolve, reject) => {
      let buf = "";
      // An error thrown by onEvent (e.g. "410 Gone, relist") ends the stream and is
      // handed back to the caller as it was thrown, not as a transport error.
      let failed: unknown;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (failed !== undefined) return;
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            onEvent(JSON.parse(line) as WatchEvent);
          } catch (err: unknown) {
            failed = err;
            res.destroy();
            return;
          }
        }
      });
      const finish = (err?: Error): void => {
        if (failed !== undefined) reject(failed instanceof Error ? failed : new Error("watch event handler failed"));
        else if (err) reject(new KubeTransportError(err.message, "WATCH", path));
        else if (res.complete) resolve();
        else reject(new KubeTransportError("watch stream closed", "WATCH", path));
      };
      res.on("error", (err) => finish(err));
      res.on("close", () => finish());
    });
  }

  private async send(method: string, path: string, o: RequestOptionsLite): Promise<IncomingMessage> {
    const url = new URL(this.server.toString().replace(/\/$/, "") + path);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = o.body === undefined ? undefined : typeof o.body === "string" ? o.body : JSON.stringify(o.body);
    const options: RequestOptions = {
      method,
      headers: {
        accept: o.accept ?? "application/json",
        "user-agent": this.opts.userAgent,
        ...(body !== undefined ? { "content-type": o.contentType ?? "application/json", "content-length": Buffer.byteLength(body) } : {}),
      },
    };
    // Re-applied on every request so rotating tokens (in-cluster, exec plugins) stay fresh.
    await this.kc.applyToHTTPSOptions(options);
    options.agent = this.agentFor(options);
    const isHttps = url.protocol === "https:";
    const timeoutMs = o.timeoutMs ?? this.opts.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const req = (isHttps ? httpsRequest : httpRequest)(url, options, resolve);
      req.on("error", (err) => reject(new KubeTransportError(err.message, method, path)));
      if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      if (o.signal) {
        if (o.signal.aborted) req.destroy(new Error("aborted"));
        o.signal.addEventListener("abort", () => req.destroy(new Error("aborted")), { once: true });
      }
      req.end(body);
    });
  }

  private agentFor(options: RequestOptions): HttpsAgent | HttpAgent {
    if (this.agent) return this.agent;
    if (this.server.protocol === "http:") {
      this.agent = new HttpAgent({ keepAlive: true });
    } else {
      this.agent = new HttpsAgent({
        keepAlive: true,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        pfx: options.pfx,
        passphrase: options.passphrase,
        rejectUnauthorized: options.rejectUnauthorized,
        servername: options.servername,
      });
    }
    return this.agent;
  }

  /** Closes idle keep-alive connections (on shutdown). */
  close(): void {
    this.agent?.destroy();
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (d: string) => (text += d));
    res.on("end", () => resolve(text));
    res.on("error", reject);
  });
}

function toApiError(status: number, text: string, method: string, path: string): KubeApiError {
  let reason = "Unknown";
  let message = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    reason = parsed.reason ?? reason;
    message = parsed.message ?? message;
  } catch {
    // Not a Status object; keep the raw text.
  }
  return new KubeApiError(status, reason, message, method, path);
}
