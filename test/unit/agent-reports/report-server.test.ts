import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { AgentReportServer, MAX_BODY_BYTES, REPORTS_PATH } from "../../../src/agent-reports/report-server.js";
import { AgentReportTable } from "../../../src/agent-reports/report-table.js";
import { grantAllows, parseTokenLines, TokenSet } from "../../../src/agent-reports/token-set.js";
import { SystemClock } from "../../../src/util/clock.js";
import { silentLogger } from "../../../src/util/logger.js";
import { selfSignedCert, type SelfSignedCert } from "../../support/self-signed-cert.js";

const UUID = "0b7c2f0e-3f0a-4c1e-9d2b-5a6f7e8d9c01";
const report = (at: string, state = "Unresponsive"): Record<string, unknown> => ({ kind: "GuestHealth", host: "compute-1", instanceUuid: UUID, state, intervalMs: 2000, threshold: 5, at });

describe("AgentReportServer (POST /v1/reports)", function () {
  this.timeout(15_000);
  let tls: SelfSignedCert;
  let tokensFile: string;
  let server: AgentReportServer;
  let addr: AddressInfo;
  let table: AgentReportTable;
  const counted: string[] = [];
  const refused: string[] = [];
  const stop = new AbortController();

  before(async () => {
    tls = selfSignedCert();
    tokensFile = join(tls.dir, "tokens");
    writeFileSync(tokensFile, "old-token\nnew-token\nhost-token compute-2,compute-3\n");
    table = new AgentReportTable();
    server = new AgentReportServer({ host: "127.0.0.1", port: 0, tlsCertFile: tls.certFile, tlsKeyFile: tls.keyFile, tokens: new TokenSet(tokensFile), table, clock: new SystemClock(), log: silentLogger(), metrics: { received: (k, r) => counted.push(`${k}/${r}`), refused: (r) => refused.push(r) } });
    addr = await server.start(stop.signal);
  });
  after(async () => {
    stop.abort();
    await server.stop();
  });

  function post(body: string | Buffer, headers: Record<string, string> = {}, path = REPORTS_PATH, method = "POST"): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: addr.port, path, method, ca: tls.cert, headers: { "content-type": "application/json", authorization: "Bearer new-token", ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  it("accepts valid reports, drops and counts malformed ones, and answers what it did", async () => {
    const r = await post(JSON.stringify({ reports: [report("2026-03-01T12:00:00Z"), { kind: "GuestHealth" }, { kind: "Nope" }] }));
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as { accepted: number; rejected: number; errors: { index: number; code: string }[] };
    assert.equal(body.accepted, 1);
    assert.equal(body.rejected, 2);
    assert.deepEqual(body.errors.map((e) => `${e.index}:${e.code}`), ["1:MissingField", "2:UnknownKind"]);
    assert.equal(table.get(UUID)?.guestHealth?.state, "Unresponsive");
    assert.ok(counted.includes("GuestHealth/Accepted") && counted.includes("GuestHealth/MissingField") && counted.includes("Unknown/UnknownKind"));
  });

  it("keeps the newest report per instance; an older one arriving late is stale", async () => {
    await post(JSON.stringify({ reports: [report("2026-03-01T12:05:00Z", "Healthy")] }));
    const r = await post(JSON.stringify({ reports: [report("2026-03-01T12:04:00Z", "Unresponsive")] }));
    assert.equal((JSON.parse(r.body) as { stale: number }).stale, 1);
    assert.equal(table.get(UUID)?.guestHealth?.state, "Healthy");
  });

  it("answers 401 without a token, with a wrong one, or with another scheme, and leaks nothing", async () => {
    const before = table.since(0).cursor;
    for (const auth of ["", "Bearer nope", "Basic bmV3LXRva2Vu", "Bearer new-token extra"]) {
      const r = await post(JSON.stringify({ reports: [report("2026-03-01T13:00:00Z")] }), { authorization: auth });
      assert.equal(r.status, 401, auth);
      assert.equal(r.body, '{"error":"Unauthorized"}');
    }
    assert.equal(table.since(0).cursor, before, "nothing stored");
  });

  it("a host-bound token speaks only for its hosts: another host's report is refused as HostNotAllowed", async () => {
    const mine = { ...report("2026-03-01T14:00:00Z"), host: "compute-2", instanceUuid: "0b7c2f0e-3f0a-4c1e-9d2b-5a6f7e8d9c02" };
    const r = await post(JSON.stringify({ reports: [mine, report("2026-03-01T14:00:00Z")] }), { authorization: "Bearer host-token" });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as { accepted: number; rejected: number; errors: { index: number; code: string; field: string; message: string }[] };
    assert.deepEqual([body.accepted, body.rejected], [1, 1]);
    assert.deepEqual(body.errors.map((e) => [e.index, e.code, e.field]), [[1, "HostNotAllowed", "host"]]);
    assert.match(body.errors[0]?.message ?? "", /compute-1/);
    assert.ok(counted.includes("GuestHealth/HostNotAllowed"));
  });

  it("accepts every token of the file (rotation) and follows changes of the file", async () => {
    assert.equal((await post(JSON.stringify({ reports: [] }), { authorization: "Bearer old-token" })).status, 200);
    writeFileSync(tokensFile, "new-token\n");
    assert.equal((await post(JSON.stringify({ reports: [] }), { authorization: "Bearer old-token" })).status, 401);
    assert.equal((await post(JSON.stringify({ reports: [] }))).status, 200);
  });

  it("refuses bodies over 1 MiB with 413, declared or streamed", async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 10, 0x20);
    assert.equal((await post(big)).status, 413);
    assert.ok(refused.includes("TooLarge"));
  });

  it("answers 400 for a body that is not the envelope, 415 for another type, 404 and 405 elsewhere", async () => {
    assert.equal((await post("{not json")).status, 400);
    assert.equal((await post('{"reports": 3}')).status, 400);
    assert.equal((await post("{}", { "content-type": "text/plain" })).status, 415);
    assert.equal((await post("{}", {}, "/v1/other")).status, 404);
    assert.equal((await post("", {}, REPORTS_PATH, "GET")).status, 405);
  });

  it("keeps serving after garbage", async () => {
    await post(Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    assert.equal((await post(JSON.stringify({ reports: [] }))).status, 200);
  });
});

describe("TokenSet lines", () => {
  it("reads `TOKEN` as any host and `TOKEN HOST,HOST` as those hosts only", () => {
    const lines = parseTokenLines("# comment\nshared\n\nper-host compute-1, compute-2\n");
    assert.deepEqual(lines.map((l) => [l.token, l.grant.anyHost ? "*" : [...l.grant.hosts].join("|")]), [["shared", "*"], ["per-host", "compute-1|compute-2"]]);
    const bound = parseTokenLines("t compute-1,compute-2")[0]?.grant ?? { anyHost: true };
    assert.ok(grantAllows(bound, "compute-2"));
    assert.ok(!grantAllows(bound, "compute-3"));
    assert.ok(grantAllows({ anyHost: true }, "anything"));
  });
});
