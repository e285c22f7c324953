import { ACTION_PATTERNS, LIMITS } from "../guest-heartbeat/guest-pdu.js";
import { MAX_UNHEALTHY_THRESHOLD, VOTE_OUTCOMES, type HostSessionSettings, type VoteOutcome } from "../guest-heartbeat/host-session.js";
import { isRef, isUuid, SGM_LIMITS } from "./sgm-limits.js";

/** Member states of server-group messaging (the CRD's memberState). */
export const MEMBER_STATES = ["Active", "Stopped", "Error", "Recovering", "Recovered", "Deleted", "Unknown"] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

/** Why a member's state changed, as told in notifications. */
export const NOTIFICATION_EVENTS = ["StateChanged", "HostFailed", "RecoveryStarted", "RecoveryFinished", "RecoveryFailed", "Deleted"] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** Codes of the errors sent back to a guest. */
export type SgmErrorCode = "payload_too_large" | "invalid_message" | "rate_limited" | "not_member" | "disabled" | "unavailable" | "spoofed";

// ---- node agent → operator (POST /v1/sgm/messages) ----

/** Guest control on the same link (src/controllers/guest-actions/): not server-group messaging. */
export type GuestControlAgentMessage =
  /** Every instance with a heartbeat channel on this host (settings go to these). */
  | { t: "channels"; instances: string[] }
  | { t: "vote"; from: string; actionId: string; outcome: VoteOutcome; reason?: string };

export type AgentToOperator = SgmAgentMessage | GuestControlAgentMessage;

export type SgmAgentMessage =
  | { t: "guests"; instances: string[] }
  | { t: "broadcast"; id: string; from: string; ref?: string; payload: string }
  | { t: "status-query"; from: string; ref?: string }
  | { t: "refused"; from: string; code: "payload_too_large" | "invalid_message" | "spoofed" };

export interface AgentPost {
  host: string;
  messages: AgentToOperator[];
}

// ---- operator → node agent (GET /v1/sgm/stream) ----

export interface StatusMember {
  instanceId: string;
  name: string;
  state: MemberState;
  agentConnected: boolean;
}

/** Host session settings shared by a set of instances (one entry per distinct policy setting). */
export interface GuestSettingsGroup extends HostSessionSettings {
  instances: string[];
}

export type GuestControlOperatorMessage =
  /** The full set of operator-decided session settings for this host's channels; unlisted instances use the agent's own. */
  | { t: "guest-settings"; groups: GuestSettingsGroup[] }
  /** Ask the guest of `to` to accept or refuse a corrective action within deadlineMs (always revocable). */
  | { t: "action-notify"; to: string; actionId: string; action: string; deadlineMs: number; reason?: string };

export type OperatorToAgent = SgmOperatorMessage | GuestControlOperatorMessage;

/** Whether a message belongs to guest control rather than server-group messaging. */
export function isGuestControl<M extends AgentToOperator | OperatorToAgent>(m: M): m is Extract<M, GuestControlAgentMessage | GuestControlOperatorMessage> {
  return m.t === "channels" || m.t === "vote" || m.t === "guest-settings" || m.t === "action-notify";
}

export type SgmOperatorMessage =
  | { t: "hello"; replica: string }
  | { t: "ping" }
  | { t: "deliver"; to: string[]; id: string; from: string; fromName: string; payload: string; sentAt: string }
  | { t: "notify"; to: string[]; id: string; instanceId: string; name: string; state: MemberState; previousState: MemberState; event: NotificationEvent; reason?: string; at: string }
  | { t: "status"; to: string; ref?: string; group: { id: string; name: string; policy: string }; members: StatusMember[] }
  | { t: "error"; to: string; ref?: string; code: SgmErrorCode; detail: string };

type Fields = Record<string, unknown>;

