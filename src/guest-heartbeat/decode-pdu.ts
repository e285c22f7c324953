import { ACTION_PATTERNS, LIMITS, PROTOCOL_VERSION, type ErrorBody, type GuestPdu, type SgmMessage } from "./guest-pdu.js";

/** Why a line was dropped; also the name of the counter it increments. */
export type DecodeErrorKind = "malformed" | "unknownVersion" | "unknownGroup" | "unhandledGroup" | "unknownType" | "unexpected" | "invalidBody";

export interface DecodeError {
  kind: DecodeErrorKind;
  detail: string;
  /** The version the peer used, for `unknownVersion`. */
  version?: number;
  /** The dropped message was itself a base/error: never answer it. */
  isError: boolean;
}

export type DecodeResult = { ok: true; pdu: GuestPdu } | { ok: false; error: DecodeError };

/** A line of the `sgm` group with a valid envelope, routed to the server-group messaging layer. */
export type LineResult = DecodeResult | { ok: true; sgm: SgmMessage };

/** Which side decodes: each accepts only the types sent towards it. */
export type Receiver = "host" | "guest";

type Fields = Record<string, unknown>;
type BodyDecoder = (b: Fields) => { body: GuestPdu["body"] } | { invalid: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

const RE = {
  code: /^[a-z][a-z0-9_]{0,63}$/,
  agent: /^[\x21-\x7e]{1,64}$/,
  hex32: /^[0-9a-f]{32}$/,
  group: /^[a-z][a-z0-9-]{0,31}$/,
  ...ACTION_PATTERNS,
};

function isObject(x: unknown): x is Fields {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function intIn(x: unknown, min: number, max: number): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= min && x <= max;
}

function matches(x: unknown, re: RegExp): x is string {
  return typeof x === "string" && re.test(x);
}

/** A free-text field: at most 256 UTF-8 bytes; `required` means present and non-empty. */
function reasonOk(b: Fields, key: string, required: boolean): boolean {
  if (!(key in b)) return !required;
  const v = b[key];
  return typeof v === "string" && Buffer.byteLength(v, "utf8") <= LIMITS.maxReasonBytes && !(required && v === "");
}

function optionalInt(b: Fields, key: string, min: number, max: number): boolean {
  return !(key in b) || intIn(b[key], min, max);
}

function groupsOf(x: unknown): string[] | undefined {
  if (!Array.isArray(x) || x.length > 8) return undefined;
  const out: string[] = [];
  for (const g of x as unknown[]) {
    if (!matches(g, RE.group)) return undefined;
    out.push(g);
  }
  return out;
}

function pick<T extends object>(b: Fields, keys: string[]): T {
  const out: Fields = {};
  for (const k of keys) if (k in b) out[k] = b[k];
  return out as T;
}

const decodeError: BodyDecoder = (b) => {
  if (!matches(b.code, RE.code)) return { invalid: "code" };
  if ("supported" in b) {
    const s = b.supported;
    if (!Array.isArray(s) || s.length > 16 || !(s as unknown[]).every((n) => intIn(n, 1, 1000))) return { invalid: "supported" };
  }
  if (!reasonOk(b, "detail", false)) return { invalid: "detail" };
  return { body: pick<ErrorBody>(b, ["code", "supported", "detail"]) };
};

const decodeInit: BodyDecoder = (b) => {
  if (!matches(b.agent, RE.agent)) return { invalid: "agent" };
  if (!matches(b.bootId, RE.hex32)) return { invalid: "bootId" };
  if (!optionalInt(b, "intervalMs", LIMITS.minIntervalMs, LIMITS.maxIntervalMs)) return { invalid: "intervalMs" };
  if (!optionalInt(b, "threshold", LIMITS.minThreshold, LIMITS.maxThreshold)) return { invalid: "threshold" };
  const groups = groupsOf(b.groups);
  if (!groups?.includes("heartbeat")) return { invalid: "groups" };
  return { body: { ...pick(b, ["agent", "bootId", "intervalMs", "threshold"]), groups } as GuestPdu["body"] };
};

const decodeInitAck: BodyDecoder = (b) => {
  if (!intIn(b.intervalMs, LIMITS.minIntervalMs, LIMITS.maxIntervalMs)) return { invalid: "intervalMs" };
  if (!intIn(b.threshold, LIMITS.minThreshold, LIMITS.maxThreshold)) return { invalid: "threshold" };
  const groups = groupsOf(b.groups);
  if (!groups) return { invalid: "groups" };
  return { body: { intervalMs: b.intervalMs, threshold: b.threshold, groups } };
};

const decodeChallenge: BodyDecoder = (b) => {
  if (!intIn(b.seq, 1, LIMITS.maxSeq)) return { invalid: "seq" };
  if (!matches(b.nonce, RE.hex32)) return { invalid: "nonce" };
  return { body: { seq: b.seq, nonce: b.nonce } };
};

const decodeResponse: BodyDecoder = (b) => {
  if (!intIn(b.seq, 1, LIMITS.maxSeq)) return { invalid: "seq" };
  if (!matches(b.nonce, RE.hex32)) return { invalid: "nonce" };
  if (b.health !== "healthy" && b.health !== "unhealthy") return { invalid: "health" };
  if (!reasonOk(b, "reason", b.health === "unhealthy")) return { invalid: "reason" };
  return { body: pick(b, ["seq", "nonce", "health", "reason"]) };
};

const decodeExit: BodyDecoder = (b) => (reasonOk(b, "reason", true) ? { body: pick(b, ["reason"]) } : { invalid: "reason" });

const decodeActionNotify: BodyDecoder = (b) => {
  if (!matches(b.actionId, RE.actionId)) return { invalid: "actionId" };
  if (!matches(b.action, RE.action)) return { invalid: "action" };
  if (typeof b.revocable !== "boolean") return { invalid: "revocable" };
  if (!intIn(b.deadlineMs, LIMITS.minDeadlineMs, LIMITS.maxDeadlineMs)) return { invalid: "deadlineMs" };
  if (!reasonOk(b, "reason", false)) return { invalid: "reason" };
  return { body: pick(b, ["actionId", "action", "revocable", "deadlineMs", "reason"]) };
};

const decodeVote: BodyDecoder = (b) => {
  if (!matches(b.actionId, RE.actionId)) return { invalid: "actionId" };
  if (b.vote !== "accept" && b.vote !== "refuse") return { invalid: "vote" };
  if (!reasonOk(b, "reason", b.vote === "refuse")) return { invalid: "reason" };
  return { body: pick(b, ["actionId", "vote", "reason"]) };
};

/** Per group and type: who may receive it ("both" for error and exit) and its body decoder. */
const TYPES: Record<string, Record<string, { to: Receiver | "both"; decode: BodyDecoder }>> = {
  base: { error: { to: "both", decode: decodeError } },
  heartbeat: {
    init: { to: "host", decode: decodeInit },
    "init-ack": { to: "guest", decode: decodeInitAck },
    challenge: { to: "guest", decode: decodeChallenge },
    response: { to: "host", decode: decodeResponse },
    exit: { to: "both", decode: decodeExit },
    "action-notify": { to: "guest", decode: decodeActionNotify },
    vote: { to: "host", decode: decodeVote },
  },
  sgm: {},
};

function fail(kind: DecodeErrorKind, detail: string, isError = false, version?: number): DecodeResult {
  return { ok: false, error: version === undefined ? { kind, detail, isError } : { kind, detail, isError, version } };
}

function parseObject(line: Uint8Array): Fields | undefined {
  try {
    const parsed: unknown = JSON.parse(utf8.decode(line));
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Validates one line (without its newline) as seen by `receiver`; `sgm` lines count as `unhandledGroup`. Never throws. */
export function decodePdu(line: Uint8Array, receiver: Receiver): DecodeResult {
  const r = decodeLine(line, receiver);
  return "sgm" in r ? fail("unhandledGroup", "group sgm has no handler here") : r;
}

/**
 * Like decodePdu, but a line of the `sgm` group whose envelope is valid is returned as it is
 * (type and body unvalidated) for the server-group messaging layer. Never throws.
 */
export function decodeLine(line: Uint8Array, receiver: Receiver): LineResult {
  const env = parseObject(line);
  if (!env) return fail("malformed", "not a JSON object");
  const isError = env.group === "base" && env.type === "error";
  if (!intIn(env.v, 0, 2 ** 31 - 1)) return fail("malformed", "v must be a non-negative integer", isError);
  if (env.v !== PROTOCOL_VERSION) return fail("unknownVersion", "unsupported version", isError, env.v);
  if (typeof env.group !== "string") return fail("malformed", "group must be a string");
  if (typeof env.type !== "string") return fail("malformed", "type must be a string");
  if (!isObject(env.body)) return fail("malformed", "body must be an object", isError);
  const types = Object.hasOwn(TYPES, env.group) ? TYPES[env.group] : undefined;
  if (!types) return fail("unknownGroup", `group ${env.group}`);
  if (env.group === "sgm") return { ok: true, sgm: { type: env.type, body: env.body } };
  const spec = Object.hasOwn(types, env.type) ? types[env.type] : undefined;
  if (!spec) return fail("unknownType", `${env.group}/${env.type}`, isError);
  if (spec.to !== "both" && spec.to !== receiver) return fail("unexpected", `${env.type} is not sent in this direction`);
  const decoded = spec.decode(env.body);
  if ("invalid" in decoded) return fail("invalidBody", `${env.type}: ${decoded.invalid}`, isError);
  return { ok: true, pdu: { group: env.group, type: env.type, body: decoded.body } as GuestPdu };
}
