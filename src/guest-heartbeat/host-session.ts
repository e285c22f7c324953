import { randomBytes } from "node:crypto";
import { decodeLine } from "./decode-pdu.js";
import { ACTION_PATTERNS, encodePdu, encodeSgm, LIMITS, unknownVersionError, type ActionNotifyBody, type GuestPdu, type InitBody, type ResponseBody, type SgmMessage, type VoteBody } from "./guest-pdu.js";
import { isAppOnly } from "./health-reason.js";
import { emptyHostCounters, type HostCounters } from "./host-counters.js";

/** The guest's health as the host sees it. */
export type GuestHealth =
  | { state: "Unknown" }
  | { state: "Healthy" }
  | { state: "Unhealthy"; reason: string }
  | { state: "Unresponsive"; missed: number }
  | { state: "Exited"; reason: string };

/** How an action-notify ended (also what the node agent tells the operator). */
export const VOTE_OUTCOMES = ["Accepted", "Refused", "TimedOut", "Acknowledged", "NoSession"] as const;
export type VoteOutcome = (typeof VOTE_OUTCOMES)[number];

export interface VoteResult {
  actionId: string;
  action: string;
  outcome: VoteOutcome;
  reason?: string;
}

export type HostEvent =
  | { type: "session-started"; bootId: string; agent: string; intervalMs: number; threshold: number }
  | { type: "health"; health: GuestHealth }
  | { type: "vote"; result: VoteResult }
  | { type: "session-ended"; by: "guest" | "host"; reason: string }
  /** An `sgm` line on a session that negotiated the group (body not validated yet). */
  | { type: "sgm"; message: SgmMessage };

/** What one call asks the caller to do: lines to write (newline included) and events. */
export interface HostOutput {
  send: string[];
  events: HostEvent[];
}

export type HostSessionState = "AwaitInit" | "Active" | "Exited" | "Stopped";

export interface HostSessionOptions {
  /** Host's interval; the negotiated one is the larger of this and the guest's request. Default 1000. */
  intervalMs?: number;
  /** Host's threshold of consecutive misses; negotiated like the interval. Default 3. */
  threshold?: number;
  /**
   * Unhealthy responses in a row before the health becomes Unhealthy (default 1: at once);
   * responses whose reason names only applications count against `appUnhealthyThreshold`.
   * Host-side only: nothing is negotiated, a healthy response resets both counts.
   */
  unhealthyThreshold?: number;
  /** Application-only unhealthy responses in a row before Unhealthy (default 1). */
  appUnhealthyThreshold?: number;
  /** Groups this host serves (default ["heartbeat"]). */
  groups?: string[];
  /** Source of challenge nonces, 32 lowercase hex characters; random by default. */
  nonce?: () => string;
}

export type ActionRequest = ActionNotifyBody;

/** What the host side brings to a negotiation, and its own counting of unhealthy answers. */
export interface HostSessionSettings {
  intervalMs: number;
  threshold: number;
  unhealthyThreshold: number;
  appUnhealthyThreshold: number;
}

interface PendingVote {
  request: ActionRequest;
  deadlineAtMs: number;
}

/** Highest count of unhealthy answers in a row a host waits for (the CRD's appMonitoring.failureThreshold maximum). */
export const MAX_UNHEALTHY_THRESHOLD = 100;

/** vmkeeper-guest repeats init every 2 s after an exit; a re-negotiation waits at least twice that. */
const REINIT_MIN_WAIT_MS = 4000;

const NO_SESSION: GuestPdu = { group: "base", type: "error", body: { code: "no_session", detail: "send init first" } };

/**
 * How long after a challenge the host waits for its response before counting a miss:
 * half the interval, at most 500 ms. Counting the miss at this deadline rather than at the
 * next challenge bounds the time from a freeze to Unresponsive by
 * `interval × threshold + responseWindowMs(interval)` wherever in the interval the freeze falls.
 */
export function responseWindowMs(intervalMs: number): number {
  return Math.min(Math.floor(intervalMs / 2), LIMITS.maxResponseWindowMs);
}

interface Outstanding {
  seq: number;
  nonce: string;
  /** When the response is due; a miss is counted then if none was accepted. */
  respondByMs: number;
  /** The miss for this challenge has been counted (at most one per challenge). */
  missCounted: boolean;
}

