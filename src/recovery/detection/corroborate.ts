import type { DetectionSettings, Evidence, HostObservation } from "../model.js";

export interface Corroboration {
  /** A strict majority of the reporting peers (at least one reports) cannot reach the host. */
  peersAgree: boolean;
  /** Nova's current, post-silence view says the service is down or forced down. */
  novaAgrees: boolean;
  /** The second channel agrees as the corroboration mode requires. */
  agrees: boolean;
  evidence: Evidence[];
}

/**
 * What the second channels say about a host whose heartbeats have stopped.
 *
 * Peers agree when at least one peer reported within the window and a strict majority of the
 * reporting peers cannot reach the host: a tie is not agreement (one broken peer link must not
 * condemn a host).
 *
 * Nova agrees when the service is `down` or forced down, and that view is about the silence:
 * it was read after the last heartbeat (`readAtMs`), and it did not already say down while the
 * host was still heartbeating (`downSinceMs`). A host whose nova-compute died first (F3) and
 * whose agent dies later is thus not condemned by Nova's old "down" alone. `unknown` (Nova
 * could not be read) never agrees, so PeersOrNova falls back to the peers, and Nova or
 * PeersAndNova cannot confirm anything until Nova answers again.
 */
export function corroborate(host: HostObservation, corroboration: DetectionSettings["corroboration"]): Corroboration {
  const peers = peersView(host);
  const nova = novaView(host);
  const agrees = modeAgrees(corroboration, peers.agrees, nova.agrees);
  return { peersAgree: peers.agrees, novaAgrees: nova.agrees, agrees, evidence: [peers.evidence, nova.evidence] };
}

function modeAgrees(mode: DetectionSettings["corroboration"], peers: boolean, nova: boolean): boolean {
  switch (mode) {
    case "Peers":
      return peers;
    case "Nova":
      return nova;
    case "PeersAndNova":
      return peers && nova;
    case "PeersOrNova":
      return peers || nova;
  }
}

function peersView(host: HostObservation): { agrees: boolean; evidence: Evidence } {
  const { reporting, unreachable } = host.peers;
  const [evidence] = channelEvidence(host);
  return { agrees: reporting >= 1 && unreachable * 2 > reporting, evidence: evidence ?? { source: "Peers", observation: "no peer reported" } };
}

/** What the peers and Nova say, without judging whether it corroborates a silence. */
export function channelEvidence(host: HostObservation): Evidence[] {
  const { reporting, unreachable } = host.peers;
  const peers = reporting < 1 ? "no peer reported" : `${unreachable} of ${reporting} reporting peers cannot reach it`;
  return [
    { source: "Peers", observation: peers },
    { source: "Nova", observation: novaSays(host) },
  ];
}

function novaSays(host: HostObservation): string {
  const { nova } = host;
  if (nova.state === "unknown") return "unknown (Nova unreadable)";
  return `service ${nova.state}${nova.forcedDown ? ", forced down" : ""}${nova.disabled ? ", disabled" : ""}`;
}

function novaView(host: HostObservation): { agrees: boolean; evidence: Evidence } {
  const { nova } = host;
  const said = novaSays(host);
  const down = nova.state !== "unknown" && (nova.state === "down" || nova.forcedDown);
  if (!down) return { agrees: false, evidence: { source: "Nova", observation: said } };
  const last = host.heartbeatLastSeenMs;
  if (last !== undefined && nova.readAtMs !== undefined && nova.readAtMs < last) {
    return { agrees: false, evidence: { source: "Nova", observation: `${said}, but read before the last heartbeat: not counted` } };
  }
  if (last !== undefined && nova.downSinceMs !== undefined && nova.downSinceMs < last) {
    return { agrees: false, evidence: { source: "Nova", observation: `${said}, but already down while the host heartbeated: not counted` } };
  }
  return { agrees: true, evidence: { source: "Nova", observation: said } };
}
