import assert from "node:assert/strict";
import { AgentGuestControl } from "../../../src/agent/guest-control/agent-guest-control.js";
import type { HostSessionSettings } from "../../../src/guest-heartbeat/host-session.js";
import { GuestControlHub, type ControlLinks } from "../../../src/guest-control/guest-control-hub.js";
import { isGuestControl, parseAgentMessage, parseOperatorMessage, type GuestControlAgentMessage, type GuestControlOperatorMessage } from "../../../src/server-group-messaging/link-messages.js";
import { silentLogger } from "../../../src/util/logger.js";

const A = "00000000-0000-4000-8000-00000000000a";
const B = "00000000-0000-4000-8000-00000000000b";

describe("guest control messages on the agent link", () => {
  it("parses valid guest-settings and action-notify lines and refuses out-of-range ones", () => {
    const settings = { t: "guest-settings", groups: [{ intervalMs: 400, threshold: 2, unhealthyThreshold: 2, appUnhealthyThreshold: 3, instances: [A] }] };
    assert.deepEqual(parseOperatorMessage(JSON.stringify(settings)), settings);
    for (const bad of [{ intervalMs: 399 }, { threshold: 21 }, { unhealthyThreshold: 0 }, { appUnhealthyThreshold: 101 }, { instances: ["not-a-uuid"] }, { intervalMs: 1000.5 }]) {
      assert.equal(parseOperatorMessage(JSON.stringify({ t: "guest-settings", groups: [{ ...settings.groups[0], ...bad }] })), undefined, JSON.stringify(bad));
    }
    const notify = { t: "action-notify", to: A, actionId: "ga-0123-1", action: "reboot", deadlineMs: 10_000, reason: "guest unhealthy" };
    assert.deepEqual(parseOperatorMessage(JSON.stringify(notify)), notify);
    for (const bad of [{ actionId: "has space" }, { action: "Reboot" }, { deadlineMs: 50 }, { reason: "x".repeat(300) }, { to: "nope" }]) {
      assert.equal(parseOperatorMessage(JSON.stringify({ ...notify, ...bad })), undefined, JSON.stringify(bad));
    }
  });

  it("parses channels and votes from agents and names what is wrong otherwise", () => {
    assert.deepEqual(parseAgentMessage({ t: "channels", instances: [A, B] }), { t: "channels", instances: [A, B] });
    assert.deepEqual(parseAgentMessage({ t: "vote", from: A, actionId: "ga-1", outcome: "Refused", reason: "busy" }), { t: "vote", from: A, actionId: "ga-1", outcome: "Refused", reason: "busy" });
    assert.deepEqual(parseAgentMessage({ t: "vote", from: A, actionId: "ga-1", outcome: "Maybe" }), { invalid: "vote: from, actionId or outcome" });
    assert.deepEqual(parseAgentMessage({ t: "channels", instances: "x" }), { invalid: "channels: instances" });
    assert.ok(isGuestControl({ t: "vote", from: A, actionId: "a", outcome: "Accepted" }));
    assert.ok(!isGuestControl({ t: "guests", instances: [] }));
  });
});

describe("guest control: operator hub and agent side together", () => {
  /** One agent host wired to the hub through in-memory links. */
  function wire() {
    const toAgent: GuestControlOperatorMessage[] = [];
    const listeners = new Set<() => void>();
    let streams = 1;
    const links: ControlLinks = {
      send: (_host, m) => (streams > 0 ? (toAgent.push(m), true) : false),
      generation: () => streams,
      hasStream: () => streams > 0,
      onChange: (l) => (listeners.add(l), () => listeners.delete(l)),
    };
    const hub = new GuestControlHub(links);
    const applied: Map<string, HostSessionSettings>[] = [];
    const notified: string[] = [];
    const agent = new AgentGuestControl({ send: (m: GuestControlAgentMessage) => hub.handle("compute-1", m), log: silentLogger() });
    agent.attach({
      instanceUuids: () => [A, B],
      setSessionSettings: (s) => void applied.push(new Map(s)),
      notifyAction: (id, r) => {
        notified.push(`${id} ${r.action} ${r.deadlineMs} ${String(r.revocable)}`);
        agent.vote(id, { actionId: r.actionId, action: r.action, outcome: "Refused", reason: "maintenance window" });
      },
    });
    const deliver = (): void => {
      for (const m of toAgent.splice(0)) agent.fromOperator(m);
    };
    return { hub, agent, applied, notified, deliver, drop: () => { streams = 0; for (const l of listeners) l(); } };
  }

  it("learns the agent's channels, routes an action-notify to it and records the guest's vote", () => {
    const { hub, agent, notified, deliver } = wire();
    const heard: string[] = [];
    hub.onVote((id) => heard.push(id));
    agent.announce();
    assert.deepEqual(hub.channels("compute-1"), [A, B]);
    assert.equal(hub.routeOf(A), "compute-1");
    assert.ok(hub.ask(A, { actionId: "ga-x-1", action: "reboot", deadlineMs: 10_000 }));
    deliver();
    assert.deepEqual(notified, [`${A} reboot 10000 true`]);
    assert.deepEqual(hub.vote("ga-x-1"), { instanceId: A, host: "compute-1", outcome: "Refused", reason: "maintenance window" });
    assert.deepEqual(heard, [A]);
  });

  it("applies settings groups per instance on the agent", () => {
    const { hub, agent, applied, deliver } = wire();
    agent.announce();
    hub.sendSettings("compute-1", [{ intervalMs: 400, threshold: 2, unhealthyThreshold: 2, appUnhealthyThreshold: 3, instances: [B] }]);
    deliver();
    assert.deepEqual([...(applied[0] ?? new Map<string, HostSessionSettings>())], [[B, { intervalMs: 400, threshold: 2, unhealthyThreshold: 2, appUnhealthyThreshold: 3 }]]);
  });

  it("has no route without an open stream, and ignores a vote for a channel another host has", () => {
    const { hub, agent, drop } = wire();
    agent.announce();
    hub.handle("compute-2", { t: "vote", from: A, actionId: "ga-y-1", outcome: "Accepted" });
    assert.equal(hub.vote("ga-y-1"), undefined);
    drop();
    assert.equal(hub.routeOf(A), undefined);
    assert.equal(hub.ask(A, { actionId: "ga-z-1", action: "stop", deadlineMs: 1000 }), false);
  });
});
