import type { AgentReport, DomainEventKind, DomainEventReport, GuestHealthReport, GuestHealthState, ProcessHealthReport } from "../agent/reports/agent-report.js";

/** Why a report was refused (label `result` of vmkeeper_agent_reports_received_total, and the 400 body). */
export type ReportErrorCode = "NotAnObject" | "UnknownKind" | "MissingField" | "InvalidField" | "UnknownField" | "TooManyReports" | "HostNotAllowed";

export class ReportValidationError extends Error {
  override readonly name = "ReportValidationError";
  constructor(
    readonly code: ReportErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export type ValidatedReport = { ok: true; report: AgentReport } | { ok: false; kind: string; error: ReportValidationError };

export const REPORT_KINDS = ["DomainEvent", "GuestHealth", "ProcessHealth"] as const;
const DOMAIN_EVENTS: readonly DomainEventKind[] = ["Crashed", "StoppedUnrequested", "GuestShutdown", "PausedIOError", "WatchdogFired", "Started"];
const GUEST_STATES: readonly GuestHealthState[] = ["Healthy", "Unhealthy", "Unresponsive", "Exited"];

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
/** nova-compute host names: DNS-ish, as Nova's service host. */
const HOST = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,253}[A-Za-z0-9])?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const MAX_TEXT = 1024;
const MAX_PROCESSES = 64;

type Fields = Record<string, unknown>;

/**
 * Checks one element of `{"reports": [...]}` strictly: known kind, every required field of
 * the right type and form, no unknown field. Pure; never throws (the error is returned).
 */
export function validateReport(raw: unknown): ValidatedReport {
  try {
    return { ok: true, report: check(raw) };
  } catch (err: unknown) {
    const kind = isObject(raw) && typeof raw.kind === "string" && (REPORT_KINDS as readonly string[]).includes(raw.kind) ? raw.kind : "Unknown";
    if (err instanceof ReportValidationError) return { ok: false, kind, error: err };
    return { ok: false, kind, error: new ReportValidationError("InvalidField", "", String(err)) };
  }
}

function check(raw: unknown): AgentReport {
  if (!isObject(raw)) throw new ReportValidationError("NotAnObject", "", "a report must be a JSON object");
  switch (raw.kind) {
    case "DomainEvent":
      return domainEvent(raw);
    case "GuestHealth":
      return guestHealth(raw);
    case "ProcessHealth":
      return processHealth(raw);
    default:
      throw new ReportValidationError(raw.kind === undefined ? "MissingField" : "UnknownKind", "kind", `kind must be one of ${REPORT_KINDS.join(", ")}`);
  }
}

function domainEvent(r: Fields): DomainEventReport {
  onlyFields(r, ["kind", "host", "instanceUuid", "domainName", "event", "detail", "at"]);
  return {
    kind: "DomainEvent",
    host: host(r),
    instanceUuid: uuid(r),
    domainName: text(r, "domainName", 1, 255),
    event: oneOf(r, "event", DOMAIN_EVENTS),
    detail: text(r, "detail", 0, MAX_TEXT),
    at: at(r),
  };
}

function guestHealth(r: Fields): GuestHealthReport {
  onlyFields(r, ["kind", "host", "instanceUuid", "state", "reason", "intervalMs", "threshold", "at"]);
  const out: GuestHealthReport = {
    kind: "GuestHealth",
    host: host(r),
    instanceUuid: uuid(r),
    state: oneOf(r, "state", GUEST_STATES),
    intervalMs: int(r, "intervalMs", 1, 3_600_000),
    threshold: int(r, "threshold", 1, 1000),
    at: at(r),
  };
  if (r.reason !== undefined) out.reason = text(r, "reason", 0, MAX_TEXT);
  return out;
}

