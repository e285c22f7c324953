import http from "node:http";
import https from "node:https";
import type { AgentToOperator, OperatorToAgent } from "../../server-group-messaging/link-messages.js";
import { parseOperatorMessage } from "../../server-group-messaging/link-messages.js";
import { SGM_LIMITS } from "../../server-group-messaging/sgm-limits.js";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { ReportTlsOptions } from "../reports/report-poster.js";
import { WatchedFile } from "../reports/watched-file.js";
import { reconnectDelayMs } from "../guest-channels/reconnect-delay.js";

export const SGM_STREAM_PATH = "/v1/sgm/stream";
export const SGM_MESSAGES_PATH = "/v1/sgm/messages";
/** The operator pings every 10 s; a stream silent for this long is closed and dialled again. */
const SILENCE_MS = 35_000;
const POST_TIMEOUT_MS = 5000;
/** Messages waiting for the next POST at most; older ones are dropped (best effort). */
const MAX_QUEUED = 2000;

export interface OperatorEndpoint {
  /** The report URL of one operator replica (`https://10.0.0.5:8443/v1/reports`). */
  url: string;
  /** Name to verify the replica's certificate against, for an address of a headless Service. */
  serverName?: string;
}

export interface OperatorLinkOptions {
  host: string;
  tokenFile: string;
  tls: Omit<ReportTlsOptions, "tlsServerName">;
  clock: Clock;
  log: Logger;
  /** A valid message from any replica's stream. */
  onMessage: (m: OperatorToAgent) => void;
  /** A stream (re)opened: the operator must be told the current guests again. */
  onStreamOpen: () => void;
  /** Lines from a stream that were not valid messages; POSTs that failed. */
  onDropped: (reason: "invalid_line" | "post_failed" | "queue_full") => void;
}

interface EndpointRun {
  endpoint: OperatorEndpoint;
  stop: AbortController;
  connected: boolean;
  done: Promise<void>;
}

/**
 * The node agent's link to every operator replica for server-group messaging. Each replica
 * gets a long-lived `GET /v1/sgm/stream` (operator → agent, NDJSON) opened by the agent, so
 * computes need no inbound port, and every guest message is POSTed to every replica
 * (`/v1/sgm/messages`); only the leader routes. Same bearer token and TLS as the reports.
 */
export class OperatorLink {
  private readonly runs = new Map<string, EndpointRun>();
  private readonly token: WatchedFile;
  private readonly files: { ca?: WatchedFile; cert?: WatchedFile; key?: WatchedFile };
  private queue: AgentToOperator[] = [];
  private flushing = false;
  private readonly agents = { plain: new http.Agent({ keepAlive: true, maxSockets: 4 }), tls: new Map<string, https.Agent>() };

  constructor(private readonly o: OperatorLinkOptions) {
    this.token = new WatchedFile(o.tokenFile);
    this.files = {
      ...(o.tls.caFile ? { ca: new WatchedFile(o.tls.caFile) } : {}),
      ...(o.tls.clientCertFile ? { cert: new WatchedFile(o.tls.clientCertFile) } : {}),
      ...(o.tls.clientKeyFile ? { key: new WatchedFile(o.tls.clientKeyFile) } : {}),
    };
  }

  /** Replicas whose stream is open now. */
  get connectedCount(): number {
    let n = 0;
    for (const r of this.runs.values()) if (r.connected) n++;
    return n;
  }

  /** Follows the current replica set: new endpoints are dialled, vanished ones closed. */
  setEndpoints(endpoints: readonly OperatorEndpoint[]): void {
    const wanted = new Map(endpoints.map((e) => [e.url, e]));
    for (const [url, run] of this.runs) {
      if (wanted.has(url)) continue;
      run.stop.abort();
      this.runs.delete(url);
    }
    for (const [url, endpoint] of wanted) {
      if (this.runs.has(url)) continue;
      const run: EndpointRun = { endpoint, stop: new AbortController(), connected: false, done: Promise.resolve() };
      run.done = this.streamLoop(run);
      this.runs.set(url, run);
    }
  }

