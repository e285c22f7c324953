import { readFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { WatchedFile } from "../agent/reports/watched-file.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { ReceiverMetrics } from "./receiver-metrics.js";
import type { AgentReportTable } from "./report-table.js";
import { grantAllows, type TokenGrant, type TokenSet } from "./token-set.js";
import { parseEnvelope, ReportValidationError, validateReport, type ValidatedReport } from "./validate-report.js";

export const REPORTS_PATH = "/v1/reports";
/** Bodies larger than this are refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Reports per request at most. */
export const MAX_REPORTS_PER_REQUEST = 2000;
/** Rejected reports described in a 200 answer at most. */
const MAX_DESCRIBED = 20;
const CERT_RECHECK_MS = 10_000;

export interface ReportServerOptions {
  host: string;
  port: number;
  /** PEM serving certificate and key; both absent only with `insecureHttp`. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Plain HTTP (tests only). */
  insecureHttp?: boolean;
  tokens: TokenSet;
  table: AgentReportTable;
  clock: Clock;
  log: Logger;
  metrics: ReceiverMetrics;
  /** Server-group messaging routes under `/v1/sgm/` (same authentication), when on. */
  sgm?: { handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, grant: TokenGrant): Promise<void> };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * The operator's report endpoint, `POST /v1/reports`, on every replica. Bearer-token auth
 * (checked before the body is read), a 1 MiB body limit, strict validation of every report
 * (a malformed one is dropped and counted, the others accepted), answers that name no
 * secret. The serving certificate is reloaded when its files change. Never throws from a
 * request.
 */
export class AgentReportServer {
  private server: http.Server | https.Server | undefined;

  constructor(private readonly o: ReportServerOptions) {}

  async start(signal: AbortSignal): Promise<AddressInfo> {
    await this.o.tokens.load();
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, "agent reports: request failed");
        if (!res.headersSent) send(res, { status: 500, body: { error: "Internal" } });
      });
    };
    if (this.o.insecureHttp) this.server = http.createServer(handler);
    else {
      const [cert, key] = await Promise.all([readFile(this.o.tlsCertFile ?? ""), readFile(this.o.tlsKeyFile ?? "")]);
      const server = https.createServer({ cert, key, minVersion: "TLSv1.2" }, handler);
      this.server = server;
      void this.reloadCertificates(server, signal);
    }
    this.server.requestTimeout = 15_000;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 65_000;
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port, this.o.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("clientError", (_err, socket) => socket.destroy());
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? "").split("?")[0] ?? "";
    if (this.o.sgm && url.startsWith("/v1/sgm/")) {
      const grant = await this.grant(req);
      if (!grant) return this.refuse(req, res, "Unauthorized", { status: 401, body: { error: "Unauthorized" }, headers: { "www-authenticate": "Bearer" } });
      return this.o.sgm.handle(req, res, url, grant);
    }
    if (url !== REPORTS_PATH) return this.refuse(req, res, "NotFound", { status: 404, body: { error: "NotFound" } });
    if (req.method !== "POST") return this.refuse(req, res, "MethodNotAllowed", { status: 405, body: { error: "MethodNotAllowed" }, headers: { allow: "POST" } });
    const grant = await this.grant(req);
    if (!grant) return this.refuse(req, res, "Unauthorized", { status: 401, body: { error: "Unauthorized" }, headers: { "www-authenticate": "Bearer" } });
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") return this.refuse(req, res, "UnsupportedMediaType", { status: 415, body: { error: "UnsupportedMediaType", message: "content-type must be application/json" } });
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > MAX_BODY_BYTES) return this.refuse(req, res, "TooLarge", tooLarge());
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) return this.refuse(req, res, "TooLarge", tooLarge());
    send(res, this.accept(body, grant));
  }

  /** What the request's bearer token allows, or undefined without a valid one. */
  private async grant(req: http.IncomingMessage): Promise<TokenGrant | undefined> {
    const m = /^Bearer ([^\s]+)$/.exec(req.headers.authorization ?? "");
    return m?.[1] ? this.o.tokens.accepts(m[1]) : undefined;
  }

  /** Validates and stores the reports of one request body. */
  private accept(body: string, grant: TokenGrant): Answer {
    let raw: unknown[];
    try {
      raw = parseEnvelope(body, MAX_REPORTS_PER_REQUEST);
    } catch (err: unknown) {
      const e = err instanceof ReportValidationError ? err : new ReportValidationError("NotAnObject", "", "unreadable body");
      if (e.code === "TooManyReports") {
        this.o.metrics.refused("TooLarge");
        return { status: 413, body: { error: "TooLarge", message: e.message } };
      }
      this.o.metrics.refused("BadRequest");
      return { status: 400, body: { error: "BadRequest", code: e.code, field: e.field, message: e.message } };
    }
    const now = this.o.clock.monotonicMs();
    let accepted = 0;
    let stale = 0;
    const rejected: { index: number; code: string; field: string; message: string }[] = [];
    for (const [index, item] of raw.entries()) {
      const checked = validateReport(item);
      // A host-bound token speaks only for its own hosts: another host's report is refused.
      const v: ValidatedReport = checked.ok && !grantAllows(grant, checked.report.host) ? { ok: false, kind: checked.report.kind, error: new ReportValidationError("HostNotAllowed", "host", `the token is not valid for host ${checked.report.host}`) } : checked;
      if (!v.ok) {
        this.o.metrics.received(v.kind, v.error.code);
        if (rejected.length < MAX_DESCRIBED) rejected.push({ index, code: v.error.code, field: v.error.field, message: v.error.message });
        continue;
      }
      const outcome = this.o.table.put(v.report, now);
      this.o.metrics.received(v.report.kind, outcome);
      if (outcome === "Accepted") accepted++;
      else stale++;
    }
    const dropped = raw.length - accepted - stale;
    if (dropped > 0) this.o.log.warn({ dropped, first: rejected[0] }, "agent reports: malformed reports dropped");
    return { status: 200, body: { accepted, stale, rejected: dropped, ...(rejected.length > 0 ? { errors: rejected } : {}) } };
  }

  private refuse(req: http.IncomingMessage, res: http.ServerResponse, reason: string, answer: Answer): void {
    this.o.metrics.refused(reason);
    // The body is not read: the connection closes after the answer.
    res.setHeader("connection", "close");
    send(res, answer);
    req.resume();
  }

  private async reloadCertificates(server: https.Server, signal: AbortSignal): Promise<void> {
    const cert = new WatchedFile(this.o.tlsCertFile ?? "");
    const key = new WatchedFile(this.o.tlsKeyFile ?? "");
    let seen: Buffer | undefined = Buffer.concat([await cert.read(), await key.read()]);
    while (!signal.aborted) {
      await this.o.clock.sleep(CERT_RECHECK_MS, signal).catch(() => undefined);
      if (signal.aborted) return;
      try {
        const [c, k] = [await cert.read(), await key.read()];
        const both = Buffer.concat([c, k]);
        if (seen?.equals(both)) continue;
        server.setSecureContext({ cert: c, key: k });
        seen = both;
        this.o.log.info({ certFile: this.o.tlsCertFile }, "agent reports: serving certificate reloaded");
      } catch (err: unknown) {
        this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, "agent reports: could not reload the serving certificate; keeping the current one");
      }
    }
  }
}

function tooLarge(): Answer {
  return { status: 413, body: { error: "TooLarge", message: `bodies are limited to ${MAX_BODY_BYTES} bytes` } };
}

function send(res: http.ServerResponse, a: Answer): void {
  const text = JSON.stringify(a.body);
  res.writeHead(a.status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...(a.headers ?? {}) });
  res.end(text);
}

/** The body as UTF-8, or undefined when it exceeds `max` bytes (then the request is no longer read). */
function readBody(req: http.IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) {
        done = true;
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!done) resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", (err) => {
      if (!done) reject(err);
    });
  });
}
