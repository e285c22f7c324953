import assert from "node:assert/strict";
import type { DomainEventReport } from "../../../src/agent/reports/agent-report.js";
import { AgentReportTable } from "../../../src/agent-reports/report-table.js";

const ev = (n: number, event: DomainEventReport["event"], sec: number): DomainEventReport => ({ kind: "DomainEvent", host: "compute-1", instanceUuid: `a0000000-0000-4000-8000-${String(n).padStart(12, "0")}`, domainName: `instance-${n}`, event, detail: "", at: new Date(Date.UTC(2026, 0, 1, 0, 0, sec)).toISOString() });

describe("AgentReportTable", () => {
  it("keeps the newest domain event and the last start per instance", () => {
    const t = new AgentReportTable();
    t.put(ev(1, "Started", 1), 0);
    t.put(ev(1, "Crashed", 5), 0);
    assert.equal(t.put(ev(1, "GuestShutdown", 3), 0), "Stale");
    const s = t.get(ev(1, "Started", 1).instanceUuid);
    assert.equal(s?.domainEvent?.event, "Crashed");
    assert.equal(s?.lastStarted?.at, ev(1, "Started", 1).at);
  });

  it("is bounded: the least recently updated instance and the oldest log entries go first", () => {
    const t = new AgentReportTable({ maxInstances: 2, logSize: 3 });
    t.put(ev(1, "Crashed", 1), 0);
    t.put(ev(2, "Crashed", 1), 0);
    t.put(ev(1, "Started", 2), 0);
    t.put(ev(3, "Crashed", 1), 0);
    assert.equal(t.size, 2);
    assert.equal(t.get(ev(2, "Crashed", 1).instanceUuid), undefined);
    assert.ok(t.get(ev(1, "Crashed", 1).instanceUuid));
    const all = t.since(0);
    assert.deepEqual(all.entries.map((e) => e.seq), [2, 3, 4]);
    assert.equal(all.cursor, 4);
  });

  it("hands out the entries after a cursor, and tells listeners", () => {
    const t = new AgentReportTable();
    const heard: number[] = [];
    t.onAccepted((e) => heard.push(e.seq));
    t.put(ev(1, "Crashed", 1), 0);
    const c = t.since(0).cursor;
    t.put(ev(2, "Crashed", 1), 0);
    t.put(ev(3, "Crashed", 1), 0);
    assert.deepEqual(t.since(c).entries.map((e) => e.seq), [2, 3]);
    assert.deepEqual(t.since(t.since(0).cursor).entries, []);
    assert.deepEqual(heard, [1, 2, 3]);
  });
});
