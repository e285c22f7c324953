import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import { parseHostPort } from "../heartbeat/udp-address.js";

export interface AgentHttpServer {
  port: number;
  close(): Promise<void>;
}

/** GET /healthz (200 while `healthy()`, else 503) and GET /metrics (Prometheus text). */
export function startAgentHttpServer(bind: string, registry: Registry, healthy: () => boolean): Promise<AgentHttpServer> {
  const addr = parseHostPort(bind);
  if (!addr) return Promise.reject(new Error(`invalid health address ${bind}`));
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method === "GET" && path === "/healthz") {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok\n" : "heartbeats are not being sent\n");
      return;
    }
    if (req.method === "GET" && path === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(err instanceof Error ? err.message : "metrics failed"),
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(addr.port, addr.host, () => {
      server.removeListener("error", reject);
      const a = server.address();
      resolve({
        port: a && typeof a === "object" ? a.port : addr.port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