function isObject(x: unknown): x is Fields {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function optRef(b: Fields): boolean {
  return !("ref" in b) || isRef(b.ref);
}

function uuidList(x: unknown, max: number): x is string[] {
  return Array.isArray(x) && x.length <= max && (x as unknown[]).every(isUuid);
}

const HOST = /^[\x21-\x7e]{1,255}$/;

/** One agent message, or why it is refused. Never throws. */
export function parseAgentMessage(x: unknown): AgentToOperator | { invalid: string } {
  if (!isObject(x)) return { invalid: "not an object" };
  switch (x.t) {
    case "guests":
      return uuidList(x.instances, SGM_LIMITS.maxGuestsPerHost) ? { t: "guests", instances: x.instances } : { invalid: "guests: instances" };
    case "channels":
      return uuidList(x.instances, SGM_LIMITS.maxGuestsPerHost) ? { t: "channels", instances: x.instances } : { invalid: "channels: instances" };
    case "vote":
      if (!isUuid(x.from) || !isActionId(x.actionId) || typeof x.outcome !== "string" || !OUTCOME_SET.has(x.outcome)) return { invalid: "vote: from, actionId or outcome" };
      if ("reason" in x && !str(x.reason, SGM_LIMITS.maxReasonBytes)) return { invalid: "vote: reason" };
      return { t: "vote", from: x.from, actionId: x.actionId, outcome: x.outcome as VoteOutcome, ...(typeof x.reason === "string" ? { reason: x.reason } : {}) };
    case "broadcast":
      if (!isUuid(x.id) || !isUuid(x.from) || !optRef(x) || typeof x.payload !== "string") return { invalid: "broadcast: id, from, ref or payload" };
      return { t: "broadcast", id: x.id, from: x.from, payload: x.payload, ...(isRef(x.ref) ? { ref: x.ref } : {}) };
    case "status-query":
      if (!isUuid(x.from) || !optRef(x)) return { invalid: "status-query: from or ref" };
      return { t: "status-query", from: x.from, ...(isRef(x.ref) ? { ref: x.ref } : {}) };
    case "refused":
      if (!isUuid(x.from) || (x.code !== "payload_too_large" && x.code !== "invalid_message" && x.code !== "spoofed")) return { invalid: "refused: from or code" };
      return { t: "refused", from: x.from, code: x.code };
    default:
      return { invalid: "unknown t" };
  }
}

/** A POST body, or why it is refused as a whole. Invalid messages inside are reported one by one by the caller. */
export function parseAgentPost(text: string): { host: string; raw: unknown[] } | { invalid: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { invalid: "not JSON" };
  }
  if (!isObject(parsed)) return { invalid: "not an object" };
  if (typeof parsed.host !== "string" || !HOST.test(parsed.host)) return { invalid: "host" };
  if (!Array.isArray(parsed.messages) || parsed.messages.length > SGM_LIMITS.maxMessagesPerPost) return { invalid: "messages" };
  return { host: parsed.host, raw: parsed.messages as unknown[] };
}

export function isValidHost(host: string): boolean {
  return HOST.test(host);
}

const STATE_SET = new Set<string>(MEMBER_STATES);
const OUTCOME_SET = new Set<string>(VOTE_OUTCOMES);
function isActionId(x: unknown): x is string {
  return typeof x === "string" && ACTION_PATTERNS.actionId.test(x);
}

function intIn(x: unknown, min: number, max: number): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= min && x <= max;
}

function parseSettingsGroup(x: unknown): GuestSettingsGroup | undefined {
  if (!isObject(x) || !intIn(x.intervalMs, LIMITS.minIntervalMs, LIMITS.maxIntervalMs) || !intIn(x.threshold, LIMITS.minThreshold, LIMITS.maxThreshold)) return undefined;
  if (!intIn(x.unhealthyThreshold, 1, MAX_UNHEALTHY_THRESHOLD) || !intIn(x.appUnhealthyThreshold, 1, MAX_UNHEALTHY_THRESHOLD) || !uuidList(x.instances, SGM_LIMITS.maxGuestsPerHost)) return undefined;
  return { intervalMs: x.intervalMs, threshold: x.threshold, unhealthyThreshold: x.unhealthyThreshold, appUnhealthyThreshold: x.appUnhealthyThreshold, instances: x.instances };
}
const EVENT_SET = new Set<string>(NOTIFICATION_EVENTS);