/** Random bytes drawn 4 KiB at a time: one challenge nonce per interval per guest adds up on a host with a thousand guests. */
const noncePool = { bytes: Buffer.alloc(0), used: 0 };

function randomNonce(): string {
  if (noncePool.used + 16 > noncePool.bytes.length) {
    noncePool.bytes = randomBytes(4096);
    noncePool.used = 0;
  }
  const nonce = noncePool.bytes.toString("hex", noncePool.used, noncePool.used + 16);
  noncePool.used += 16;
  return nonce;
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

function sameHealth(a: GuestHealth, b: GuestHealth): boolean {
  if (a.state !== b.state) return false;
  if (a.state === "Unhealthy" || a.state === "Exited") return a.reason === (b as typeof a).reason;
  if (a.state === "Unresponsive") return a.missed === (b as typeof a).missed;
  return true;
}

/**
 * The host side of one guest heartbeat channel as a pure state machine. Every method
 * takes the current monotonic time and returns what to send and what happened; nothing
 * here does I/O or reads a clock, and no input line can make it throw.
 */
export class HostSession {
  private hostIntervalMs: number;
  private hostThreshold: number;
  private unhealthyThreshold: number;
  private appUnhealthyThreshold: number;
  private unhealthyInRow = 0;
  /** After `reconfigure`: a guest that was live must init again by then, else it is Unresponsive. */
  private reinitByMs: number | undefined;
  private readonly groups: string[];
  private readonly nonce: () => string;
  private current: HostSessionState = "AwaitInit";
  private currentHealth: GuestHealth = { state: "Unknown" };
  private readonly count: HostCounters = emptyHostCounters();
  private intervalMs = 0;
  private threshold = 0;
  private seq = 0;
  private outstanding: Outstanding | undefined;
  private nextChallengeAtMs = 0;
  private misses = 0;
  private readonly votes = new Map<string, PendingVote>();
  private sessionGroups: readonly string[] = [];

  constructor(options: HostSessionOptions = {}) {
    const settings = checkSettings({
      intervalMs: options.intervalMs ?? LIMITS.defaultIntervalMs,
      threshold: options.threshold ?? LIMITS.defaultThreshold,
      unhealthyThreshold: options.unhealthyThreshold ?? 1,
      appUnhealthyThreshold: options.appUnhealthyThreshold ?? 1,
    });
    this.hostIntervalMs = settings.intervalMs;
    this.hostThreshold = settings.threshold;
    this.unhealthyThreshold = settings.unhealthyThreshold;
    this.appUnhealthyThreshold = settings.appUnhealthyThreshold;
    this.groups = options.groups ?? ["heartbeat"];
    this.nonce = options.nonce ?? randomNonce;
  }

  get state(): HostSessionState {
    return this.current;
  }

  get health(): GuestHealth {
    return this.currentHealth;
  }

  /** The host's own settings (what it brings to the next negotiation). */
  get settings(): HostSessionSettings {
    return { intervalMs: this.hostIntervalMs, threshold: this.hostThreshold, unhealthyThreshold: this.unhealthyThreshold, appUnhealthyThreshold: this.appUnhealthyThreshold };
  }

  /** The negotiated parameters while a session is (or was last) active. */
  get negotiated(): { intervalMs: number; threshold: number } {
    return { intervalMs: this.intervalMs, threshold: this.threshold };
  }

  /** The session is Active and both sides announced the `sgm` group. */
  get sgmActive(): boolean {
    return this.current === "Active" && this.sessionGroups.includes("sgm");
  }

  counters(): Readonly<HostCounters> {
    return { ...this.count };
  }

  /** The earliest time at which `tick` has something to do, if any: the outstanding challenge's response deadline, the next challenge or a vote deadline. */
  nextDeadlineMs(): number | undefined {
    let next: number | undefined;
    if (this.current === "Active") {
      next = this.nextChallengeAtMs;
      if (this.outstanding && !this.outstanding.missCounted) next = Math.min(next, this.outstanding.respondByMs);
    }
    if (this.current === "AwaitInit" && this.reinitByMs !== undefined) next = this.reinitByMs;
    for (const v of this.votes.values()) next = next === undefined ? v.deadlineAtMs : Math.min(next, v.deadlineAtMs);
    return next;
  }

  /** Records a line the framer discarded for being over the size limit. */
  recordOversize(): void {
    this.count.linesReceived++;
    this.count.oversize++;
  }

  /** Handles one line from the guest (without its newline). */
  receiveLine(line: Uint8Array, nowMs: number): HostOutput {
    const out: HostOutput = { send: [], events: [] };
    this.count.linesReceived++;
    const decoded = decodeLine(line, "host");
    if (decoded.ok && "sgm" in decoded) {
      if (this.sgmActive) out.events.push({ type: "sgm", message: decoded.sgm });
      else this.count.unhandledGroup++;
      return out;
    }
    if (!decoded.ok) {
      const { error } = decoded;
      this.count[error.kind]++;
      if (error.kind === "unknownVersion" && !error.isError && this.current !== "Stopped") out.send.push(encodePdu(unknownVersionError(error.version ?? 0)));
      return out;
    }
    if (this.current === "Stopped") {
      this.count.unexpected++;
      return out;
    }
    this.dispatch(decoded.pdu, nowMs, out);
    return out;
  }

  private dispatch(pdu: GuestPdu, nowMs: number, out: HostOutput): void {
    switch (pdu.type) {
      case "error":
        this.count.errorsReceived++;
        return;
      case "init":
        this.onInit(pdu.body, nowMs, out);
        return;
      case "response":
        this.onResponse(pdu.body, out);
        return;
      case "vote":
        this.onVote(pdu.body, out);
        return;
      case "exit":
        this.onExit(pdu.body.reason, out);
        return;
      default:
        this.count.unexpected++; // decodePdu already refuses the other types for the host
    }
  }

  private onInit(init: InitBody, nowMs: number, out: HostOutput): void {
    this.endVotes(out);
    this.current = "Active";
    this.count.sessions++;
    this.intervalMs = clamp(Math.max(this.hostIntervalMs, init.intervalMs ?? 0), LIMITS.minIntervalMs, LIMITS.maxIntervalMs);
    this.threshold = clamp(Math.max(this.hostThreshold, init.threshold ?? 0), LIMITS.minThreshold, LIMITS.maxThreshold);
    this.misses = 0;
    this.unhealthyInRow = 0;
    this.reinitByMs = undefined;
    this.outstanding = undefined;
    const groups = this.groups.filter((g) => init.groups.includes(g));
    this.sessionGroups = groups;
    out.send.push(encodePdu({ group: "heartbeat", type: "init-ack", body: { intervalMs: this.intervalMs, threshold: this.threshold, groups } }));
    out.events.push({ type: "session-started", bootId: init.bootId, agent: init.agent, intervalMs: this.intervalMs, threshold: this.threshold });
    this.challenge(nowMs, out);
  }

  private challenge(nowMs: number, out: HostOutput): void {
    this.seq++;
    const nonce = this.nonce();
    this.outstanding = { seq: this.seq, nonce, respondByMs: nowMs + responseWindowMs(this.intervalMs), missCounted: false };
    this.nextChallengeAtMs = nowMs + this.intervalMs;
    this.count.challengesSent++;
    out.send.push(encodePdu({ group: "heartbeat", type: "challenge", body: { seq: this.seq, nonce } }));
  }

  private onResponse(r: ResponseBody, out: HostOutput): void {
    if (this.current !== "Active") {
      this.count.unexpected++;
      out.send.push(encodePdu(NO_SESSION));
      return;
    }
    if (!this.outstanding || r.seq !== this.outstanding.seq) {
      this.count.staleResponse++;
      return;
    }
    if (r.nonce !== this.outstanding.nonce) {
      this.count.badNonce++;
      return;
    }
    // Accepted even after its response deadline while it is still the outstanding challenge:
    // the guest is alive, only slow. A miss already counted for it stays counted.
    this.outstanding = undefined;
    this.misses = 0;
    this.count.responsesAccepted++;
    if (r.health === "healthy") {
      this.unhealthyInRow = 0;
      this.setHealth({ state: "Healthy" }, out);
      return;
    }
    this.unhealthyInRow++;
    const reason = r.reason ?? "";
    const needed = isAppOnly(reason) ? this.appUnhealthyThreshold : this.unhealthyThreshold;
    // Below its threshold an unhealthy answer still proves the guest alive: an Unresponsive
    // health ends, but it is not reported as Unhealthy yet (and neither is Unknown).
    if (this.unhealthyInRow >= needed) this.setHealth({ state: "Unhealthy", reason }, out);
    else if (this.currentHealth.state === "Unresponsive") this.setHealth({ state: "Healthy" }, out);
  }

  private onVote(v: VoteBody, out: HostOutput): void {
    if (this.current !== "Active") {
      this.count.unexpected++;
      out.send.push(encodePdu(NO_SESSION));
      return;
    }
    this.count.votesReceived++;
    const pending = this.votes.get(v.actionId);
    if (!pending) {
      this.count.unknownAction++;
      return;
    }
    this.votes.delete(v.actionId);
    const { actionId, action, revocable } = pending.request;
    if (!revocable) out.events.push({ type: "vote", result: { actionId, action, outcome: "Acknowledged" } });
    else if (v.vote === "accept") out.events.push({ type: "vote", result: { actionId, action, outcome: "Accepted" } });
    else out.events.push({ type: "vote", result: { actionId, action, outcome: "Refused", reason: v.reason ?? "" } });
  }

  private onExit(reason: string, out: HostOutput): void {
    if (this.current !== "Active") {
      this.count.unexpected++;
      return;
    }
    this.endVotes(out);
    this.current = "Exited";
    this.outstanding = undefined;
    out.events.push({ type: "session-ended", by: "guest", reason });
    this.setHealth({ state: "Exited", reason }, out);
  }

  private endVotes(out: HostOutput): void {
    for (const { request } of this.votes.values()) out.events.push({ type: "vote", result: { actionId: request.actionId, action: request.action, outcome: "NoSession" } });
    this.votes.clear();
  }

  private setHealth(health: GuestHealth, out: HostOutput): void {
    if (sameHealth(health, this.currentHealth)) return;
    this.currentHealth = health;
    out.events.push({ type: "health", health });
  }

  /**
   * Runs what is due at `nowMs`: counts a miss when the outstanding challenge's response
   * deadline has passed unanswered, sends the next challenge when it is due, expires votes.
   * After a stall of the host itself nothing is caught up: at most one miss per challenge.
   */
  tick(nowMs: number): HostOutput {
    const out: HostOutput = { send: [], events: [] };
    if (this.current === "Active") {
      const o = this.outstanding;
      if (o && !o.missCounted && nowMs >= o.respondByMs) {
        o.missCounted = true;
        this.miss(out);
      }
      if (nowMs >= this.nextChallengeAtMs) this.challenge(nowMs, out);
    }
    if (this.current === "AwaitInit" && this.reinitByMs !== undefined && nowMs >= this.reinitByMs) {
      this.reinitByMs = undefined;
      this.count.missed++;
      this.setHealth({ state: "Unresponsive", missed: this.hostThreshold }, out);
    }
    for (const [id, v] of this.votes) {
      if (nowMs < v.deadlineAtMs) continue;
      this.votes.delete(id);
      out.events.push({ type: "vote", result: { actionId: id, action: v.request.action, outcome: "TimedOut" } });
    }
    return out;
  }

  private miss(out: HostOutput): void {
    this.misses++;
    this.count.missed++;
    if (this.misses >= this.threshold && this.currentHealth.state !== "Unresponsive") this.setHealth({ state: "Unresponsive", missed: this.misses }, out);
  }

  /**
   * Asks the guest to vote on a pending action within `deadlineMs`. Without an active
   * session the result is NoSession at once. Throws RangeError for an invalid request
   * (a programming error, not peer input).
   */
  notifyAction(request: ActionRequest, nowMs: number): HostOutput {
    const out: HostOutput = { send: [], events: [] };
    this.checkRequest(request);
    if (this.current !== "Active") {
      out.events.push({ type: "vote", result: { actionId: request.actionId, action: request.action, outcome: "NoSession" } });
      return out;
    }
    this.votes.set(request.actionId, { request: { ...request }, deadlineAtMs: nowMs + request.deadlineMs });
    out.send.push(encodePdu({ group: "heartbeat", type: "action-notify", body: { ...request } }));
    return out;
  }

  private checkRequest(r: ActionRequest): void {
    if (!ACTION_PATTERNS.actionId.test(r.actionId) || !ACTION_PATTERNS.action.test(r.action)) throw new RangeError("actionId or action does not match the protocol's patterns");
    if (!Number.isInteger(r.deadlineMs) || r.deadlineMs < LIMITS.minDeadlineMs || r.deadlineMs > LIMITS.maxDeadlineMs) throw new RangeError("deadlineMs out of range");
    if (r.reason !== undefined && Buffer.byteLength(r.reason, "utf8") > LIMITS.maxReasonBytes) throw new RangeError("reason longer than 256 bytes");
    if (this.votes.has(r.actionId)) throw new RangeError(`action ${r.actionId} is already pending`);
  }

  /**
   * Takes new host settings. An active session is ended with `exit` (reason `settings
   * changed`) and the session waits for the guest's next `init`, which vmkeeper-guest sends
   * after an exit, so interval and threshold are negotiated again on the same socket. The
   * health stays what it was until the new session reports. Throws RangeError for values
   * outside the protocol's limits (a programming error, not peer input).
   */
  reconfigure(settings: HostSessionSettings, nowMs: number): HostOutput {
    const out: HostOutput = { send: [], events: [] };
    checkSettings(settings);
    const sameNegotiation = settings.intervalMs === this.hostIntervalMs && settings.threshold === this.hostThreshold;
    this.hostIntervalMs = settings.intervalMs;
    this.hostThreshold = settings.threshold;
    this.unhealthyThreshold = settings.unhealthyThreshold;
    this.appUnhealthyThreshold = settings.appUnhealthyThreshold;
    if (sameNegotiation || this.current !== "Active") return out;
    this.endVotes(out);
    out.send.push(encodePdu({ group: "heartbeat", type: "exit", body: { reason: "settings changed" } }));
    this.current = "AwaitInit";
    this.outstanding = undefined;
    this.sessionGroups = [];
    this.reinitByMs = nowMs + Math.max(REINIT_MIN_WAIT_MS, this.hostIntervalMs * this.hostThreshold + responseWindowMs(this.hostIntervalMs));
    out.events.push({ type: "session-ended", by: "host", reason: "settings changed" });
    return out;
  }

  /** Sends an `sgm` message if the session negotiated the group; otherwise nothing is sent. */
  sendSgm(message: SgmMessage): HostOutput {
    return { send: this.sgmActive ? [encodeSgm(message)] : [], events: [] };
  }

  /** Ends monitoring: sends exit; the session accepts nothing afterwards. */
  stop(reason: string): HostOutput {
    const out: HostOutput = { send: [], events: [] };
    if (this.current === "Stopped") return out;
    this.endVotes(out);
    if (this.current === "Active") out.send.push(encodePdu({ group: "heartbeat", type: "exit", body: { reason } }));
    this.current = "Stopped";
    this.outstanding = undefined;
    out.events.push({ type: "session-ended", by: "host", reason });
    return out;
  }
}

function checkSettings(s: HostSessionSettings): HostSessionSettings {
  if (!Number.isInteger(s.intervalMs) || s.intervalMs < LIMITS.minIntervalMs || s.intervalMs > LIMITS.maxIntervalMs) {
    throw new RangeError(`intervalMs must be an integer in ${LIMITS.minIntervalMs}..${LIMITS.maxIntervalMs}`);
  }
  if (!Number.isInteger(s.threshold) || s.threshold < LIMITS.minThreshold || s.threshold > LIMITS.maxThreshold) {
    throw new RangeError(`threshold must be an integer in ${LIMITS.minThreshold}..${LIMITS.maxThreshold}`);
  }
  for (const [name, v] of [["unhealthyThreshold", s.unhealthyThreshold], ["appUnhealthyThreshold", s.appUnhealthyThreshold]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_UNHEALTHY_THRESHOLD) throw new RangeError(`${name} must be an integer in 1..${MAX_UNHEALTHY_THRESHOLD}`);
  }
  return s;
}
