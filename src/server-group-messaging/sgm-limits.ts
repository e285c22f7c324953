/** Limits of server-group messaging (docs/protocols/server-group-messaging.md). */
export const SGM_LIMITS = {
  /** Largest broadcast payload: bytes of the payload inside its JSON string on the wire. */
  maxPayloadBytes: 3050,
  /** Application references (`ref`) and message ids. */
  refPattern: /^[A-Za-z0-9._:-]{1,64}$/,
  /** Member names are cut to this many UTF-8 bytes in guest-bound messages. */
  maxNameBytes: 64,
  /** Free-text `reason` and `detail` fields. */
  maxReasonBytes: 256,
  /** One NDJSON line between node agents and the operator. */
  maxLinkLineBytes: 64 * 1024,
  /** Messages in one POST /v1/sgm/messages body. */
  maxMessagesPerPost: 500,
  /** Instances one agent may list as connected. */
  maxGuestsPerHost: 1024,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(x: unknown): x is string {
  return typeof x === "string" && UUID.test(x);
}

export function isRef(x: unknown): x is string {
  return typeof x === "string" && SGM_LIMITS.refPattern.test(x);
}

/**
 * The size a payload is measured by: its bytes inside the JSON string as JSON.stringify
 * writes it (only `"`, `\` and control characters escaped). For text without those it is
 * the UTF-8 length. The guest agent counts the same way.
 */
export function payloadWireBytes(payload: string): number {
  return Buffer.byteLength(JSON.stringify(payload), "utf8") - 2;
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function cutUtf8(s: string, max: number): string {
  if (Buffer.byteLength(s, "utf8") <= max) return s;
  let out = "";
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, "utf8");
    if (used + n > max) break;
    out += ch;
    used += n;
  }
  return out;
}
