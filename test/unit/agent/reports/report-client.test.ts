import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import type { AgentReport, GuestHealthReport } from "../../../../src/agent/reports/agent-report.js";
import { ReportClient, type ReportClientOptions } from "../../../../src/agent/reports/report-client.js";
import { prometheusReportClientMetrics, type ReportClientMetrics, type ReportErrorReason } from "../../../../src/agent/reports/report-client-metrics.js";
import type { ReceiverMetrics } from "../../../../src/agent-reports/receiver-metrics.js";
import { AgentReportServer, REPORTS_PATH } from "../../../../src/agent-reports/report-server.js";
import { AgentReportTable } from "../../../../src/agent-reports/report-table.js";
import { TokenSet } from "../../../../src/agent-reports/token-set.js";
import { SystemClock } from "../../../../src/util/clock.js";
import { silentLogger } from "../../../../src/util/logger.js";
import { eventually } from "../../../support/eventually.js";
import { freePort } from "../../../support/free-port.js";
import { selfSignedCert, type SelfSignedCert } from "../../../support/self-signed-cert.js";

class CountingMetrics implements ReportClientMetrics {
  sentTotal = 0;
  droppedTotal = 0;
  bufferedNow = 0;
  errors = new Map<ReportErrorReason, number>();
  sent(n: number): void {
    this.sentTotal += n;
  }
  dropped(n: number): void {
    this.droppedTotal += n;
  }
  buffered(n: number): void {
    this.bufferedNow = n;
  }
  error(reason: ReportErrorReason): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
  }
}

const nullReceiverMetrics: ReceiverMetrics = { received: () => undefined, refused: () => undefined };
const clock = new SystemClock();

