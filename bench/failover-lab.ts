// The real-Nova half of `npm run bench:failover` (see bench/failover.ts and docs/benchmarks.md).
//
// The Nova lab (Debian Zed, fake driver, compute-1..3, hack/nova-lab.sh), a real
// kube-apiserver + etcd, one operator process with leader election and DEFAULT detection
// settings (1 s heartbeats, 3 missed, 5 s confirmation, PeersOrNova), simulated agents for
// the three computes, and power fencing through a real IPMI-over-LAN BMC (ipmi_sim, driven by
// ipmitool) whose power-off kills compute-1's processes. Each trial boots 10 protected
// servers on compute-1, hangs it (agent stopped, nova-compute SIGSTOPped: FAULT-MATRIX F2),
// and measures from that moment; then powers the host back on by hand and lets vmkeeper
// return it to service (recovery.hostReenable: Automatic) before the next trial.
import { cloudManifests } from "../test/support/cloud-manifests.js";
import { eventually } from "../test/support/eventually.js";
import { freePort } from "../test/support/free-port.js";
import { writeHeartbeatKeyFile } from "../test/support/heartbeat-key-file.js";
import { bmcSecretManifest, LAB_CLOUD, labClients, repairLabCompute, startLabComputeBmc } from "../test/support/lab-clients.js";
import { novaLab } from "../test/support/nova-lab.js";
import { startOperatorProcess } from "../test/support/operator-process.js";
import { startSimulatedAgents } from "../test/support/simulated-agents.js";
import type { TestEnv } from "../test/support/test-env.js";
import type { FailoverTrial, WebhookLog } from "./failover-stats.js";

const HOSTS = ["compute-1", "compute-2", "compute-3"];

interface IncidentView {
  metadata: { name: string; creationTimestamp: string };
  spec: { detectedAt: string; hostRef: { name: string } };
  status?: { phase?: string; timestamps?: Record<string, string>; hostReturn?: { state?: string }; fencing?: { powerReadBackOff?: boolean } };
}

export async function labFailover(env: TestEnv, hook: WebhookLog, trials: number, vms: number): Promise<FailoverTrial[]> {
  const lab = await novaLab();
  const { nova, fixtures } = labClients(lab);
  await repairLabCompute(lab, nova, 1);
  const bmc = await startLabComputeBmc(1);
  const port = await freePort();
  const keyFile = writeHeartbeatKeyFile(env.workDir);
  const agents = startSimulatedAgents({ cloudName: "lab", hosts: HOSTS, ports: [port], keyFile, intervalMs: 1000 });
  const ns = await env.createNamespace("bench-lab");
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await env.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], `${cloudManifests({ name: "lab", secretName: "lab-clouds", cloudsYaml: lab.cloudsYaml, cloudName: LAB_CLOUD })}---
${bmcSecretManifest("compute-1-bmc", bmc)}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: bench}
spec:
  cloudRef: {name: lab}
  selector: {nameGlobs: ["bench-*"]}
  recovery: {localDisk: RebuildFromImage, hostReenable: Automatic}
  notification: {webhook: {url: "${hook.url}", allowHTTP: true}}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: HostFencing
metadata: {name: bench}
spec:
  cloudRef: {name: lab}
  hostSelector: {names: [lab.compute-1]}
  levels:
    - name: bmc
      devices:
        - name: ipmi
          kind: IPMI
          ipmi: {address: 127.0.0.1, port: ${bmc.port}, cipherSuite: 3, credentialsSecretRef: {name: compute-1-bmc}}
`);
  const op = await startOperatorProcess({ kubeconfig: env.kubeconfigPath, identity: "bench-lab", namespace: ns, logDir: env.workDir, extraArgs: [`--heartbeat-bind-address=127.0.0.1:${port}`, `--heartbeat-key-file=${keyFile}`] });
  const out: FailoverTrial[] = [];
  try {
    const hostState = async (): Promise<string> => (await kubectl(["get", "computehost", "lab.compute-1", "-n", ns, "-o", "jsonpath={.status.health.state}"])).trim();
    await eventually(async () => {
      if ((await hostState()) !== "Healthy") throw new Error("compute-1 not Healthy yet");
    }, 120_000, 500);
    // Default startup grace: no fencing in the first 30 s after the leader starts.
    await new Promise((r) => setTimeout(r, 31_000));
    for (let t = 1; t <= trials; t++) {
      const booted = await fixtures.bootActive(Array.from({ length: vms }, (_, i) => ({ name: `bench-t${t}-${i}`, host: "compute-1" })));
      await eventually(async () => {
        if ((await hostState()) !== "Healthy") throw new Error("compute-1 not Healthy yet");
      }, 120_000, 500);
      const failedAt = Date.now();
      agents.kill("compute-1");
      await lab.compute("freeze", 1);
      const inc = await eventually(async () => {
        const list = JSON.parse(await kubectl(["get", "incidents", "-n", ns, "-o", "json"])) as { items: IncidentView[] };
        const mine = list.items.find((i) => i.spec.hostRef.name === "lab.compute-1" && Date.parse(i.spec.detectedAt) >= failedAt);
        if (mine?.status?.phase !== "Recovered") throw new Error(`phase ${mine?.status?.phase ?? "-"}`);
        return mine;
      }, 240_000, 200);
      const ts = inc.status?.timestamps ?? {};
      const detected = Date.parse(inc.spec.detectedAt);
      out.push({
        detectedMs: detected - failedAt,
        fencedMs: Date.parse(ts.fencedAt ?? "") - failedAt,
        firstEvacuationMs: Date.parse(ts.firstEvacuationAt ?? "") - failedAt,
        allActiveMs: Date.parse(ts.recoveredAt ?? "") - failedAt,
        notifiedAfterDetectionMs: (hook.received.get(inc.metadata.name) ?? NaN) - detected,
      });
      console.log(`lab trial ${t}: ${JSON.stringify(out.at(-1))}`);
      // Someone powers the host back on; vmkeeper lifts the force-down and enables it.
      await bmc.setPowerState("On");
      await lab.compute("start", 1, false);
      agents.revive("compute-1");
      await eventually(async () => {
        const v = JSON.parse(await kubectl(["get", "incident", inc.metadata.name, "-n", ns, "-o", "json"])) as IncidentView;
        if (v.status?.hostReturn?.state !== "Reenabled") throw new Error(`host return ${v.status?.hostReturn?.state ?? "-"}`);
      }, 300_000, 1000);
      await fixtures.deleteServers(booted.map((b) => b.id));
    }
  } finally {
    await op.proc.stop();
    await agents.stop();
    await bmc.stop();
    await repairLabCompute(lab, nova, 1);
  }
  return out;
}
