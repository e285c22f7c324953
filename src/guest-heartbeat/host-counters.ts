/** Counters of one host-side session (docs/protocols/guest-heartbeat.md, "Error counters"). */
export interface HostCounters {
  linesReceived: number;
  malformed: number;
  oversize: number;
  unknownVersion: number;
  unknownGroup: number;
  unhandledGroup: number;
  unknownType: number;
  unexpected: number;
  invalidBody: number;
  errorsReceived: number;
  sessions: number;
  challengesSent: number;
  responsesAccepted: number;
  missed: number;
  badNonce: number;
  staleResponse: number;
  votesReceived: number;
  unknownAction: number;
}

export function emptyHostCounters(): HostCounters {
  return {
    linesReceived: 0,
    malformed: 0,
    oversize: 0,
    unknownVersion: 0,
    unknownGroup: 0,
    unhandledGroup: 0,
    unknownType: 0,
    unexpected: 0,
    invalidBody: 0,
    errorsReceived: 0,
    sessions: 0,
    challengesSent: 0,
    responsesAccepted: 0,
    missed: 0,
    badNonce: 0,
    staleResponse: 0,
    votesReceived: 0,
    unknownAction: 0,
  };
}
