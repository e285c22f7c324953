import type { GuestControlAgentMessage, GuestControlOperatorMessage } from "../../server-group-messaging/link-messages.js";
import type { ActionRequest, HostSessionSettings, VoteResult } from "../../guest-heartbeat/host-session.js";
import type { Logger } from "../../util/logger.js";

/** The part of the guest channel manager guest control drives. */
export interface ControlledGuests {
  instanceUuids(): string[];
  setSessionSettings(settings: ReadonlyMap<string, HostSessionSettings>): void;
  notifyAction(instanceUuid: string, request: ActionRequest): void;
}

/** Where messages for the operator go (the operator link, to every replica). */
export type ControlSend = (m: GuestControlAgentMessage) => void;

/**
 * The node agent's side of guest control over the operator link: tells the operator which
 * heartbeat channels this host has, applies the session settings the operator decided from
 * each instance's protecting policy, and passes the operator's action-notify requests to the
 * guests and their votes back. Settings of any replica are taken (only the leader sends);
 * the newest wins.
 */
export class AgentGuestControl {
  private guests: ControlledGuests | undefined;

  constructor(private readonly o: { send: ControlSend; log: Logger }) {}

  /** Wires the channel manager once it exists. */
  attach(guests: ControlledGuests | undefined): void {
    this.guests = guests;
  }

  /** A stream opened or the channels changed: the operator is told the full list again. */
  announce(): void {
    if (this.guests) this.o.send({ t: "channels", instances: this.guests.instanceUuids() });
  }

  fromOperator(m: GuestControlOperatorMessage): void {
    const guests = this.guests;
    if (!guests) return;
    if (m.t === "guest-settings") {
      const settings = new Map<string, HostSessionSettings>();
      for (const g of m.groups) {
        const { instances, ...s } = g;
        for (const id of instances) settings.set(id, s);
      }
      this.o.log.debug({ instances: settings.size, groups: m.groups.length }, "guest session settings from the operator");
      guests.setSessionSettings(settings);
      return;
    }
    guests.notifyAction(m.to, { actionId: m.actionId, action: m.action, revocable: true, deadlineMs: m.deadlineMs, ...(m.reason !== undefined ? { reason: m.reason } : {}) });
  }

  /** A guest's vote (or why there was none), for the operator. */
  vote(instanceUuid: string, result: VoteResult): void {
    this.o.log.info({ instanceUuid, actionId: result.actionId, outcome: result.outcome }, "guest vote on a pending action");
    this.o.send({ t: "vote", from: instanceUuid, actionId: result.actionId, outcome: result.outcome, ...(result.reason ? { reason: result.reason.slice(0, 256) } : {}) });
  }
}
