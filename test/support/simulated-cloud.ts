import { KeystoneSession } from "../../src/openstack/keystone-session.js";
import { parseCloudsYaml } from "../../src/openstack/clouds-config.js";
import { NodeHttpTransport } from "../../src/openstack/node-http-transport.js";
import { NovaClient } from "../../src/openstack/nova-client.js";
import { cloudsYaml } from "../../src/sim/clouds-yaml.js";
import { createSimCloud, type SimCloud } from "../../src/sim/sim-cloud.js";
import { SimServer } from "../../src/sim/sim-server.js";
import { SystemClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { freePort } from "./free-port.js";
import { writeHeartbeatKeyFile } from "./heartbeat-key-file.js";
import { startSimulatedAgents } from "./simulated-agents.js";

export interface SimulatedCloud {
  sim: SimCloud;
  server: SimServer;
  cloudsYaml: string;
  hosts: string[];
  /** One UDP port per operator replica: agents send to every replica. */
  heartbeatPorts: number[];
  keyFile: string;
  /** vmkeeper's own Nova client against the simulator, for assertions. */
  nova: NovaClient;
  /** The host dies: its agent stops, its peers stop hearing it, Nova stops hearing its compute. */
  killHost(host: string): void;
  /** The host is powered on again: nova-compute starts (cleaning up evacuated copies) and its agent heartbeats. */
  restoreHost(host: string): void;
  stop(): Promise<void>;
}

/**
 * A simulated cloud for keep-running tests: the Nova/Keystone simulator on loopback plus
 * one simulated node agent per host, sending signed heartbeats (with peer reports: every
 * agent hears every live peer) to the operator's receiver over real UDP.
 */
export async function startSimulatedCloud(o: { cloudName: string; hosts: number; replicas?: number; workDir: string; intervalMs?: number; serviceDownTimeSeconds?: number; evacuationMs?: number; hostSize?: { vcpus: number; memoryMb: number; localGb: number } }): Promise<SimulatedCloud> {
  const clock = new SystemClock();
  const sim = createSimCloud(clock, {
    seed: "keep-running",
    nova: { maxMicroversion: "2.93", serviceDownTimeSeconds: o.serviceDownTimeSeconds ?? 60, reportIntervalSeconds: 10, evacuationDurationMs: o.evacuationMs ?? 800, bootDurationMs: 200, powerActionDurationMs: 200, schedulingDelayMs: 50 },
  });
  const hosts = Array.from({ length: o.hosts }, (_, i) => `compute-${i + 1}`);
  sim.nova.addHosts(hosts.map((name) => ({ name, ...o.hostSize })));
  const server = new SimServer(sim, { host: "127.0.0.1", port: 0 });
  await server.start();
  const yaml = cloudsYaml({ cloudName: "sim", authUrl: server.authUrl, region: sim.keystone.region, auth: { kind: "password", username: "admin", password: "admin-secret", projectName: "admin" } });

  const keyFile = writeHeartbeatKeyFile(o.workDir);
  const heartbeatPorts: number[] = [];
  for (let i = 0; i < (o.replicas ?? 2); i++) heartbeatPorts.push(await freePort());
  const agents = startSimulatedAgents({ cloudName: o.cloudName, hosts, ports: heartbeatPorts, keyFile, ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}) });
  const session = new KeystoneSession({ cloud: parseCloudsYaml(yaml, { cloudName: "sim", env: {} }), transport: new NodeHttpTransport({}), clock, logger: silentLogger() });
  const nova = new NovaClient({ session, clock, logger: silentLogger() });
  return {
    sim,
    server,
    cloudsYaml: yaml,
    hosts,
    heartbeatPorts,
    keyFile,
    nova,
    killHost: (host) => {
      agents.kill(host);
      sim.nova.killHost(host);
    },
    restoreHost: (host) => {
      sim.nova.restoreHost(host);
      agents.revive(host);
    },
    stop: async () => {
      await agents.stop();
      await server.stop();
    },
  };
}
