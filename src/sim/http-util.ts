import type { IncomingMessage, ServerResponse } from "node:http";

/** What a route handler answers. */
export interface HttpReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Route<C> {
  method: string;
  segments: string[];
  handler: (ctx: C, params: Record<string, string>) => HttpReply | Promise<HttpReply>;
}

/** A tiny path router: `{name}` segments capture one path segment; literal routes are tried first. */
export class Router<C> {
  private readonly routes: Route<C>[] = [];

  add(method: string, pattern: string, handler: Route<C>["handler"]): this {
    this.routes.push({ method, segments: splitPath(pattern), handler });
    this.routes.sort((a, b) => literalScore(b) - literalScore(a));
    return this;
  }

  /** The matching route and its parameters; `methodMismatch` when only the method differs. */
  match(method: string, path: string): { route: Route<C>; params: Record<string, string> } | "methodMismatch" | undefined {
    const segs = splitPath(path);
    let pathMatched = false;
    for (const r of this.routes) {
      if (r.segments.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length && ok; i++) {
        const p = r.segments[i] ?? "";
        const s = segs[i] ?? "";
        if (p.startsWith("{") && p.endsWith("}")) params[p.slice(1, -1)] = decodeURIComponent(s);
        else ok = p === s;
      }
      if (!ok) continue;
      pathMatched = true;
      if (r.method === method || (method === "HEAD" && r.method === "GET")) return { route: r, params };
    }
    return pathMatched ? "methodMismatch" : undefined;
  }
}

function literalScore(r: { segments: string[] }): number {
  let score = 0;
  r.segments.forEach((s, i) => {
    if (!s.startsWith("{")) score += 1 / (i + 1);
  });
  return score;
}

export function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s.length > 0);
}

/** Reads and parses a JSON body; empty bodies are undefined. Throws HttpError(400) on bad JSON. */
export async function readJsonBody(req: IncomingMessage, maxBytes = 8 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > maxBytes) throw new HttpError(413, "Request is too large.");
    chunks.push(b);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new HttpError(400, "Malformed request body");
  }
}

export function sendReply(res: ServerResponse, reply: HttpReply, extraHeaders: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  const headers: Record<string, string> = { ...extraHeaders, ...reply.headers };
  let payload: string | undefined;
  if (reply.body !== undefined && reply.status !== 204 && reply.status !== 304) {
    payload = JSON.stringify(reply.body);
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(payload));
  } else {
    headers["content-length"] = "0";
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function optString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === "string" ? v : undefined;
}
