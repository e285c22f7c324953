import { PassThrough } from "node:stream";
import type { FakeClock } from "../../../src/util/fake-clock.js";
import { createLogger, type Logger } from "../../../src/util/logger.js";
import type { HttpRequest, HttpResponse, HttpTransport } from "../../../src/openstack/http-transport.js";

export const KEYSTONE = "http://keystone.test:5000/v3";
export const NOVA = "http://nova.test:8774/v2.1";
export const NOVA_R2 = "http://nova-r2.test:8774/v2.1";
export const PROJECT_ID = "p-123";

export interface FakeCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  token: string | undefined;
}

export type Handler = (call: FakeCall) => HttpResponse | Promise<HttpResponse>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { "content-type": "application/json", ...headers }, body: body === undefined ? "" : JSON.stringify(body) };
}

/** A Nova error body the way Nova writes it. */
export function novaFault(status: number, fault: string, message: string, requestId = `req-${status}`): HttpResponse {
  return json(status, { [fault]: { code: status, message } }, { "x-openstack-request-id": requestId, "x-compute-request-id": requestId });
}

/**
 * A scripted Keystone + Nova behind HttpTransport. Keystone issues tokens `tok-N` valid for
 * `tokenLifetimeMs` on the fake clock; Nova answers 401 for unknown tokens, 406 outside
 * [computeMin, computeMax], and routes the rest to handlers (latest registered wins).
 */
export class FakeOpenStack implements HttpTransport {
  readonly calls: FakeCall[] = [];
  readonly authBodies: unknown[] = [];
  readonly requests: HttpRequest[] = [];
  computeMin = "2.1";
  computeMax = "2.93";
  tokenLifetimeMs = 3_600_000;
  authStatus = 201;
  private readonly valid = new Set<string>();
  private tokens = 0;
  private routes: { method: string; pattern: RegExp; handler: Handler }[] = [];

  constructor(private readonly clock: FakeClock) {
    this.on("GET", /^\/$/, () => json(200, { version: { id: "v2.1", status: "CURRENT", version: this.computeMax, min_version: this.computeMin, links: [] } }));
  }

  on(method: string, pattern: RegExp, handler: Handler): this {
    this.routes.unshift({ method, pattern, handler });
    return this;
  }

  /** Answers the next `n` matching calls with `responses` in order, then falls through. */
  script(method: string, pattern: RegExp, responses: (HttpResponse | Error)[]): this {
    const queue = [...responses];
    const route = { method, pattern, handler: (): HttpResponse => {
      const next = queue.shift();
      if (queue.length === 0) this.routes = this.routes.filter((r) => r !== route);
      if (next instanceof Error) throw next;
      if (!next) throw new Error("script exhausted");
      return next;
    } };
    this.routes.unshift(route);
    return this;
  }

  /** Makes every issued token invalid (as if it expired or was revoked). */
  revokeTokens(): void {
    this.valid.clear();
  }

  get issuedTokens(): number {
    return this.tokens;
  }

  novaCalls(method?: string, pattern?: RegExp): FakeCall[] {
    return this.calls.filter((c) => (method === undefined || c.method === method) && (pattern === undefined || pattern.test(c.path)));
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    const url = new URL(req.url);
    const body = req.body ? (JSON.parse(req.body) as unknown) : undefined;
    if (req.url.startsWith(KEYSTONE)) return this.keystone(url, body);
    const token = req.headers?.["x-auth-token"];
    const base = req.url.startsWith(NOVA_R2) ? NOVA_R2 : NOVA;
    const path = url.pathname.slice(new URL(base).pathname.length).replace(/^\/p-123(?=\/|$)/, "") || "/";
    const call: FakeCall = { method: req.method, path, query: url.searchParams, headers: req.headers ?? {}, body, token };
    this.calls.push(call);
    if (path !== "/" && (!token || !this.valid.has(token))) {
      return json(401, { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } }, { "x-openstack-request-id": "req-401" });
    }
    const bad = this.checkMicroversion(call);
    if (bad) return bad;
    const route = this.routes.find((r) => r.method === req.method && r.pattern.test(path));
    if (!route) return novaFault(404, "itemNotFound", `no route ${req.method} ${path}`);
    return route.handler(call);
  }

  private checkMicroversion(call: FakeCall): HttpResponse | undefined {
    const header = call.headers["openstack-api-version"];
    if (call.path === "/" || !header) return undefined;
    const v = header.replace(/^compute\s+/, "");
    const num = (s: string): number => Number(s.split(".")[1]);
    if (num(v) > num(this.computeMax) || num(v) < num(this.computeMin)) {
      return novaFault(406, "computeFault", `Version ${v} is not supported by the API. Minimum is ${this.computeMin} and maximum is ${this.computeMax}.`);
    }
    return undefined;
  }

  private keystone(url: URL, body: unknown): HttpResponse {
    if (url.pathname !== "/v3/auth/tokens") return json(404, { error: { code: 404, message: "not found" } });
    this.authBodies.push(body);
    if (this.authStatus !== 201) {
      return json(this.authStatus, { error: { code: this.authStatus, title: "Unauthorized", message: "The request you have made requires authentication." } }, { "x-openstack-request-id": "req-ks" });
    }
    const value = `tok-${++this.tokens}`;
    this.valid.add(value);
    const now = this.clock.now();
    const token = {
      issued_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.tokenLifetimeMs).toISOString(),
      project: { id: PROJECT_ID, name: "admin", domain: { id: "default" } },
      user: { id: "u-1", name: "vmkeeper" },
      roles: [{ id: "r1", name: "admin" }],
      catalog: [
        { type: "identity", name: "keystone", endpoints: [{ interface: "public", region_id: "RegionOne", region: "RegionOne", url: "http://keystone.test:5000" }] },
        {
          type: "compute",
          name: "nova",
          endpoints: [
            { interface: "public", region_id: "RegionOne", url: `${NOVA}/${PROJECT_ID}` },
            { interface: "internal", region_id: "RegionOne", url: "http://nova-internal.test:8774/v2.1" },
            { interface: "public", region_id: "RegionTwo", url: NOVA_R2 },
          ],
        },
      ],
    };
    return json(201, { token }, { "x-subject-token": value, "x-openstack-request-id": "req-auth" });
  }
}

/** Advances the fake clock until `p` settles (retries sleep on it). */
export async function settle<T>(clock: FakeClock, p: Promise<T>, stepMs = 250, maxSteps = 2000): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  watched.catch(() => undefined);
  for (let i = 0; i < maxSteps && !done; i++) await clock.advance(stepMs);
  return watched;
}

/** A real pino logger writing into memory, to check what reaches log lines. */
export function captureLogger(): { logger: Logger; text: () => string } {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on("data", (d: Buffer) => chunks.push(d.toString()));
  return { logger: createLogger({ level: "debug", destination: out }), text: () => chunks.join("") };
}
