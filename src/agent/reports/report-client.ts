import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { AgentReport, AgentReportSink } from "./agent-report.js";
import { ReportBuffer } from "./report-buffer.js";
import type { ReportClientMetrics, ReportErrorReason } from "./report-client-metrics.js";
import { NodeReportPoster, PostError, type ReportPoster, type ReportTlsOptions } from "./report-poster.js";
import { WatchedFile } from "./watched-file.js";

export interface ReportClientOptions extends ReportTlsOptions {
  /** The operator's report endpoints (`https://host:port/v1/reports`), tried in order; the next one on failure. */
  endpoints: string[];
  /** File holding the bearer token (a mounted Secret); read again when it changes. */
  tokenFile: string;
  /** Accept `http://` endpoints (tests only). */
  allowPlainHttp?: boolean;
  /** Reports kept while the operator is unreachable (default 10000); beyond, the oldest are dropped. */
  bufferSize?: number;
  /** Reports per POST at most (default 500). */
  maxBatch?: number;
  /** Backoff after every endpoint failed: starts here (default 500 ms), doubles, capped at maxBackoffMs (default 30 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout (default 5 s). */
  requestTimeoutMs?: number;
  clock: Clock;
  log: Logger;
  metrics: ReportClientMetrics;
  /** The HTTP layer; default node:https with the TLS options above. */
  poster?: ReportPoster;
}

type Attempt = { ok: true; acked: number } | { ok: false; reason: ReportErrorReason; detail: string; status?: number };

const DEFAULTS = { bufferSize: 10_000, maxBatch: 500, minBackoffMs: 500, maxBackoffMs: 30_000, requestTimeoutMs: 5_000 };

/**
 * The agent's side of the report path: `submit` puts a report in a bounded buffer and
 * returns at once (it never throws); one delivery loop POSTs batches `{"reports": [...]}`
 * in order to the first endpoint that answers, with a bearer token read from a file. While
 * no endpoint accepts, the buffer keeps the reports and the loop waits with capped
 * exponential backoff; nothing within the buffer is lost, and when it is full the oldest
 * are dropped and counted. The token is never logged.
 */
export class ReportClient implements AgentReportSink {
  private readonly buffer: ReportBuffer;
  private readonly o: ReportClientOptions & typeof DEFAULTS;
  private readonly poster: ReportPoster;
  private readonly token: WatchedFile;
  private endpoint = 0;
  private batchLimit: number;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(options: ReportClientOptions) {
    this.o = { ...DEFAULTS, ...stripUndefined(options) };
    const problems = checkOptions(this.o);
    if (problems.length > 0) throw new Error(`invalid report client options: ${problems.join("; ")}`);
    this.buffer = new ReportBuffer(this.o.bufferSize);
    this.batchLimit = this.o.maxBatch;
    this.poster = options.poster ?? new NodeReportPoster(options);
    this.token = new WatchedFile(options.tokenFile);
    if (options.insecureSkipVerify) this.o.log.warn({ endpoints: this.o.endpoints }, "agent reports: the operator's TLS certificate is NOT verified (insecureSkipVerify)");
    this.o.metrics.buffered(0);
  }

  submit(report: AgentReport): void {
    try {
      const dropped = this.buffer.push(report);
      if (dropped > 0) this.o.metrics.dropped(dropped);
      this.o.metrics.buffered(this.buffer.size);
      this.wake?.();
    } catch (err: unknown) {
      this.o.log.error({ err: err instanceof Error ? err.message : String(err) }, "agent reports: could not buffer a report");
    }
  }

  /** Reports waiting for delivery. */
  get pending(): number {
    return this.buffer.size;
  }

  /** Starts the delivery loop (once). */
  start(): void {
    this.running ??= this.loop();
  }

