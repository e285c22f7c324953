/** Types, limits and encoding of the guest heartbeat protocol, version 1. */

export const PROTOCOL_VERSION = 1;

export const LIMITS = {
  minIntervalMs: 400,
  maxIntervalMs: 60_000,
  defaultIntervalMs: 1000,
  minThreshold: 1,
  maxThreshold: 20,
  defaultThreshold: 3,
  minDeadlineMs: 100,
  maxDeadlineMs: 600_000,
  maxReasonBytes: 256,
  maxSeq: Number.MAX_SAFE_INTEGER,
  /** Upper bound of the host's response window (half the interval otherwise). */
  maxResponseWindowMs: 500,
} as const;

/** Patterns of action-notify/vote fields, shared by the decoder, the host session and the agent link. */
export const ACTION_PATTERNS = {
  actionId: /^[A-Za-z0-9._:-]{1,64}$/,
  action: /^[a-z][a-z0-9-]{0,31}$/,
} as const;

export type Group = "base" | "heartbeat" | "sgm";

export interface InitBody {
  agent: string;
  bootId: string;
  intervalMs?: number;
  threshold?: number;
  groups: string[];
}
export interface InitAckBody {
  intervalMs: number;
  threshold: number;
  groups: string[];
}
export interface ChallengeBody {
  seq: number;
  nonce: string;
}
export type GuestHealthValue = "healthy" | "unhealthy";
export interface ResponseBody {
  seq: number;
  nonce: string;
  health: GuestHealthValue;
  reason?: string;
}
export interface ExitBody {
  reason: string;
}
export interface ActionNotifyBody {
  actionId: string;
  action: string;
  revocable: boolean;
  deadlineMs: number;
  reason?: string;
}
export interface VoteBody {
  actionId: string;
  vote: "accept" | "refuse";
  reason?: string;
}
export interface ErrorBody {
  code: string;
  supported?: number[];
  detail?: string;
}

/** Every v1 PDU, discriminated by group and type. */
export type GuestPdu =
  | { group: "base"; type: "error"; body: ErrorBody }
  | { group: "heartbeat"; type: "init"; body: InitBody }
  | { group: "heartbeat"; type: "init-ack"; body: InitAckBody }
  | { group: "heartbeat"; type: "challenge"; body: ChallengeBody }
  | { group: "heartbeat"; type: "response"; body: ResponseBody }
  | { group: "heartbeat"; type: "exit"; body: ExitBody }
  | { group: "heartbeat"; type: "action-notify"; body: ActionNotifyBody }
  | { group: "heartbeat"; type: "vote"; body: VoteBody };

/**
 * A message of the `sgm` group (server-group messaging). The base layer only routes it: its
 * type and body are validated by the server-group messaging layer (src/agent/server-group/),
 * see docs/protocols/server-group-messaging.md.
 */
export interface SgmMessage {
  type: string;
  body: Record<string, unknown>;
}

/** Renders an sgm message as one line, newline included. */
export function encodeSgm(message: SgmMessage): string {
  return `${JSON.stringify({ v: PROTOCOL_VERSION, group: "sgm", type: message.type, body: message.body })}\n`;
}

/** Renders a PDU as one line, newline included. */
export function encodePdu(pdu: GuestPdu): string {
  return `${JSON.stringify({ v: PROTOCOL_VERSION, group: pdu.group, type: pdu.type, body: pdu.body })}\n`;
}

/** The reply to a message of a version this side does not speak. */
export function unknownVersionError(version: number): GuestPdu {
  return { group: "base", type: "error", body: { code: "unknown_version", supported: [PROTOCOL_VERSION], detail: `version ${version} is not supported` } };
}
