import { createSimCloud } from "../../src/sim/sim-cloud.js";
import { cloudsYaml } from "../../src/sim/clouds-yaml.js";
import { SimServer } from "../../src/sim/sim-server.js";
import { SystemClock } from "../../src/util/clock.js";
import { defineNovaContract } from "../contract/nova-contract.js";
import type { ContractTarget } from "../contract/contract-target.js";

const HOSTS = ["compute-1", "compute-2", "compute-3"] as const;

/**
 * The simulator on 127.0.0.1 and real time, with the lab's timings (service_down_time 20 s,
 * report_interval 5 s) and evacuations/boots of about a second like the fake driver's, so the
 * contract's waits hold for both. Hosts are broken through the `/_sim` admin API.
 */
async function simTarget(): Promise<ContractTarget> {
  const cloud = createSimCloud(new SystemClock(), {
    seed: "nova-contract",
    nova: { maxMicroversion: "2.93", serviceDownTimeSeconds: 20, reportIntervalSeconds: 5, evacuationDurationMs: 1000, bootDurationMs: 1000, powerActionDurationMs: 1000, schedulingDelayMs: 200 },
  });
  cloud.nova.addHosts(HOSTS.map((name) => ({ name })));
  const server = new SimServer(cloud, { host: "127.0.0.1", port: 0 });
  const url = await server.start();
  const admin = async (path: string): Promise<void> => {
    const res = await fetch(`${url}/_sim${path}`, { method: "POST" });
    if (!res.ok) throw new Error(`POST /_sim${path}: HTTP ${res.status} ${await res.text()}`);
  };
  return {
    cloudsYaml: cloudsYaml({ cloudName: "vmkeeper-sim", authUrl: server.authUrl, region: cloud.keystone.region, auth: { kind: "password", username: "admin", password: "admin-secret", projectName: "admin" } }),
    cloudName: "vmkeeper-sim",
    hosts: HOSTS,
    flavorName: "m1.tiny",
    imageName: "cirros-fake",
    serviceDownTimeSeconds: 20,
    killCompute: (host) => admin(`/hosts/${host}/kill`),
    restoreCompute: (host) => admin(`/hosts/${host}/restore`),
    close: () => server.stop(),
  };
}

defineNovaContract("simulator", simTarget);