  /** Stops the loop after trying to deliver what is buffered for at most `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    const deadline = this.o.clock.monotonicMs() + graceMs;
    while (this.running && this.buffer.size > 0 && this.o.clock.monotonicMs() < deadline) await this.o.clock.sleep(50).catch(() => undefined);
    this.stopping.abort();
    this.wake?.();
    await this.running;
    this.poster.close();
  }

  private async loop(): Promise<void> {
    let backoff = this.o.minBackoffMs;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      if (this.buffer.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      if (await this.deliverOnce()) {
        backoff = this.o.minBackoffMs;
        continue;
      }
      await this.o.clock.sleep(backoff, signal).catch(() => undefined);
      backoff = Math.min(this.o.maxBackoffMs, backoff * 2);
    }
  }

  /** One batch, tried on each endpoint in turn from the last good one; true once one accepted (or refused it for good). */
  private async deliverOnce(): Promise<boolean> {
    const batch = this.buffer.peek(this.batchLimit);
    const last = batch[batch.length - 1];
    if (!last) return true;
    let body: string;
    try {
      body = JSON.stringify({ reports: batch.map((b) => b.report) });
    } catch (err: unknown) {
      this.settle(last.seq, "rejected", `not serialisable: ${err instanceof Error ? err.message : String(err)}`);
      return true;
    }
    for (let i = 0; i < this.o.endpoints.length; i++) {
      const idx = (this.endpoint + i) % this.o.endpoints.length;
      const url = this.o.endpoints[idx] ?? "";
      const r = await this.attempt(url, body, batch.length);
      if (r.ok) {
        this.endpoint = idx;
        this.batchLimit = this.o.maxBatch;
        const acked = this.buffer.ack(last.seq);
        this.o.metrics.sent(r.acked);
        this.o.metrics.buffered(this.buffer.size);
        this.o.log.debug({ endpoint: url, reports: r.acked, removed: acked, buffered: this.buffer.size }, "agent reports delivered");
        return true;
      }
      this.o.metrics.error(r.reason);
      if (r.reason === "too_large") return this.shrink(batch.length, last.seq, url);
      if (r.reason === "rejected") {
        this.settle(last.seq, "rejected", `${url} answered ${r.status ?? "?"}`);
        return true;
      }
      this.o.log.warn({ endpoint: url, reason: r.reason, detail: r.detail, buffered: this.buffer.size }, "agent reports: delivery failed");
      if (r.reason === "token") return false;
    }
    return false;
  }

  private async attempt(url: string, body: string, count: number): Promise<Attempt> {
    let token: string;
    try {
      token = (await this.token.read()).toString("utf8").trim();
      if (token === "") return { ok: false, reason: "token", detail: `token file ${this.o.tokenFile} is empty` };
    } catch (err: unknown) {
      return { ok: false, reason: "token", detail: `token file ${this.o.tokenFile}: ${err instanceof Error ? err.message : String(err)}` };
    }
    try {
      const res = await this.poster.post(url, body, { "content-type": "application/json", authorization: `Bearer ${token}` }, this.o.requestTimeoutMs);
      if (res.status >= 200 && res.status < 300) return { ok: true, acked: count };
      return { ok: false, reason: statusReason(res.status), detail: `HTTP ${res.status}`, status: res.status };
    } catch (err: unknown) {
      if (err instanceof PostError) return { ok: false, reason: err.kind, detail: err.message };
      return { ok: false, reason: "connect", detail: err instanceof Error ? err.message : String(err) };
    }
  }

  /** 413: halve the batch; a single report the operator finds too large is dropped. */
  private shrink(size: number, lastSeq: number, url: string): boolean {
    if (size <= 1) {
      this.settle(lastSeq, "too_large", `${url} refused a single report as too large`);
      return true;
    }
    this.batchLimit = Math.max(1, Math.floor(size / 2));
    return true;
  }

  /** Drops a batch the operator will never accept (counted as dropped). */
  private settle(lastSeq: number, reason: ReportErrorReason, detail: string): void {
    const n = this.buffer.ack(lastSeq);
    this.o.metrics.dropped(n);
    this.o.metrics.buffered(this.buffer.size);
    this.o.log.warn({ reason, detail, dropped: n }, "agent reports: the operator refused a batch; dropped");
  }
}

function statusReason(status: number): ReportErrorReason {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 413) return "too_large";
  if (status === 400 || status === 404 || status === 405 || status === 415) return "rejected";
  return "server";
}

function checkOptions(o: ReportClientOptions & typeof DEFAULTS): string[] {
  const problems: string[] = [];
  if (o.endpoints.length === 0) problems.push("at least one endpoint is required");
  for (const e of o.endpoints) {
    let u: URL | undefined;
    try {
      u = new URL(e);
    } catch {
      problems.push(`endpoint "${e}" is not a URL`);
      continue;
    }
    if (u.protocol !== "https:" && !(u.protocol === "http:" && o.allowPlainHttp)) problems.push(`endpoint "${e}" must be https (http only with allowPlainHttp)`);
  }
  for (const [name, v, min] of [["bufferSize", o.bufferSize, 1], ["maxBatch", o.maxBatch, 1], ["minBackoffMs", o.minBackoffMs, 1], ["maxBackoffMs", o.maxBackoffMs, 1], ["requestTimeoutMs", o.requestTimeoutMs, 1]] as const) {
    if (!Number.isInteger(v) || v < min) problems.push(`${name} must be an integer ≥ ${min}`);
  }
  if (o.maxBackoffMs < o.minBackoffMs) problems.push("maxBackoffMs must be ≥ minBackoffMs");
  if (!o.tokenFile) problems.push("tokenFile is required");
  if (Boolean(o.clientCertFile) !== Boolean(o.clientKeyFile)) problems.push("clientCertFile and clientKeyFile go together");
  return problems;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
