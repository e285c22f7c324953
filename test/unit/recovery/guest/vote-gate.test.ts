import assert from "node:assert/strict";
import type { GuestTrigger } from "../../../../src/recovery/guest/guest-action-model.js";
import { voteGate, type VoteGateInput } from "../../../../src/recovery/guest/vote-gate.js";

const unhealthy: GuestTrigger = { source: "GuestHealth", state: "Unhealthy", reason: "check disk: exit 1", host: "compute-1", atMs: 0 };
const base: VoteGateInput = { trigger: unhealthy, voteTimeoutMs: 10_000, nowMs: 1000, ask: undefined, vote: undefined };
const asked = { actionId: "ga-1", attempt: 1, askedAtMs: 1000, sent: true };

describe("vote gate", () => {
  const cases: [string, Partial<VoteGateInput>, ReturnType<typeof voteGate>][] = [
    ["voting off", { voteTimeoutMs: 0 }, { kind: "Proceed" }],
    ["an Unresponsive guest cannot vote", { trigger: { ...unhealthy, state: "Unresponsive" } }, { kind: "Proceed" }],
    ["a dead domain cannot vote", { trigger: { source: "DomainEvent", event: "Crashed", detail: "", host: "h", atMs: 0 } }, { kind: "Proceed" }],
    ["first look: ask", {}, { kind: "Ask", attempt: 1 }],
    ["not sent: go ahead", { ask: { ...asked, sent: false } }, { kind: "Proceed", note: "the guest was not asked to vote: no node agent link has its channel" }],
    ["waiting for the vote", { ask: asked, nowMs: 5000 }, { kind: "Wait", untilMs: 16_000 }],
    ["no vote in time", { ask: asked, nowMs: 16_000 }, { kind: "Proceed", note: "no vote arrived within 10 s" }],
    ["accepted", { ask: asked, vote: { outcome: "Accepted" } }, { kind: "Proceed", note: "the guest accepted it" }],
    ["timed out at the agent", { ask: asked, vote: { outcome: "TimedOut" } }, { kind: "Proceed", note: "the guest did not vote within 10 s" }],
    ["no session", { ask: asked, vote: { outcome: "NoSession" } }, { kind: "Proceed", note: "the guest had no heartbeat session to vote in" }],
    ["refused", { ask: asked, nowMs: 2000, vote: { outcome: "Refused", reason: "busy" } }, { kind: "Refused", reason: "busy", reaskAtMs: 61_000 }],
    ["refused a while ago: ask again", { ask: asked, nowMs: 61_000, vote: { outcome: "Refused" } }, { kind: "Ask", attempt: 2 }],
    ["long timeouts re-ask after twice the timeout", { voteTimeoutMs: 100_000, ask: asked, nowMs: 2000, vote: { outcome: "Refused" } }, { kind: "Refused", reason: "", reaskAtMs: 201_000 }],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => assert.deepEqual(voteGate({ ...base, ...input }), want));
  }
});
