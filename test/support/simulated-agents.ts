import { readFileSync } from "node:fs";
import { HeartbeatSender } from "../../src/heartbeat/heartbeat-sender.js";
import { Keyring, parseKeyFile } from "../../src/heartbeat/heartbeat-keys.js";
import { UdpTransport } from "../../src/heartbeat/udp-transport.js";
import { SystemClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";

export interface SimulatedAgents {
  /** The host's agent stops and its peers report it unreachable from then on. */
  kill(host: string): void;
  /** The host's agent starts again (a new boot) and its peers hear it again. */
  revive(host: string): void;
  stop(): Promise<void>;
}

/**
 * One simulated node agent per host: real signed UDP heartbeats to every operator replica,
 * each carrying a peer report (every agent hears every live peer and reports the dead ones).
 * Stands in for `vmkeeper agent` where the hosts are simulated or have no agent installed.
 */
export function startSimulatedAgents(o: { cloudName: string; hosts: string[]; ports: number[]; keyFile: string; intervalMs?: number }): SimulatedAgents {
  const clock = new SystemClock();
  const keyring = new Keyring(parseKeyFile(readFileSync(o.keyFile, "utf8")));
  const dead = new Set<string>();
  const transport = new UdpTransport();
  const stops = new Map<string, AbortController>();
  const start = (host: string): void => {
    const sender = new HeartbeatSender({
      cloud: o.cloudName,
      host,
      intervalMs: o.intervalMs ?? 200,
      keyring,
      targets: { current: () => o.ports.map((port) => ({ address: "127.0.0.1", family: 4 as const, port })) },
      transport,
      clock,
      log: silentLogger(),
      peerReport: () => {
        const unreachable = o.hosts.filter((h) => h !== host && dead.has(h));
        return { heard: o.hosts.length - 1 - unreachable.length, unreachable, unreachableTotal: unreachable.length };
      },
    });
    const stop = new AbortController();
    void sender.run(stop.signal);
    stops.set(host, stop);
  };
  for (const host of o.hosts) start(host);
  return {
    kill: (host) => {
      dead.add(host);
      stops.get(host)?.abort();
    },
    revive: (host) => {
      if (!dead.delete(host)) return;
      start(host);
    },
    stop: async () => {
      for (const s of stops.values()) s.abort();
      await transport.close();
    },
  };
}
