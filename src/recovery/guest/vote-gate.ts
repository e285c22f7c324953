/**
 * Whether a planned guest action waits for the guest's vote (the guest heartbeat protocol's
 * action-notify / vote, docs/protocols/guest-heartbeat.md). Pure: the guest-actions
 * controller keeps the state and does the sending.
 *
 * Only a guest that still answers can vote: actions on an Unhealthy report (the guest or
 * one of its applications said so itself) ask first; an Unresponsive guest or a dead domain
 * cannot answer, so they go ahead at once. A vote that does not come in time never blocks
 * the action: the guest may refuse, not stall.
 */
import type { VoteOutcome } from "../../guest-heartbeat/host-session.js";
import type { GuestTrigger } from "./guest-action-model.js";

/** Extra wait past the guest's deadline for the vote to travel guest → agent → operator. */
export const VOTE_TRANSPORT_GRACE_MS = 5000;
/** After a refusal the guest is asked again this long later (at least), while the report stands. */
export const REASK_AFTER_REFUSAL_MS = 60_000;

/** What the controller remembers of the current ask for one report. */
export interface VoteAsk {
  actionId: string;
  /** 1 for the first ask of the report, +1 after each refusal. */
  attempt: number;
  askedAtMs: number;
  /** The action-notify reached a node agent's stream. */
  sent: boolean;
}

export interface VoteGateInput {
  trigger: GuestTrigger;
  /** guestMonitoring.voteTimeoutSeconds in ms; 0 turns voting off. */
  voteTimeoutMs: number;
  nowMs: number;
  ask: VoteAsk | undefined;
  /** The vote recorded for `ask.actionId`, if one came. */
  vote: { outcome: VoteOutcome; reason?: string } | undefined;
}

export type VoteDecision =
  /** Act now; `note` (if any) says what the vote was, for the Event. */
  | { kind: "Proceed"; note?: string }
  /** Send a new action-notify (attempt number given), then wait for the vote. */
  | { kind: "Ask"; attempt: number }
  | { kind: "Wait"; untilMs: number }
  /** The guest refused: record it once, ask again at `reaskAtMs`. */
  | { kind: "Refused"; reason: string; reaskAtMs: number };

export function voteGate(i: VoteGateInput): VoteDecision {
  if (i.voteTimeoutMs <= 0) return { kind: "Proceed" };
  if (i.trigger.source !== "GuestHealth" || i.trigger.state !== "Unhealthy") return { kind: "Proceed" };
  const ask = i.ask;
  if (!ask) return { kind: "Ask", attempt: 1 };
  if (!ask.sent) return { kind: "Proceed", note: "the guest was not asked to vote: no node agent link has its channel" };
  const seconds = Math.round(i.voteTimeoutMs / 1000);
  const v = i.vote;
  if (v) {
    switch (v.outcome) {
      case "Accepted":
      case "Acknowledged":
        return { kind: "Proceed", note: "the guest accepted it" };
      case "TimedOut":
        return { kind: "Proceed", note: `the guest did not vote within ${seconds} s` };
      case "NoSession":
        return { kind: "Proceed", note: "the guest had no heartbeat session to vote in" };
      case "Refused": {
        const reaskAtMs = ask.askedAtMs + Math.max(REASK_AFTER_REFUSAL_MS, 2 * i.voteTimeoutMs);
        if (i.nowMs >= reaskAtMs) return { kind: "Ask", attempt: ask.attempt + 1 };
        return { kind: "Refused", reason: v.reason ?? "", reaskAtMs };
      }
    }
  }
  const giveUpAtMs = ask.askedAtMs + i.voteTimeoutMs + VOTE_TRANSPORT_GRACE_MS;
  if (i.nowMs >= giveUpAtMs) return { kind: "Proceed", note: `no vote arrived within ${seconds} s` };
  return { kind: "Wait", untilMs: giveUpAtMs };
}
