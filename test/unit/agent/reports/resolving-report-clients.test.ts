import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { prometheusReportClientMetrics } from "../../../../src/agent/reports/report-client-metrics.js";
import { ResolvingReportClients } from "../../../../src/agent/reports/resolving-report-clients.js";
import { SystemClock } from "../../../../src/util/clock.js";
import { silentLogger } from "../../../../src/util/logger.js";

describe("ResolvingReportClients (one report client per operator replica)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vk-rrc-"));
    writeFileSync(join(dir, "token"), "t0ken");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("follows a name's addresses, keeps them while the name does not resolve, and leaves IP endpoints alone", async () => {
    let answer: { address: string; family: number }[] | Error = [{ address: "10.0.0.1", family: 4 }, { address: "10.0.0.2", family: 4 }];
    const clients = new ResolvingReportClients({
      endpoints: ["http://reports.ops.svc:8443/v1/reports", "http://192.0.2.9:8443/v1/reports"],
      tokenFile: join(dir, "token"),
      allowPlainHttp: true,
      clock: new SystemClock(),
      log: silentLogger(),
      metrics: prometheusReportClientMetrics(new Registry()),
      lookup: (host) => {
        assert.equal(host, "reports.ops.svc");
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    });
    try {
      await clients.refresh();
      assert.equal(clients.endpointCount, 3);
      answer = new Error("SERVFAIL");
      await clients.refresh();
      assert.equal(clients.endpointCount, 3, "a DNS failure silences no replica");
      answer = [{ address: "10.0.0.2", family: 4 }];
      await clients.refresh();
      assert.equal(clients.endpointCount, 2, "a replica that left is dropped");
    } finally {
      await clients.close(0);
    }
  });
});