function str(x: unknown, max: number): x is string {
  return typeof x === "string" && Buffer.byteLength(x, "utf8") <= max;
}

function parseMember(x: unknown): StatusMember | undefined {
  if (!isObject(x) || !isUuid(x.instanceId) || !str(x.name, 255) || typeof x.state !== "string" || !STATE_SET.has(x.state) || typeof x.agentConnected !== "boolean") return undefined;
  return { instanceId: x.instanceId, name: x.name, state: x.state as MemberState, agentConnected: x.agentConnected };
}

/** One line of the operator's stream, or undefined when it is not a valid message. Never throws. */
export function parseOperatorMessage(line: string): OperatorToAgent | undefined {
  let x: unknown;
  try {
    x = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(x)) return undefined;
  const ref = isRef(x.ref) ? { ref: x.ref } : {};
  switch (x.t) {
    case "hello":
      return str(x.replica, 253) ? { t: "hello", replica: x.replica } : undefined;
    case "ping":
      return { t: "ping" };
    case "guest-settings": {
      if (!Array.isArray(x.groups) || x.groups.length > SGM_LIMITS.maxGuestsPerHost) return undefined;
      const groups = (x.groups as unknown[]).map(parseSettingsGroup);
      if (groups.some((g) => g === undefined)) return undefined;
      return { t: "guest-settings", groups: groups as GuestSettingsGroup[] };
    }
    case "action-notify":
      if (!isUuid(x.to) || !isActionId(x.actionId) || typeof x.action !== "string" || !ACTION_PATTERNS.action.test(x.action) || !intIn(x.deadlineMs, LIMITS.minDeadlineMs, LIMITS.maxDeadlineMs)) return undefined;
      if ("reason" in x && !str(x.reason, LIMITS.maxReasonBytes)) return undefined;
      return { t: "action-notify", to: x.to, actionId: x.actionId, action: x.action, deadlineMs: x.deadlineMs, ...(typeof x.reason === "string" ? { reason: x.reason } : {}) };
    case "deliver":
      if (!uuidList(x.to, SGM_LIMITS.maxGuestsPerHost) || !isUuid(x.id) || !isUuid(x.from) || !str(x.fromName, 255) || typeof x.payload !== "string" || !str(x.sentAt, 64)) return undefined;
      return { t: "deliver", to: x.to, id: x.id, from: x.from, fromName: x.fromName, payload: x.payload, sentAt: x.sentAt };
    case "notify":
      if (!uuidList(x.to, SGM_LIMITS.maxGuestsPerHost) || !isUuid(x.id) || !isUuid(x.instanceId) || !str(x.name, 255) || !str(x.at, 64)) return undefined;
      if (typeof x.state !== "string" || !STATE_SET.has(x.state) || typeof x.previousState !== "string" || !STATE_SET.has(x.previousState) || typeof x.event !== "string" || !EVENT_SET.has(x.event)) return undefined;
      if ("reason" in x && !str(x.reason, 1024)) return undefined;
      return { t: "notify", to: x.to, id: x.id, instanceId: x.instanceId, name: x.name, state: x.state as MemberState, previousState: x.previousState as MemberState, event: x.event as NotificationEvent, at: x.at, ...(typeof x.reason === "string" ? { reason: x.reason } : {}) };
    case "status": {
      const g = x.group;
      if (!isUuid(x.to) || !isObject(g) || !str(g.id, 64) || !str(g.name, 255) || !str(g.policy, 32) || !Array.isArray(x.members) || x.members.length > 256) return undefined;
      const members = (x.members as unknown[]).map(parseMember);
      if (members.some((m) => m === undefined)) return undefined;
      return { t: "status", to: x.to, ...ref, group: { id: g.id, name: g.name, policy: g.policy }, members: members as StatusMember[] };
    }
    case "error":
      if (!isUuid(x.to) || typeof x.code !== "string" || !/^[a-z][a-z_]{0,31}$/.test(x.code) || !str(x.detail, 256)) return undefined;
      return { t: "error", to: x.to, ...ref, code: x.code as SgmErrorCode, detail: x.detail };
    default:
      return undefined;
  }
}
