import type { Registry } from "prom-client";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { GuestChannelManager } from "../guest-channels/guest-channel-manager.js";
import { isGuestControl } from "../../server-group-messaging/link-messages.js";
import { AgentGuestControl } from "../guest-control/agent-guest-control.js";
import { OperatorLink, type OperatorEndpoint } from "./operator-link.js";
import { prometheusSgmRelayMetrics, SgmRelay } from "./sgm-relay.js";

export interface NodeSgmOptions {
  host: string;
  tokenFile: string;
  caFile: string | undefined;
  clientCertFile: string | undefined;
  clientKeyFile: string | undefined;
  clock: Clock;
  log: Logger;
  registry: Registry;
}

export interface NodeSgm {
  relay: SgmRelay;
  link: OperatorLink;
  /** Guest control (session settings from the policies, votes) on the same link. */
  control: AgentGuestControl;
  /** Connects the relay to the guest sessions once the channel manager exists. */
  attachGuests(guests: GuestChannelManager | undefined): void;
  setEndpoints(endpoints: readonly OperatorEndpoint[]): void;
  close(): Promise<void>;
}

/**
 * Builds the node agent's operator link and what rides on it: server-group messaging (the
 * relay) and guest control (per-policy heartbeat settings, votes before corrective actions).
 */
export function startNodeSgm(o: NodeSgmOptions): NodeSgm {
  const log = o.log.child({ component: "sgm" });
  const built: { relay?: SgmRelay; link?: OperatorLink } = {};
  const metrics = prometheusSgmRelayMetrics(o.registry, () => built.relay, () => built.link);
  const relay = new SgmRelay({ log, metrics });
  built.relay = relay;
  const control = new AgentGuestControl({ send: (m) => built.link?.send(m), log: o.log.child({ component: "guest-control" }) });
  const link = new OperatorLink({
    host: o.host,
    tokenFile: o.tokenFile,
    tls: { ...(o.caFile ? { caFile: o.caFile } : {}), ...(o.clientCertFile && o.clientKeyFile ? { clientCertFile: o.clientCertFile, clientKeyFile: o.clientKeyFile } : {}) },
    clock: o.clock,
    log,
    onMessage: (m) => (isGuestControl(m) ? control.fromOperator(m) : relay.fromOperator(m)),
    onStreamOpen: () => {
      relay.announce();
      control.announce();
    },
    onDropped: (reason) => metrics.linkDropped(reason),
  });
  built.link = link;
  return {
    relay,
    link,
    control,
    attachGuests: (guests) => {
      relay.attach(link, (uuid, message) => guests?.sendSgm(uuid, message) ?? false);
      control.attach(guests);
      control.announce();
    },
    setEndpoints: (endpoints) => link.setEndpoints(endpoints),
    close: () => link.close(),
  };
}
