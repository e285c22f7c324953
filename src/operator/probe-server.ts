import express from "express";
import type { Server } from "node:http";
import type { Registry } from "prom-client";
import { parseBindAddress } from "./operator-config.js";

/** A named readiness check: true when this part of the process is ready. */
export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

export interface ListeningServer {
  port: number;
  close(): Promise<void>;
}

/**
 * /healthz (the process is alive and its event loop turns) and /readyz (every check
 * passes; the body lists each check like the API server's own /readyz?verbose).
 */
export function startProbeServer(bind: string, checks: ReadinessCheck[]): Promise<ListeningServer> {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok");
  });
  app.get("/readyz", (_req, res) => {
    const lines = checks.map((c) => `[${c.ready() ? "+" : "-"}]${c.name} ${c.ready() ? "ok" : "failed"}`);
    const ok = checks.every((c) => c.ready());
    res.status(ok ? 200 : 503).type("text/plain").send(`${lines.join("\n")}\nreadyz check ${ok ? "passed" : "failed"}\n`);
  });
  return listen(app, bind);
}

/** /metrics in the Prometheus text format. */
export function startMetricsServer(bind: string, registry: Registry): Promise<ListeningServer> {
  const app = express();
  app.disable("x-powered-by");
  app.get("/metrics", (_req, res, next) => {
    registry
      .metrics()
      .then((text) => res.type(registry.contentType).send(text))
      .catch(next);
  });
  return listen(app, bind);
}

function listen(app: express.Express, bind: string): Promise<ListeningServer> {
  const addr = parseBindAddress(bind);
  if (!addr) return Promise.reject(new Error(`invalid bind address ${bind}`));
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(addr.port, addr.host);
    server.once("error", reject);
    server.once("listening", () => {
      const a = server.address();
      const port = a && typeof a === "object" ? a.port : addr.port;
      resolve({
        port,
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections();
            server.close(() => res());
          }),
      });
    });
  });
}
