import type { Registry } from "prom-client";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { GuestChannelManager } from "../guest-channels/guest-channel-manager.js";
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
  /** Connects the relay to the guest sessions once the channel manager exists. */
  attachGuests(guests: GuestChannelManager | undefined): void;
  setEndpoints(endpoints: readonly OperatorEndpoint[]): void;
  close(): Promise<void>;
}

/** Builds the node agent's server-group messaging: the relay (guest side) and the operator link. */
export function startNodeSgm(o: NodeSgmOptions): NodeSgm {
  const log = o.log.child({ component: "sgm" });
  const built: { relay?: SgmRelay; link?: OperatorLink } = {};
  const metrics = prometheusSgmRelayMetrics(o.registry, () => built.relay, () => built.link);
  const relay = new SgmRelay({ log, metrics });
  built.relay = relay;
  const link = new OperatorLink({
    host: o.host,
    tokenFile: o.tokenFile,
    tls: { ...(o.caFile ? { caFile: o.caFile } : {}), ...(o.clientCertFile && o.clientKeyFile ? { clientCertFile: o.clientCertFile, clientKeyFile: o.clientKeyFile } : {}) },
    clock: o.clock,
    log,
    onMessage: (m) => relay.fromOperator(m),
    onStreamOpen: () => relay.announce(),
    onDropped: (reason) => metrics.linkDropped(reason),
  });
  built.link = link;
  return {
    relay,
    link,
    attachGuests: (guests) => relay.attach(link, (uuid, message) => guests?.sendSgm(uuid, message) ?? false),
    setEndpoints: (endpoints) => link.setEndpoints(endpoints),
    close: () => link.close(),
  };
}
