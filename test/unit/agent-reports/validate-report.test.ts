import assert from "node:assert/strict";
import { parseEnvelope, validateReport, ReportValidationError } from "../../../src/agent-reports/validate-report.js";

const UUID = "0b7c2f0e-3f0a-4c1e-9d2b-5a6f7e8d9c01";
const guest = { kind: "GuestHealth", host: "compute-1", instanceUuid: UUID, state: "Unresponsive", reason: "3 missed", intervalMs: 2000, threshold: 5, at: "2026-03-01T12:00:00.123Z" };
const domain = { kind: "DomainEvent", host: "compute-1", instanceUuid: UUID, domainName: "instance-0000002a", event: "Crashed", detail: "Stopped Crashed", at: "2026-03-01T12:00:00Z" };
const proc = { kind: "ProcessHealth", host: "compute-1", processes: [{ name: "nova-compute", running: false }], degraded: true, at: "2026-03-01T12:00:00+01:00" };

describe("validateReport", () => {
  it("accepts well-formed reports of every kind", () => {
    for (const r of [guest, domain, proc]) {
      const v = validateReport(r);
      assert.ok(v.ok, JSON.stringify(v));
    }
  });

  it("normalises the instance UUID to lower case", () => {
    const v = validateReport({ ...guest, instanceUuid: UUID.toUpperCase() });
    assert.ok(v.ok && v.report.kind === "GuestHealth" && v.report.instanceUuid === UUID);
  });

  const bad: [string, unknown, string, string][] = [
    ["not an object", "hello", "NotAnObject", ""],
    ["an array", [guest], "NotAnObject", ""],
    ["null", null, "NotAnObject", ""],
    ["no kind", { ...guest, kind: undefined }, "MissingField", "kind"],
    ["unknown kind", { ...guest, kind: "Telemetry" }, "UnknownKind", "kind"],
    ["unknown field", { ...guest, extra: 1 }, "UnknownField", "extra"],
    ["missing host", { ...guest, host: undefined }, "MissingField", "host"],
    ["bad host", { ...guest, host: "compute 1;rm" }, "InvalidField", "host"],
    ["bad uuid", { ...guest, instanceUuid: "not-a-uuid-at-all-not-a-uuid-at-all" }, "InvalidField", "instanceUuid"],
    ["unknown state", { ...guest, state: "Sleepy" }, "InvalidField", "state"],
    ["interval not an integer", { ...guest, intervalMs: 1.5 }, "InvalidField", "intervalMs"],
    ["interval a string", { ...guest, intervalMs: "1000" }, "InvalidField", "intervalMs"],
    ["threshold zero", { ...guest, threshold: 0 }, "InvalidField", "threshold"],
    ["time without zone", { ...guest, at: "2026-03-01T12:00:00" }, "InvalidField", "at"],
    ["time not a date", { ...guest, at: "2026-13-45T12:00:00Z" }, "InvalidField", "at"],
    ["reason too long", { ...guest, reason: "x".repeat(1025) }, "InvalidField", "reason"],
    ["unknown domain event", { ...domain, event: "Exploded" }, "InvalidField", "event"],
    ["empty domain name", { ...domain, domainName: "" }, "InvalidField", "domainName"],
    ["processes not a list", { ...proc, processes: {} }, "InvalidField", "processes"],
    ["process without running", { ...proc, processes: [{ name: "libvirtd" }] }, "InvalidField", "processes[0].running"],
    ["process with an extra field", { ...proc, processes: [{ name: "libvirtd", running: true, pid: 1 }] }, "UnknownField", "processes[0].pid"],
    ["too many processes", { ...proc, processes: Array.from({ length: 65 }, (_, i) => ({ name: `p${i}`, running: true })) }, "InvalidField", "processes"],
    ["degraded missing", { ...proc, degraded: undefined }, "MissingField", "degraded"],
  ];
  for (const [name, raw, code, field] of bad) {
    it(`refuses ${name} (${code})`, () => {
      const v = validateReport(raw);
      assert.ok(!v.ok, "refused");
      assert.ok(v.error instanceof ReportValidationError);
      assert.equal(v.error.code, code, v.error.message);
      assert.equal(v.error.field, field);
    });
  }

  it("labels a refused report with its kind when known, else Unknown", () => {
    const a = validateReport({ ...domain, event: "Exploded" });
    const b = validateReport({ kind: "Nope" });
    assert.ok(!a.ok && a.kind === "DomainEvent");
    assert.ok(!b.ok && b.kind === "Unknown");
  });
});

describe("parseEnvelope", () => {
  it("returns the reports of a well-formed body", () => {
    assert.equal(parseEnvelope(JSON.stringify({ reports: [guest, domain] }), 10).length, 2);
  });
  for (const [name, body, code] of [
    ["not JSON", "{reports:", "NotAnObject"],
    ["a bare array", "[]", "NotAnObject"],
    ["no reports", "{}", "MissingField"],
    ["reports not a list", '{"reports": {}}', "InvalidField"],
    ["an unknown field", '{"reports": [], "x": 1}', "UnknownField"],
    ["too many reports", JSON.stringify({ reports: [1, 2, 3] }), "TooManyReports"],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseEnvelope(body, 2), (e: unknown) => e instanceof ReportValidationError && e.code === code);
    });
  }
});
