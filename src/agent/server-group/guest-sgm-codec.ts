import { encodeSgm, type SgmMessage } from "../../guest-heartbeat/guest-pdu.js";
import type { OperatorToAgent, SgmErrorCode, StatusMember } from "../../server-group-messaging/link-messages.js";
import { cutUtf8, isRef, payloadWireBytes, SGM_LIMITS } from "../../server-group-messaging/sgm-limits.js";

/** The largest line either end of the virtio-serial channel accepts (docs/protocols/guest-heartbeat.md). */
const MAX_LINE_BYTES = 4096;

/** What a guest may send in the `sgm` group, validated. */
export type GuestRequest = { kind: "broadcast"; ref?: string; payload: string } | { kind: "status-query"; ref?: string };

export type GuestDecode = GuestRequest | { refused: SgmErrorCode; detail: string; ref?: string };

/** Fields by which a guest could try to name a sender; the platform stamps the sender itself. */
const IDENTITY_FIELDS = ["from", "sender", "instanceId", "instanceUuid"];

function refOf(body: Record<string, unknown>): { ref?: string } {
  return isRef(body.ref) ? { ref: body.ref } : {};
}

/** Validates one guest sgm message. Never throws. */
export function decodeGuestSgm(m: SgmMessage): GuestDecode {
  const b = m.body;
  if ("ref" in b && !isRef(b.ref)) return { refused: "invalid_message", detail: "ref must match [A-Za-z0-9._:-]{1,64}" };
  for (const claim of IDENTITY_FIELDS) if (claim in b) return { refused: "spoofed", detail: `${claim}: the sender is set by the platform, not by the guest`, ...refOf(b) };
  switch (m.type) {
    case "broadcast": {
      if (typeof b.payload !== "string") return { refused: "invalid_message", detail: "broadcast: payload must be a string", ...refOf(b) };
      const size = payloadWireBytes(b.payload);
      if (size > SGM_LIMITS.maxPayloadBytes) return { refused: "payload_too_large", detail: `payload is ${size} bytes; at most ${SGM_LIMITS.maxPayloadBytes}`, ...refOf(b) };
      return { kind: "broadcast", payload: b.payload, ...refOf(b) };
    }
    case "status-query":
      return { kind: "status-query", ...refOf(b) };
    default:
      return { refused: "invalid_message", detail: `unknown sgm type ${cutUtf8(m.type, 32)}`, ...refOf(b) };
  }
}

const name = (s: string): string => cutUtf8(s, SGM_LIMITS.maxNameBytes);

/** The guest-bound messages for one operator message (several lines for a large status). */
export function guestMessagesFor(m: OperatorToAgent, self: string): SgmMessage[] {
  switch (m.t) {
    case "deliver":
      return [{ type: "deliver", body: { id: m.id, from: { instanceId: m.from, name: name(m.fromName) }, payload: m.payload, sentAt: m.sentAt } }];
    case "notify":
      return [{ type: "notification", body: { id: m.id, instanceId: m.instanceId, name: name(m.name), state: m.state, previousState: m.previousState, cause: m.event, ...(m.reason ? { reason: cutUtf8(m.reason, SGM_LIMITS.maxReasonBytes) } : {}), at: m.at } }];
    case "status":
      return statusParts(m.ref, self, { id: m.group.id, name: name(m.group.name), policy: m.group.policy }, m.members);
    case "error":
      return [errorMessage(m.code, m.detail, m.ref)];
    default:
      return [];
  }
}

export function errorMessage(code: SgmErrorCode, detail: string, ref?: string): SgmMessage {
  return { type: "error", body: { code, detail: cutUtf8(detail, SGM_LIMITS.maxReasonBytes), ...(ref ? { ref } : {}) } };
}

/** Splits a status answer into lines that each fit the channel's line limit; `part` counts from 1. */
export function statusParts(ref: string | undefined, self: string, group: { id: string; name: string; policy: string }, members: StatusMember[]): SgmMessage[] {
  const entries = members.map((m) => ({ instanceId: m.instanceId, name: name(m.name), state: m.state, agentConnected: m.agentConnected }));
  const chunks: (typeof entries)[] = [];
  const fits = (list: typeof entries): boolean => Buffer.byteLength(encodeSgm(body(list, 99, 99)), "utf8") <= MAX_LINE_BYTES - 64;
  const body = (list: typeof entries, part: number, parts: number): SgmMessage => ({ type: "status", body: { ...(ref ? { ref } : {}), part, parts, self, group, members: list } });
  let current: typeof entries = [];
  for (const e of entries) {
    if (current.length > 0 && !fits([...current, e])) {
      chunks.push(current);
      current = [];
    }
    current.push(e);
  }
  chunks.push(current);
  return chunks.map((list, i) => body(list, i + 1, chunks.length));
}