function processHealth(r: Fields): ProcessHealthReport {
  onlyFields(r, ["kind", "host", "processes", "degraded", "at"]);
  const list = r.processes;
  if (!Array.isArray(list)) throw missingOr(r, "processes", "an array");
  if (list.length > MAX_PROCESSES) throw new ReportValidationError("InvalidField", "processes", `at most ${MAX_PROCESSES} processes`);
  const processes = list.map((p: unknown, i) => {
    if (!isObject(p)) throw new ReportValidationError("InvalidField", `processes[${i}]`, "must be an object");
    onlyFields(p, ["name", "running"], `processes[${i}].`);
    if (typeof p.running !== "boolean") throw new ReportValidationError("InvalidField", `processes[${i}].running`, "must be a boolean");
    return { name: text(p, "name", 1, 128, `processes[${i}].`), running: p.running };
  });
  if (typeof r.degraded !== "boolean") throw missingOr(r, "degraded", "a boolean");
  return { kind: "ProcessHealth", host: host(r), processes, degraded: r.degraded, at: at(r) };
}

function onlyFields(r: Fields, allowed: readonly string[], prefix = ""): void {
  for (const k of Object.keys(r)) if (!allowed.includes(k)) throw new ReportValidationError("UnknownField", `${prefix}${k}`, `unknown field ${prefix}${k}`);
}

function missingOr(r: Fields, field: string, what: string, prefix = ""): ReportValidationError {
  return r[field] === undefined ? new ReportValidationError("MissingField", `${prefix}${field}`, `${prefix}${field} is required`) : new ReportValidationError("InvalidField", `${prefix}${field}`, `${prefix}${field} must be ${what}`);
}

function text(r: Fields, field: string, min: number, max: number, prefix = ""): string {
  const v = r[field];
  if (typeof v !== "string") throw missingOr(r, field, "a string", prefix);
  if (v.length < min || v.length > max) throw new ReportValidationError("InvalidField", `${prefix}${field}`, `${prefix}${field} must be ${min}..${max} characters`);
  return v;
}

function host(r: Fields): string {
  const v = text(r, "host", 1, 255);
  if (!HOST.test(v)) throw new ReportValidationError("InvalidField", "host", "host is not a host name");
  return v;
}

function uuid(r: Fields): string {
  const v = text(r, "instanceUuid", 32, 36);
  if (!UUID.test(v)) throw new ReportValidationError("InvalidField", "instanceUuid", "instanceUuid is not a UUID");
  return v.toLowerCase();
}

function at(r: Fields): string {
  const v = text(r, "at", 20, 40);
  if (!RFC3339.test(v) || Number.isNaN(Date.parse(v))) throw new ReportValidationError("InvalidField", "at", "at must be an RFC 3339 time");
  return v;
}

function int(r: Fields, field: string, min: number, max: number): number {
  const v = r[field];
  if (typeof v !== "number") throw missingOr(r, field, "a number");
  if (!Number.isInteger(v) || v < min || v > max) throw new ReportValidationError("InvalidField", field, `${field} must be an integer ${min}..${max}`);
  return v;
}

function oneOf<T extends string>(r: Fields, field: string, values: readonly T[]): T {
  const v = r[field];
  if (typeof v !== "string") throw missingOr(r, field, "a string");
  if (!(values as readonly string[]).includes(v)) throw new ReportValidationError("InvalidField", field, `${field} must be one of ${values.join(", ")}`);
  return v as T;
}

function isObject(v: unknown): v is Fields {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The batch envelope `{"reports": [...]}`; throws a ReportValidationError when it is not one. */
export function parseEnvelope(body: string, maxReports: number): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ReportValidationError("NotAnObject", "", "the body is not JSON");
  }
  if (!isObject(parsed)) throw new ReportValidationError("NotAnObject", "", 'the body must be {"reports": [...]}');
  for (const k of Object.keys(parsed)) if (k !== "reports") throw new ReportValidationError("UnknownField", k, `unknown field ${k}`);
  if (!Array.isArray(parsed.reports)) throw missingOr(parsed, "reports", "an array");
  if (parsed.reports.length > maxReports) throw new ReportValidationError("TooManyReports", "reports", `at most ${maxReports} reports per request`);
  return parsed.reports as unknown[];
}
