import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentReportServer } from "../../../src/agent-reports/report-server.js";
import { AgentReportTable } from "../../../src/agent-reports/report-table.js";
import { TokenSet } from "../../../src/agent-reports/token-set.js";
import { AgentLinks } from "../../../src/server-group-messaging/agent-links.js";
import { SgmEndpoint } from "../../../src/server-group-messaging/sgm-endpoint.js";
import { SgmRouter } from "../../../src/server-group-messaging/sgm-router.js";
import { SystemClock } from "../../../src/util/clock.js";
import { silentLogger } from "../../../src/util/logger.js";

describe("agent link routes with host-bound tokens", () => {
  let server: AgentReportServer;
  let addr: AddressInfo;
  const links = new AgentLinks();
  const stop = new AbortController();

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmk-sgm-auth-"));
    writeFileSync(join(dir, "tokens"), "shared\nonly-2 compute-2\n");
    const clock = new SystemClock();
    const router = new SgmRouter({ links, clock, log: silentLogger(), metrics: { message: () => undefined, delivered: () => undefined, latency: () => undefined }, identity: "t" });
    const sgm = new SgmEndpoint({ links, router, identity: "t", metrics: { refused: () => undefined, invalidMessage: () => undefined } });
    server = new AgentReportServer({ host: "127.0.0.1", port: 0, insecureHttp: true, tokens: new TokenSet(join(dir, "tokens")), table: new AgentReportTable(), clock, log: silentLogger(), metrics: { received: () => undefined, refused: () => undefined }, sgm });
    addr = await server.start(stop.signal);
  });
  after(async () => {
    links.closeAll();
    stop.abort();
    await server.stop();
  });

  const call = (method: string, path: string, token: string, body?: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: addr.port, path, method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) } }, (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      });
      req.on("error", reject);
      req.end(body);
    });

  it("refuses a stream or a post for another host than the token's with 403; its own host and a shared token pass", async () => {
    assert.equal(await call("GET", "/v1/sgm/stream?host=compute-1", "only-2"), 403);
    assert.equal(await call("POST", "/v1/sgm/messages", "only-2", JSON.stringify({ host: "compute-1", messages: [] })), 403);
    assert.equal(await call("POST", "/v1/sgm/messages", "only-2", JSON.stringify({ host: "compute-2", messages: [] })), 200);
    assert.equal(await call("GET", "/v1/sgm/stream?host=compute-2", "only-2"), 200);
    assert.equal(await call("GET", "/v1/sgm/stream?host=compute-1", "shared"), 200);
    assert.equal(await call("GET", "/v1/sgm/stream?host=compute-1", "unknown"), 401);
  });
});
