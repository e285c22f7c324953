import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TransportError } from "../../../src/openstack/http-transport.js";
import { NodeHttpTransport } from "../../../src/openstack/node-http-transport.js";
import { freePort } from "../../support/free-port.js";

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

describe("NodeHttpTransport", () => {
  let server: http.Server;
  let port = 0;
  let handler: Listener = (_req, res) => res.end();
  const transport = new NodeHttpTransport();

  before(async () => {
    server = http.createServer((req, res) => handler(req, res));
    port = await listen(server);
  });
  after(() => {
    transport.close();
    server.closeAllConnections();
    server.close();
  });

  it("sends method, headers and body and returns status, lower-cased headers and body", async () => {
    handler = (req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        res.writeHead(202, { "X-OpenStack-Request-ID": "req-1", "Content-Type": "application/json" });
        res.end(JSON.stringify({ method: req.method, url: req.url, token: req.headers["x-auth-token"], body }));
      });
    };
    const res = await transport.request({ method: "POST", url: `http://127.0.0.1:${port}/v2.1/servers/x/action?a=1`, headers: { "x-auth-token": "t" }, body: '{"os-start":null}' });
    assert.equal(res.status, 202);
    assert.equal(res.headers["x-openstack-request-id"], "req-1");
    assert.deepEqual(JSON.parse(res.body), { method: "POST", url: "/v2.1/servers/x/action?a=1", token: "t", body: '{"os-start":null}' });
  });

  it("times out a request that gets no answer, without the query string in the message", async () => {
    handler = () => undefined;
    await assert.rejects(transport.request({ method: "GET", url: `http://127.0.0.1:${port}/slow?secret=x`, timeoutMs: 100 }), (e: unknown) => e instanceof TransportError && e.kind === "timeout" && !e.message.includes("secret=x"));
  });

  it("aborts on the signal", async () => {
    handler = () => undefined;
    const ac = new AbortController();
    const p = transport.request({ method: "GET", url: `http://127.0.0.1:${port}/hang`, signal: ac.signal, timeoutMs: 5000 });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(p, (e: unknown) => e instanceof TransportError && e.kind === "aborted");
  });

  it("reports a refused connection with its code", async () => {
    const closed = await freePort();
    await assert.rejects(transport.request({ method: "GET", url: `http://127.0.0.1:${closed}/`, timeoutMs: 1000 }), (e: unknown) => e instanceof TransportError && e.kind === "connection" && e.code === "ECONNREFUSED");
  });
});

describe("NodeHttpTransport over TLS with a custom CA", function () {
  this.timeout(20_000);
  let dir = "";
  let server: https.Server | undefined;
  let port = 0;
  let caPem = "";
  const transport = new NodeHttpTransport();

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "vmk-tls-"));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    } catch {
      this.skip();
    }
    caPem = readFileSync(join(dir, "cert.pem"), "utf8");
    server = https.createServer({ key: readFileSync(join(dir, "key.pem")), cert: caPem }, (_req, res) => res.end("ok"));
    port = await listen(server);
  });
  after(() => {
    transport.close();
    server?.closeAllConnections();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("trusts the given CA bundle, fails without it, and skips checks only with verify off", async () => {
    const url = `https://127.0.0.1:${port}/`;
    assert.equal((await transport.request({ method: "GET", url, caPem })).body, "ok");
    await assert.rejects(transport.request({ method: "GET", url }), (e: unknown) => e instanceof TransportError && e.kind === "tls");
    assert.equal((await transport.request({ method: "GET", url, rejectUnauthorized: false })).status, 200);
  });
});
