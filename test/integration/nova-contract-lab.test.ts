import { parseCloudsYaml } from "../../src/openstack/clouds-config.js";
import { KeystoneSession } from "../../src/openstack/keystone-session.js";
import { NodeHttpTransport } from "../../src/openstack/node-http-transport.js";
import { NovaClient } from "../../src/openstack/nova-client.js";
import { SystemClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { eventually } from "../support/eventually.js";
import { novaLab } from "../support/nova-lab.js";
import { defineNovaContract } from "../contract/nova-contract.js";
import type { ContractTarget } from "../contract/contract-target.js";

const HOSTS = ["compute-1", "compute-2", "compute-3"] as const;
const CLOUD = "vmkeeper-lab";

function computeNumber(host: string): number {
  const n = Number(/^compute-(\d+)$/.exec(host)?.[1]);
  if (!Number.isInteger(n)) throw new Error(`not a lab compute: ${host}`);
  return n;
}

/** The real Nova lab (Debian Zed, fake driver, compute-1..3), brought up idempotently. */
async function labTarget(): Promise<ContractTarget> {
  const lab = await novaLab();
  const clock = new SystemClock();
  const session = new KeystoneSession({ cloud: parseCloudsYaml(lab.cloudsYaml, { cloudName: CLOUD, env: {} }), transport: new NodeHttpTransport({ keepAlive: false }), clock, logger: silentLogger() });
  const nova = new NovaClient({ session, clock, logger: silentLogger() });
  return {
    cloudsYaml: lab.cloudsYaml,
    cloudName: CLOUD,
    hosts: HOSTS,
    flavorName: "m1.tiny",
    imageName: "cirros-fake",
    serviceDownTimeSeconds: 20,
    killCompute: (host) => lab.compute("kill", computeNumber(host)),
    // `compute start N --wait` waits for state "up", which a forced-down service never shows
    // (the contract restarts a fenced host before lifting forced_down, as Nova requires), so
    // the wait here is for a heartbeat written after the start, whatever the state.
    restoreCompute: async (host) => {
      const since = Math.floor(Date.now() / 1000) * 1000;
      await lab.compute("start", computeNumber(host), false);
      await eventually(async () => {
        const svc = (await nova.listServices({ binary: "nova-compute", host }))[0];
        const beat = svc?.updatedAt ? Date.parse(`${svc.updatedAt}Z`) : Number.NaN;
        if (!(beat >= since)) throw new Error(`${host} has not reported since its start (updated_at ${String(svc?.updatedAt)})`);
      }, 120_000, 500);
    },
    close: async () => undefined,
  };
}

defineNovaContract("real Nova lab", labTarget);
