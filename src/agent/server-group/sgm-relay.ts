import { randomUUID } from "node:crypto";
import { Counter, Gauge, type Registry } from "prom-client";
import type { SgmMessage } from "../../guest-heartbeat/guest-pdu.js";
import type { SgmOperatorMessage } from "../../server-group-messaging/link-messages.js";
import type { Logger } from "../../util/logger.js";
import type { GuestSgmHooks } from "../guest-channels/guest-channel-manager.js";
import { decodeGuestSgm, errorMessage, guestMessagesFor } from "./guest-sgm-codec.js";
import type { OperatorLink } from "./operator-link.js";

/** Sends to one guest; false when it has no session with the `sgm` group. */
export type GuestSender = (instanceUuid: string, message: SgmMessage) => boolean;

/** Delivery ids remembered per guest to drop duplicates (two replicas routing during a failover). */
const DEDUP_IDS = 20_000;

export interface SgmRelayMetrics {
  guestMessage(type: string, result: string): void;
  delivered(kind: string, result: "sent" | "no_session" | "duplicate"): void;
}

/**
 * The node agent's part of server-group messaging: takes `sgm` lines from the guests on this
 * host, validates them, stamps the sender (the channel's Nova instance UUID, never anything
 * the guest says) and forwards them to the operator; delivers what the operator routes to the
 * guests here, each delivery id at most once per guest.
 */
export class SgmRelay implements GuestSgmHooks {
  private readonly sessions = new Set<string>();
  private readonly seen = new Set<string>();
  private link: OperatorLink | undefined;
  private send: GuestSender = () => false;

  constructor(private readonly o: { log: Logger; metrics: SgmRelayMetrics }) {}

  /** Wires the two sides (they are built after the relay). */
  attach(link: OperatorLink, send: GuestSender): void {
    this.link = link;
    this.send = send;
  }

  /** Instances whose guest agent has an sgm session now. */
  connected(): string[] {
    return [...this.sessions].sort();
  }

  onSession(instanceUuid: string, active: boolean): void {
    const had = this.sessions.has(instanceUuid);
    if (active) this.sessions.add(instanceUuid);
    else this.sessions.delete(instanceUuid);
    if (had !== active) this.announce();
  }

  /** Tells the operator replicas which guests are reachable here. */
  announce(): void {
    this.link?.send({ t: "guests", instances: this.connected() });
  }

  onMessage(instanceUuid: string, message: SgmMessage): void {
    const d = decodeGuestSgm(message);
    if ("refused" in d) {
      const type = message.type === "broadcast" || message.type === "status-query" ? message.type : "other";
      this.o.metrics.guestMessage(type, d.refused);
      this.o.log.debug({ instanceUuid, type, code: d.refused }, "sgm message from a guest refused");
      this.send(instanceUuid, errorMessage(d.refused, d.detail, d.ref));
      const code = d.refused === "payload_too_large" || d.refused === "spoofed" ? d.refused : "invalid_message";
      this.link?.send({ t: "refused", from: instanceUuid, code });
      return;
    }
    if (!this.link || this.link.connectedCount === 0) {
      this.o.metrics.guestMessage(d.kind, "unavailable");
      this.send(instanceUuid, errorMessage("unavailable", "no operator replica is connected", d.ref));
      return;
    }
    this.o.metrics.guestMessage(d.kind, "forwarded");
    const ref = d.ref ? { ref: d.ref } : {};
    if (d.kind === "broadcast") this.link.send({ t: "broadcast", id: randomUUID(), from: instanceUuid, payload: d.payload, ...ref });
    else this.link.send({ t: "status-query", from: instanceUuid, ...ref });
  }

  /** A message from an operator replica's stream. */
  fromOperator(m: SgmOperatorMessage): void {
    if (m.t === "hello" || m.t === "ping") return;
    const targets = m.t === "deliver" || m.t === "notify" ? m.to : [m.to];
    const id = m.t === "deliver" || m.t === "notify" ? m.id : undefined;
    for (const target of targets) {
      if (id !== undefined && !this.firstTime(`${id}/${target}`)) {
        this.o.metrics.delivered(m.t, "duplicate");
        continue;
      }
      let sent = true;
      for (const line of guestMessagesFor(m, target)) sent = this.send(target, line) && sent;
      this.o.metrics.delivered(m.t, sent ? "sent" : "no_session");
    }
  }

  private firstTime(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > DEDUP_IDS) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }
}

/** `vmkeeper_agent_sgm_*` series. */
export function prometheusSgmRelayMetrics(registry: Registry, relay: () => SgmRelay | undefined, link: () => OperatorLink | undefined): SgmRelayMetrics & { linkDropped(reason: string): void } {
  const guest = new Counter({ name: "vmkeeper_agent_sgm_guest_messages_total", help: "Server-group messages from guests on this host, by type and result (forwarded, or the refusal code).", labelNames: ["type", "result"], registers: [registry] });
  const delivered = new Counter({ name: "vmkeeper_agent_sgm_deliveries_total", help: "Server-group messages the operator routed to guests on this host, by kind and result.", labelNames: ["kind", "result"], registers: [registry] });
  const dropped = new Counter({ name: "vmkeeper_agent_sgm_link_dropped_total", help: "Operator link problems: invalid stream lines, failed POSTs, queue overflow.", labelNames: ["reason"], registers: [registry] });
  new Gauge({
    name: "vmkeeper_agent_sgm_sessions",
    help: "Guests on this host with a server-group messaging session.",
    registers: [registry],
    collect() {
      this.set(relay()?.connected().length ?? 0);
    },
  });
  new Gauge({
    name: "vmkeeper_agent_sgm_operator_streams",
    help: "Operator replicas whose server-group messaging stream is open.",
    registers: [registry],
    collect() {
      this.set(link()?.connectedCount ?? 0);
    },
  });
  return {
    guestMessage: (type, result) => guest.labels({ type, result }).inc(),
    delivered: (kind, result) => delivered.labels({ kind, result }).inc(),
    linkDropped: (reason) => dropped.labels({ reason }).inc(),
  };
}
