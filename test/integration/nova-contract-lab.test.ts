import { LAB_CLOUD, labClients, restartLabCompute } from "../support/lab-clients.js";
import { novaLab } from "../support/nova-lab.js";
import { defineNovaContract } from "../contract/nova-contract.js";
import type { ContractTarget } from "../contract/contract-target.js";

const HOSTS = ["compute-1", "compute-2", "compute-3"] as const;

function computeNumber(host: string): number {
  const n = Number(/^compute-(\d+)$/.exec(host)?.[1]);
  if (!Number.isInteger(n)) throw new Error(`not a lab compute: ${host}`);
  return n;
}

/** The real Nova lab (Debian Zed, fake driver, compute-1..3), brought up idempotently. */
async function labTarget(): Promise<ContractTarget> {
  const lab = await novaLab();
  const { nova } = labClients(lab);
  return {
    cloudsYaml: lab.cloudsYaml,
    cloudName: LAB_CLOUD,
    hosts: HOSTS,
    flavorName: "m1.tiny",
    imageName: "cirros-fake",
    serviceDownTimeSeconds: 20,
    killCompute: (host) => lab.compute("kill", computeNumber(host)),
    // `compute start N --wait` waits for state "up", which a forced-down service never shows
    // (the contract restarts a fenced host before lifting forced_down, as Nova requires), so
    // the wait here is for a heartbeat written after the start, whatever the state.
    restoreCompute: (host) => restartLabCompute(lab, nova, computeNumber(host)),
    close: async () => undefined,
  };
}

defineNovaContract("real Nova lab", labTarget);
