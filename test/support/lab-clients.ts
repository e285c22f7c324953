import { parseCloudsYaml } from "../../src/openstack/clouds-config.js";
import { KeystoneSession } from "../../src/openstack/keystone-session.js";
import { NodeHttpTransport } from "../../src/openstack/node-http-transport.js";
import { NovaClient } from "../../src/openstack/nova-client.js";
import { SystemClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { eventually } from "./eventually.js";
import { startIpmiSim, type IpmiSim } from "./ipmi-sim.js";
import type { NovaLab } from "./nova-lab.js";
import { NovaFixtures } from "./nova-fixtures.js";
import { REPO_ROOT } from "./test-assets.js";

/** The lab's cloud name in its clouds.yaml. */
export const LAB_CLOUD = "vmkeeper-lab";

/** Nova writes times without a zone; they are UTC. */
export const novaTime = (t: string): number => Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(t) ? t : `${t}Z`);

/** A Nova client and server fixtures for the real Nova lab, as its admin. */
export function labClients(lab: NovaLab): { nova: NovaClient; fixtures: NovaFixtures } {
  const clock = new SystemClock();
  const session = new KeystoneSession({ cloud: parseCloudsYaml(lab.cloudsYaml, { cloudName: LAB_CLOUD, env: {} }), transport: new NodeHttpTransport({ keepAlive: false }), clock, logger: silentLogger() });
  const nova = new NovaClient({ session, clock, logger: silentLogger() });
  return { nova, fixtures: new NovaFixtures(session, nova, { flavorName: "m1.tiny", imageName: "cirros-fake" }) };
}

/**
 * Starts compute-N again and waits for a heartbeat written after the start (Nova still
 * calls a just-killed compute "up" for its service_down_time, so state alone says nothing).
 */
export async function restartLabCompute(lab: NovaLab, nova: NovaClient, n: number): Promise<void> {
  const since = Math.floor(Date.now() / 1000) * 1000;
  await lab.compute("start", n, false);
  await eventually(async () => {
    const svc = (await nova.listServices({ binary: "nova-compute", host: `compute-${n}` }))[0];
    const beat = svc?.updatedAt ? novaTime(svc.updatedAt) : Number.NaN;
    if (!(beat >= since)) throw new Error(`compute-${n} has not reported since its start (updated_at ${String(svc?.updatedAt)})`);
  }, 120_000, 500);
}

/**
 * Repairs compute-N after a test failed it, whatever state it was left in (killed, frozen,
 * forced down, disabled): a fresh nova-compute, forced_down lifted (Nova refuses while the
 * returning host's evacuations are not completed, so retried), enabled, up. Does nothing to
 * a compute that is running, enabled and up unless `force`.
 */
export async function repairLabCompute(lab: NovaLab, nova: NovaClient, n: number, force = false): Promise<void> {
  const host = `compute-${n}`;
  const svc = (await nova.listServices({ binary: "nova-compute", host }))[0];
  if (!svc) return;
  if (!force && !svc.forcedDown && svc.status === "enabled" && svc.state === "up") return;
  await lab.compute("kill", n); // a frozen or half-dead process goes first
  await restartLabCompute(lab, nova, n);
  await eventually(async () => assert.equal((await nova.forceDownService(svc.id, false)).forcedDown, false), 120_000, 2000);
  await nova.enableService(svc.id);
  await eventually(async () => assert.equal((await nova.listServices({ binary: "nova-compute", host }))[0]?.state, "up"), 60_000, 1000);
}

/** A real IPMI-over-LAN BMC (ipmi_sim) for lab compute-N: cutting its power kills that compute's processes, as a real power-off would. */
export function startLabComputeBmc(n: number): Promise<IpmiSim> {
  return startIpmiSim({ onPowerOff: `bash '${join(REPO_ROOT, "hack/nova-lab.sh")}' compute kill ${n}` });
}

/** The Secret holding a BMC's credentials, for a HostFencing's credentialsSecretRef. */
export function bmcSecretManifest(name: string, bmc: IpmiSim): string {
  return `apiVersion: v1
kind: Secret
metadata: {name: ${name}}
stringData: {username: ${bmc.username}, password: ${bmc.password}}
`;
}