  /** Queues a message for every replica (sent within the current tick, batched). */
  send(m: AgentToOperator): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.queue.shift();
      this.o.onDropped("queue_full");
    }
    this.queue.push(m);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flush());
    }
  }

  async close(): Promise<void> {
    for (const run of this.runs.values()) run.stop.abort();
    await Promise.all([...this.runs.values()].map((r) => r.done));
    this.runs.clear();
    this.agents.plain.destroy();
    for (const a of this.agents.tls.values()) a.destroy();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, SGM_LIMITS.maxMessagesPerPost);
      const body = JSON.stringify({ host: this.o.host, messages: batch });
      await Promise.all([...this.runs.values()].map((r) => this.post(r.endpoint, body)));
    }
    this.flushing = false;
  }

  private async post(endpoint: OperatorEndpoint, body: string): Promise<void> {
    try {
      const status = await new Promise<number>((resolve, reject) => {
        void this.request(endpoint, SGM_MESSAGES_PATH, "POST", { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }).then((req) => {
          req.setTimeout(POST_TIMEOUT_MS, () => req.destroy(new Error("timeout")));
          req.on("response", (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
            res.on("error", reject);
          });
          req.on("error", reject);
          req.end(body);
        }, reject);
      });
      if (status !== 200) this.o.onDropped("post_failed");
    } catch {
      this.o.onDropped("post_failed");
    }
  }

  private async request(endpoint: OperatorEndpoint, path: string, method: string, headers: Record<string, string>): Promise<http.ClientRequest> {
    const url = new URL(endpoint.url);
    url.pathname = path;
    if (method === "GET") url.search = `?host=${encodeURIComponent(this.o.host)}`;
    else url.search = "";
    const token = (await this.token.read()).toString("utf8").trim();
    const all = { ...headers, authorization: `Bearer ${token}` };
    if (url.protocol === "http:") return http.request(url, { method, headers: all, agent: this.agents.plain });
    return https.request(url, { method, headers: all, agent: await this.tlsAgent(endpoint.serverName), ...(endpoint.serverName ? { servername: endpoint.serverName } : {}) });
  }

  private async tlsAgent(serverName: string | undefined): Promise<https.Agent> {
    const [ca, cert, key] = await Promise.all([this.files.ca?.read(), this.files.cert?.read(), this.files.key?.read()]);
    const stamp = `${serverName ?? ""}|${ca?.length ?? 0}|${cert?.toString("base64").slice(-32) ?? ""}|${key?.length ?? 0}|${ca?.toString("base64").slice(-32) ?? ""}`;
    const existing = this.agents.tls.get(stamp);
    if (existing) return existing;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: !this.o.tls.insecureSkipVerify, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) });
    this.agents.tls.set(stamp, agent);
    return agent;
  }

  private async streamLoop(run: EndpointRun): Promise<void> {
    const signal = run.stop.signal;
    let attempt = 0;
    while (!signal.aborted) {
      const opened = await this.streamOnce(run).catch((err: unknown) => {
        this.o.log.debug({ endpoint: run.endpoint.url, err: err instanceof Error ? err.message : String(err) }, "sgm stream failed");
        return false;
      });
      run.connected = false;
      if (opened) attempt = 0;
      if (signal.aborted) return;
      try {
        await this.o.clock.sleep(reconnectDelayMs(attempt++, { initialDelayMs: 500, maxDelayMs: 10_000 }), signal);
      } catch {
        return;
      }
    }
  }

  /** One stream: resolves true if it was open at some point, when it ends. */
  private async streamOnce(run: EndpointRun): Promise<boolean> {
    const req = await this.request(run.endpoint, SGM_STREAM_PATH, "GET", { accept: "application/x-ndjson" });
    return new Promise<boolean>((resolve) => {
      let opened = false;
      let silence: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (silence) clearTimeout(silence);
        run.stop.signal.removeEventListener("abort", abort);
        resolve(opened);
      };
      const abort = (): void => {
        req.destroy();
      };
      const alive = (): void => {
        if (silence) clearTimeout(silence);
        silence = setTimeout(() => req.destroy(new Error("stream silent")), SILENCE_MS);
      };
      run.stop.signal.addEventListener("abort", abort, { once: true });
      req.on("error", () => finish());
      req.on("response", (res) => {
        if (res.statusCode !== 200) {
          this.o.log.warn({ endpoint: run.endpoint.url, status: res.statusCode }, "sgm stream refused by the operator");
          res.resume();
          res.on("end", finish);
          res.on("error", finish);
          return;
        }
        opened = true;
        run.connected = true;
        alive();
        this.o.log.info({ endpoint: run.endpoint.url }, "sgm stream to an operator replica open");
        this.o.onStreamOpen();
        let buffered = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          alive();
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            this.line(line);
          }
          if (buffered.length > SGM_LIMITS.maxLinkLineBytes) {
            this.o.onDropped("invalid_line");
            req.destroy();
          }
        });
        res.on("end", finish);
        res.on("error", finish);
        res.on("close", finish);
      });
      req.end();
    });
  }

  private line(line: string): void {
    if (line.trim() === "") return;
    const m = parseOperatorMessage(line);
    if (!m) {
      this.o.onDropped("invalid_line");
      return;
    }
    this.o.onMessage(m);
  }
}