function health(n: number): GuestHealthReport {
  const uuid = `a0000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  return { kind: "GuestHealth", host: "compute-1", instanceUuid: uuid, state: "Unresponsive", intervalMs: 1000, threshold: 3, at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString() };
}

describe("ReportClient (agent → operator over HTTPS)", function () {
  this.timeout(20_000);
  let tls: SelfSignedCert;
  let tokenFile: string;
  let serverTokens: string;
  const servers: AgentReportServer[] = [];
  const clients: ReportClient[] = [];
  const stops = new AbortController();

  before(() => {
    tls = selfSignedCert();
    tokenFile = join(tls.dir, "agent-token");
    serverTokens = join(tls.dir, "tokens");
    writeFileSync(tokenFile, "agent-secret-1\n");
    writeFileSync(serverTokens, "# allowed\nagent-secret-1\n");
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close(0);
    for (const s of servers.splice(0)) await s.stop();
  });
  after(() => stops.abort());

  async function startServer(port: number, table = new AgentReportTable()): Promise<AgentReportTable> {
    const s = new AgentReportServer({ host: "127.0.0.1", port, tlsCertFile: tls.certFile, tlsKeyFile: tls.keyFile, tokens: new TokenSet(serverTokens), table, clock, log: silentLogger(), metrics: nullReceiverMetrics });
    await s.start(stops.signal);
    servers.push(s);
    return table;
  }

  function client(ports: number[], over: Partial<ReportClientOptions> = {}): { c: ReportClient; m: CountingMetrics } {
    const m = new CountingMetrics();
    const c = new ReportClient({ endpoints: ports.map((p) => `https://127.0.0.1:${p}${REPORTS_PATH}`), tokenFile, caFile: tls.certFile, minBackoffMs: 20, maxBackoffMs: 100, requestTimeoutMs: 2000, clock, log: silentLogger(), metrics: m, ...over });
    clients.push(c);
    c.start();
    return { c, m };
  }

  const received = (t: AgentReportTable): string[] => t.since(0).entries.map((e) => (e.report.kind === "GuestHealth" ? e.report.instanceUuid.slice(-2) : "?"));

  it("delivers reports in order over verified TLS with the bearer token", async () => {
    const port = await freePort();
    const table = await startServer(port);
    const { c, m } = client([port]);
    for (let i = 1; i <= 5; i++) c.submit(health(i));
    await eventually(() => assert.deepEqual(received(table), ["01", "02", "03", "04", "05"]), 5000, 20);
    assert.equal(m.sentTotal, 5);
    await eventually(() => assert.equal(m.bufferedNow, 0), 2000, 20);
  });

  it("keeps reports while the operator is down and delivers them in order once it is up", async () => {
    const port = await freePort();
    const { c, m } = client([port]);
    for (let i = 1; i <= 4; i++) c.submit(health(i));
    await eventually(() => assert.ok((m.errors.get("connect") ?? 0) >= 2, "retried with backoff"), 3000, 10);
    assert.equal(c.pending, 4);
    assert.equal(m.bufferedNow, 4);
    c.submit(health(5));
    const table = await startServer(port);
    await eventually(() => assert.deepEqual(received(table), ["01", "02", "03", "04", "05"]), 5000, 20);
    assert.equal(m.droppedTotal, 0, "nothing within the buffer is lost");
  });

  it("drops the oldest reports when the buffer is full, and counts them", async () => {
    const port = await freePort();
    const { c, m } = client([port], { bufferSize: 3 });
    for (let i = 1; i <= 7; i++) c.submit(health(i));
    assert.equal(c.pending, 3);
    assert.equal(m.droppedTotal, 4);
    const table = await startServer(port);
    await eventually(() => assert.deepEqual(received(table), ["05", "06", "07"]), 5000, 20);
  });

  it("counts a refused token as an error, keeps retrying, and delivers once the token file holds a good one", async () => {
    const port = await freePort();
    const table = await startServer(port);
    writeFileSync(tokenFile, "wrong-token\n");
    try {
      const { c, m } = client([port]);
      c.submit(health(1));
      await eventually(() => assert.ok((m.errors.get("unauthorized") ?? 0) >= 2), 3000, 10);
      assert.equal(table.size, 0);
      assert.equal(c.pending, 1);
      writeFileSync(tokenFile, "agent-secret-1\n");
      await eventually(() => assert.deepEqual(received(table), ["01"]), 5000, 20);
    } finally {
      writeFileSync(tokenFile, "agent-secret-1\n");
    }
  });

  it("tries the next endpoint when the first does not answer", async () => {
    const dead = await freePort();
    const live = await freePort();
    const table = await startServer(live);
    const { c, m } = client([dead, live]);
    c.submit(health(1));
    c.submit(health(2));
    await eventually(() => assert.deepEqual(received(table), ["01", "02"]), 5000, 20);
    assert.ok((m.errors.get("connect") ?? 0) >= 1);
  });

  it("refuses to talk to a server whose certificate it cannot verify (no CA given) and counts it as tls", async () => {
    const port = await freePort();
    const table = await startServer(port);
    const m = new CountingMetrics();
    const c = new ReportClient({ endpoints: [`https://127.0.0.1:${port}${REPORTS_PATH}`], tokenFile, minBackoffMs: 20, maxBackoffMs: 50, clock, log: silentLogger(), metrics: m });
    clients.push(c);
    c.start();
    c.submit(health(1));
    await eventually(() => assert.ok((m.errors.get("tls") ?? 0) >= 1), 3000, 10);
    assert.equal(table.size, 0);
  });

  it("splits a batch the operator finds too large", async () => {
    const port = await freePort();
    const table = await startServer(port);
    const { c, m } = client([port], { maxBatch: 5000 });
    // ~3000 reports of ~400 bytes: more than 1 MiB in one body.
    const big = (n: number): AgentReport => ({ ...health(n % 50), reason: "x".repeat(300), at: new Date(Date.UTC(2026, 0, 1) + n).toISOString() });
    for (let i = 0; i < 3000; i++) c.submit(big(i));
    await eventually(() => assert.equal(c.pending, 0), 10_000, 50);
    assert.ok((m.errors.get("too_large") ?? 0) >= 1);
    assert.equal(m.sentTotal, 3000);
    assert.equal(m.droppedTotal, 0);
    assert.equal(table.size, 50);
  });

  it("never throws into the caller and never logs the token; exports the metrics", async () => {
    const registry = new Registry();
    const lines: string[] = [];
    const { pino } = await import("pino");
    const log = pino({ level: "trace" }, { write: (l: string) => lines.push(l) });
    const port = await freePort();
    const c = new ReportClient({ endpoints: [`https://127.0.0.1:${port}${REPORTS_PATH}`], tokenFile, caFile: tls.certFile, bufferSize: 1, minBackoffMs: 20, maxBackoffMs: 40, clock, log, metrics: prometheusReportClientMetrics(registry) });
    clients.push(c);
    c.start();
    assert.doesNotThrow(() => c.submit(health(1)));
    assert.doesNotThrow(() => c.submit(health(2)));
    await eventually(async () => assert.match(await registry.metrics(), /vmkeeper_agent_report_errors_total\{reason="connect"\} [1-9]/), 3000, 20);
    const text = await registry.metrics();
    assert.match(text, /vmkeeper_agent_reports_dropped_total 1/);
    assert.match(text, /vmkeeper_agent_reports_buffered 1/);
    assert.ok(lines.length > 0);
    assert.ok(!lines.some((l) => l.includes("agent-secret-1")), "the token never reaches a log line");
  });

  it("rejects invalid options at construction", () => {
    const base = { tokenFile, clock, log: silentLogger(), metrics: new CountingMetrics() };
    assert.throws(() => new ReportClient({ ...base, endpoints: [] }), /at least one endpoint/);
    assert.throws(() => new ReportClient({ ...base, endpoints: ["http://127.0.0.1:1/v1/reports"] }), /must be https/);
    assert.doesNotThrow(() => new ReportClient({ ...base, endpoints: ["http://127.0.0.1:1/v1/reports"], allowPlainHttp: true }));
    assert.throws(() => new ReportClient({ ...base, endpoints: ["https://x/v1/reports"], clientCertFile: "/c" }), /go together/);
  });
});
