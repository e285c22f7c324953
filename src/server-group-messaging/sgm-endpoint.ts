import type http from "node:http";
import { grantAllows, type TokenGrant } from "../agent-reports/token-set.js";
import type { AgentLinks } from "./agent-links.js";
import { isGuestControl, isValidHost, parseAgentMessage, parseAgentPost, type GuestControlAgentMessage } from "./link-messages.js";
import type { SgmRouter } from "./sgm-router.js";

export const SGM_STREAM_PATH = "/v1/sgm/stream";
export const SGM_MESSAGES_PATH = "/v1/sgm/messages";
const MAX_BODY_BYTES = 1024 * 1024;

export interface SgmEndpointMetrics {
  refused(reason: string): void;
  invalidMessage(): void;
}

/**
 * The two routes of the agent link on the report server (authenticated there, like
 * `/v1/reports`): the agent's long-lived stream and its message posts. Named for
 * server-group messaging, their first user; guest control rides on them too (ADR 0013).
 * Never throws.
 */
export class SgmEndpoint {
  constructor(private readonly o: { links: AgentLinks; router: SgmRouter; control?: { handle(host: string, m: GuestControlAgentMessage): void }; identity: string; metrics: SgmEndpointMetrics }) {}

  /** One request, already authenticated; `grant` says which hosts its token may speak for. */
  async handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, grant: TokenGrant): Promise<void> {
    if (path === SGM_STREAM_PATH && req.method === "GET") return this.stream(req, res, grant);
    if (path === SGM_MESSAGES_PATH && req.method === "POST") return this.messages(req, res, grant);
    if (path === SGM_STREAM_PATH || path === SGM_MESSAGES_PATH) return answer(res, 405, { error: "MethodNotAllowed" }, this.o.metrics, "MethodNotAllowed");
    return answer(res, 404, { error: "NotFound" }, this.o.metrics, "NotFound");
  }

  private stream(req: http.IncomingMessage, res: http.ServerResponse, grant: TokenGrant): void {
    const host = new URL(req.url ?? "/", "http://x").searchParams.get("host") ?? "";
    if (!isValidHost(host)) return answer(res, 400, { error: "BadRequest", message: "host query parameter required" }, this.o.metrics, "BadRequest");
    if (!grantAllows(grant, host)) return answer(res, 403, { error: "Forbidden", message: `the token is not valid for host ${host}` }, this.o.metrics, "Forbidden");
    req.socket.setKeepAlive(true, 10_000);
    req.socket.setNoDelay(true);
    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
    this.o.links.open(host, res, { t: "hello", replica: this.o.identity });
  }

  private async messages(req: http.IncomingMessage, res: http.ServerResponse, grant: TokenGrant): Promise<void> {
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") return answer(res, 415, { error: "UnsupportedMediaType" }, this.o.metrics, "UnsupportedMediaType");
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) return answer(res, 413, { error: "TooLarge" }, this.o.metrics, "TooLarge");
    const post = parseAgentPost(body);
    if ("invalid" in post) return answer(res, 400, { error: "BadRequest", message: post.invalid }, this.o.metrics, "BadRequest");
    if (!grantAllows(grant, post.host)) return answer(res, 403, { error: "Forbidden", message: `the token is not valid for host ${post.host}` }, this.o.metrics, "Forbidden");
    req.socket.setNoDelay(true);
    let accepted = 0;
    for (const raw of post.raw) {
      const m = parseAgentMessage(raw);
      if ("invalid" in m) {
        this.o.metrics.invalidMessage();
        continue;
      }
      accepted++;
      if (isGuestControl(m)) this.o.control?.handle(post.host, m);
      else this.o.router.handle(post.host, m);
    }
    answer(res, 200, { accepted, rejected: post.raw.length - accepted });
  }
}

function answer(res: http.ServerResponse, status: number, body: Record<string, unknown>, metrics?: SgmEndpointMetrics, reason?: string): void {
  if (metrics && reason) metrics.refused(reason);
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

function readBody(req: http.IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(undefined));
  });
}
