import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { randomUUID } from "node:crypto";
import type { Clock } from "../util/clock.js";
import { adminRouter, type AdminRequest, type OutageMode } from "./admin-routes.js";
import { HttpError, readJsonBody, sendReply, splitPath, type HttpReply, type Router } from "./http-util.js";
import { handleKeystone, keystoneError, keystoneRouter, type KeystoneRequest } from "./keystone-routes.js";
import { negotiateMicroversion, parseMicroversion, DEFAULT_MAX_MICROVERSION, HIGHEST_SUPPORTED_MICROVERSION, compareMicroversions, versionResponseHeaders, type Microversion } from "./microversion.js";
import { NovaError, novaErrorBody } from "./nova-error.js";
import type { NovaRequest } from "./nova-request.js";
import { computeVersionEntry, computeVersions, novaRouter } from "./nova-routes.js";
import type { SimCloud } from "./sim-cloud.js";

export interface SimServerOptions {
  /** Loopback by default; the simulator is a test peer, not a service. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

const UNAUTHORIZED = "The request you have made requires authentication.";

/**
 * The HTTP face of a SimCloud: Keystone under /v3, Nova under / and /v2.1, the admin namespace
 * under /_sim. Fault knobs (latency, errors, hangs, outages) apply to everything but /_sim.
 */
export class SimServer {
  private http: HttpServer | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private outageMode: OutageMode = "none";
  private outageTimer: AbortController | undefined;
  private boundPort = 0;
  private readonly ks: Router<KeystoneRequest> = keystoneRouter();
  private readonly nova: Router<NovaRequest> = novaRouter();
  private readonly admin: Router<AdminRequest> = adminRouter();

  constructor(
    readonly cloud: SimCloud,
    private readonly opts: SimServerOptions = {},
  ) {}

  get clock(): Clock {
    return this.cloud.clock;
  }

  /** Base URL (http://127.0.0.1:PORT); valid after start(). */
  get url(): string {
    return `http://${this.opts.host ?? "127.0.0.1"}:${this.boundPort}`;
  }

  get authUrl(): string {
    return `${this.url}/v3`;
  }

  maxMicroversion(): Microversion {
    const v = parseMicroversion(this.cloud.nova.knobs.maxMicroversion) ?? DEFAULT_MAX_MICROVERSION;
    return compareMicroversions(v, HIGHEST_SUPPORTED_MICROVERSION) > 0 ? HIGHEST_SUPPORTED_MICROVERSION : v;
  }

  async start(): Promise<string> {
    await this.listen(this.opts.port ?? 0);
    return this.url;
  }

