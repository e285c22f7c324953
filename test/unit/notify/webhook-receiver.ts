import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  atMs: number;
}

/** What the receiver answers: a status (and headers), or `hang` (never answers until released). */
export type Reply = { status: number; headers?: Record<string, string> } | "hang";

/**
 * A real HTTP receiver on 127.0.0.1 for the notifier tests: records every request and
 * answers from a script (then `fallback`). Hanging requests are released by `release()`.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  script: Reply[] = [];
  fallback: Reply = { status: 204 };
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly hanging: http.ServerResponse[] = [];
  port = 0;

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  bodies<T>(): T[] {
    return this.received.map((r) => JSON.parse(r.body) as T);
  }

  /** Answers every hanging request with `status`. */
  release(status = 200): void {
    for (const res of this.hanging.splice(0)) res.writeHead(status).end();
  }

  async stop(): Promise<void> {
    this.release(503);
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), atMs: performance.now() });
      const reply = this.script.shift() ?? this.fallback;
      if (reply === "hang") this.hanging.push(res);
      else res.writeHead(reply.status, reply.headers).end();
    });
  }
}