  private listen(port: number): Promise<void> {
    const http = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        sendReply(res, { status: 500, body: novaErrorBody(500, err instanceof Error ? err.message : String(err)) });
      });
    });
    http.keepAliveTimeout = 30_000;
    http.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    this.http = http;
    return new Promise((resolve, reject) => {
      http.once("error", reject);
      http.listen(port, this.opts.host ?? "127.0.0.1", () => {
        http.off("error", reject);
        this.boundPort = (http.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private async closeListener(): Promise<void> {
    const http = this.http;
    this.http = undefined;
    if (!http) return;
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  async stop(): Promise<void> {
    this.outageTimer?.abort();
    await this.closeListener();
  }

  outage(): OutageMode {
    return this.outageMode;
  }

  /**
   * `refuse` closes the listener (connection refused) and reopens it on the same port after
   * `durationMs`; `503` answers every API call with 503; `none` ends an outage.
   */
  setOutage(mode: OutageMode, durationMs?: number): void {
    this.outageTimer?.abort();
    this.outageTimer = undefined;
    const previous = this.outageMode;
    this.outageMode = mode;
    // Closed a moment later so the answer to the admin call that asked for it gets out first.
    if (mode === "refuse" && previous !== "refuse") {
      setTimeout(() => {
        if (this.outageMode === "refuse") void this.closeListener();
      }, 5);
    }
    if (mode !== "refuse" && previous === "refuse" && !this.http) {
      this.listen(this.boundPort).catch((err: unknown) => {
        process.emitWarning(`simulator could not listen again on port ${this.boundPort}: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    if (durationMs !== undefined && mode !== "none") {
      const ac = new AbortController();
      this.outageTimer = ac;
      this.clock.sleep(durationMs, ac.signal).then(
        () => this.setOutage("none"),
        () => undefined,
      );
    }
  }

  private baseUrl(req: IncomingMessage): string {
    return `http://${req.headers.host ?? `${this.opts.host ?? "127.0.0.1"}:${this.boundPort}`}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sim");
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : "/";
    const method = req.method ?? "GET";
    let body: unknown;
    try {
      body = await readJsonBody(req);
    } catch (err: unknown) {
      const e = err instanceof HttpError ? err : new HttpError(400, "Malformed request body");
      sendReply(res, { status: e.status, body: novaErrorBody(e.status, e.message) });
      return;
    }
    if (path === "/_sim" || path.startsWith("/_sim/")) {
      sendReply(res, this.handleAdmin(method, path, body));
      return;
    }
    if (this.outageMode === "503") {
      sendReply(res, { status: 503, body: novaErrorBody(503, "Service Unavailable") });
      return;
    }
    const decision = this.cloud.faults.decide(method, path);
    if (decision.hang) {
      this.hanging.add(res);
      res.on("close", () => this.hanging.delete(res));
      return;
    }
    if (decision.latencyMs > 0) await this.clock.sleep(decision.latencyMs);
    if (decision.errorStatus !== null) {
      const s = decision.errorStatus;
      sendReply(res, path.startsWith("/v3") ? keystoneError(s, "Injected fault") : { status: s, body: novaErrorBody(s, "Injected fault") });
      return;
    }
    const base = this.baseUrl(req);
    if (path === "/v3" || path.startsWith("/v3/")) {
      sendReply(res, await handleKeystone(this.ks, method, path, { keystone: this.cloud.keystone, headers: req.headers, query: url.searchParams, body, baseUrl: base }));
      return;
    }
    const requestId = `req-${randomUUID()}`;
    const reply = await this.handleNova(req, method, path, url.searchParams, body, base, requestId);
    sendReply(res, reply, { "x-openstack-request-id": requestId, "x-compute-request-id": requestId });
  }

  private handleAdmin(method: string, path: string, body: unknown): HttpReply {
    const m = this.admin.match(method, path);
    if (m === undefined || m === "methodMismatch") return { status: m ? 405 : 404, body: { error: `no admin route ${method} ${path}` } };
    try {
      return m.route.handler({ cloud: this.cloud, body, setOutage: (mode, d) => this.setOutage(mode, d), outage: () => this.outageMode }, m.params) as HttpReply;
    } catch (err: unknown) {
      const status = err instanceof HttpError || err instanceof NovaError ? err.status : 400;
      return { status, body: { error: err instanceof Error ? err.message : String(err) } };
    }
  }

  private async handleNova(req: IncomingMessage, method: string, path: string, query: URLSearchParams, body: unknown, base: string, requestId: string): Promise<HttpReply> {
    const max = this.maxMicroversion();
    if (path === "/" && method === "GET") return { status: 200, body: computeVersions(base, max) };
    if (path === "/v2.1" && method === "GET") return { status: 200, body: { version: { ...computeVersionEntry(base, max), "media-types": [{ base: "application/json", type: "application/vnd.openstack.compute+json;version=2.1" }] } } };
    const segs = splitPath(path);
    if (segs[0] !== "v2.1") return { status: 404, body: novaErrorBody(404, "The resource could not be found.") };
    const token = this.cloud.keystone.validate(headerOf(req, "x-auth-token"));
    if (!token) return { status: 401, headers: { "www-authenticate": `Keystone uri="${base}/v3"` }, body: { error: { code: 401, title: "Unauthorized", message: UNAUTHORIZED } } };
    let version: Microversion;
    try {
      version = negotiateMicroversion(req.headers, max);
    } catch (err: unknown) {
      if (err instanceof NovaError) return { status: err.status, body: novaErrorBody(err.status, err.message) };
      throw err;
    }
    const vh = versionResponseHeaders(version);
    const sub = `/${segs.slice(1).join("/")}`;
    const m = this.nova.match(method, sub);
    if (m === undefined) return { status: 404, headers: vh, body: novaErrorBody(404, "The resource could not be found.") };
    if (m === "methodMismatch") return { status: 405, headers: vh, body: novaErrorBody(405, "The method specified is not allowed for this resource.") };
    if (!token.projectId) return { status: 403, headers: vh, body: novaErrorBody(403, "Project-scoped token required.") };
    const ctx = { userId: token.userId, projectId: token.projectId, isAdmin: token.roles.includes("admin"), requestId };
    try {
      const reply = await m.route.handler({ nova: this.cloud.nova, ctx, version, query, body, baseUrl: base, path: sub }, m.params);
      return { ...reply, headers: { ...vh, ...reply.headers } };
    } catch (err: unknown) {
      if (err instanceof NovaError || err instanceof HttpError) return { status: err.status, headers: vh, body: novaErrorBody(err.status, err.message) };
      throw err;
    }
  }
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
