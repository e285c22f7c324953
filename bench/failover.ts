// npm run bench:failover — failure-to-recovery times over several trials, on the simulator
// and on the real Nova lab (FAILOVER_TARGETS=sim,lab by default; FAILOVER_TRIALS=5).
//
// Simulator: a real kube-apiserver + etcd, one vmkeeper operator process (leader election on,
// default detection settings), the Nova/Keystone simulator with 12 hosts and a simulated
// agent per host (signed UDP heartbeats with peer reports), a KeepRunning policy with a
// webhook to a local receiver. Each trial kills one host carrying 10 protected VMs and
// measures, from the moment the host dies: detection (Incident detectedAt), first evacuation
// accepted by Nova, all 10 VMs ACTIVE elsewhere (recoveredAt), and detection → owner webhook.
// Real Nova lab: see bench/failover-lab.ts (IPMI power fencing, a hung compute host).
import { startOperatorProcess } from "../test/support/operator-process.js";
import { startSimulatedCloud } from "../test/support/simulated-cloud.js";
import { startTestEnv, type TestEnv } from "../test/support/test-env.js";
import { eventually } from "../test/support/eventually.js";
import { cloudManifests } from "../test/support/cloud-manifests.js";
import { labFailover } from "./failover-lab.js";
import { printFailover, startWebhookLog, type FailoverTrial, type WebhookLog } from "./failover-stats.js";

const TRIALS = Number(process.env.FAILOVER_TRIALS ?? 5);
const TARGETS = (process.env.FAILOVER_TARGETS ?? "sim,lab").split(",").map((t) => t.trim());
const VMS = 10;

async function simFailover(env: TestEnv, hook: WebhookLog): Promise<FailoverTrial[]> {
  const cloud = await startSimulatedCloud({ cloudName: "bench", hosts: 12, replicas: 1, workDir: env.workDir, intervalMs: 1000, evacuationMs: 1500 });
  try {
    for (let t = 1; t <= TRIALS; t++) {
      cloud.sim.nova.addServers(Array.from({ length: VMS }, (_, i) => ({ name: `t${t}-vm-${i}`, host: `compute-${t}`, tags: ["ha"] })));
    }
    const ns = await env.createNamespace("bench");
    await env.kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], {
      input: `${cloudManifests({ name: "bench", secretName: "clouds", cloudsYaml: cloud.cloudsYaml, cloudName: "sim" })}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: bench}
spec:
  cloudRef: {name: bench}
  selector: {tags: [ha]}
  recovery: {unsafeSkipPowerFencing: true, localDisk: RebuildFromImage}
  notification: {webhook: {url: "${hook.url}", allowHTTP: true}}
`,
    });
    const op = await startOperatorProcess({ kubeconfig: env.kubeconfigPath, identity: "bench", namespace: ns, logDir: env.workDir, extraArgs: [`--heartbeat-bind-address=127.0.0.1:${cloud.heartbeatPorts[0]}`, `--heartbeat-key-file=${cloud.keyFile}`] });
    const healthy = async (): Promise<void> => {
      const r = await env.kubectl(["get", "computehosts", "-n", ns, "-o", "jsonpath={.items[*].status.health.state}"]);
      const states = r.stdout.trim().split(/\s+/);
      if (states.length < 12 || states.some((s) => s !== "Healthy" && s !== "Failed")) throw new Error(`hosts: ${r.stdout}`);
    };
    await eventually(healthy, 120_000, 500);
    // Default startup grace: no fencing in the first 30 s after the leader starts.
    await new Promise((r) => setTimeout(r, 31_000));
    const trials: FailoverTrial[] = [];
    for (let t = 1; t <= TRIALS; t++) {
      const killedAt = Date.now();
      cloud.killHost(`compute-${t}`);
      const name = `bench.compute-${t}-1`;
      const inc = await eventually(async () => {
        const r = await env.kubectl(["get", "incident", name, "-n", ns, "-o", "json"]);
        const o = JSON.parse(r.stdout) as { spec: { detectedAt: string }; status?: { phase?: string; timestamps?: Record<string, string> } };
        if (o.status?.phase !== "Recovered") throw new Error(`phase ${o.status?.phase ?? "-"}`);
        return o;
      }, 120_000, 200);
      const ts = inc.status?.timestamps ?? {};
      const detected = Date.parse(inc.spec.detectedAt);
      trials.push({
        detectedMs: detected - killedAt,
        firstEvacuationMs: Date.parse(ts.firstEvacuationAt ?? "") - killedAt,
        allActiveMs: Date.parse(ts.recoveredAt ?? "") - killedAt,
        notifiedAfterDetectionMs: (hook.received.get(name) ?? NaN) - detected,
      });
      console.log(`trial ${t}: ${JSON.stringify(trials.at(-1))}`);
    }
    await op.proc.stop();
    return trials;
  } finally {
    await cloud.stop();
  }
}

async function main(): Promise<void> {
  const env = await startTestEnv();
  const hook = await startWebhookLog();
  try {
    const results: Record<string, FailoverTrial[]> = {};
    if (TARGETS.includes("sim")) {
      results.sim = await simFailover(env, hook);
      printFailover(`failover on the simulator, ${TRIALS} trials, ${VMS} protected VMs per dead host, default detection settings (1 s heartbeats, 3 missed, 5 s confirmation), unsafeSkipPowerFencing:`, results.sim, VMS);
    }
    if (TARGETS.includes("lab")) {
      results.lab = await labFailover(env, hook, TRIALS, VMS);
      printFailover(`failover on the real Nova lab, ${TRIALS} trials, ${VMS} protected servers on the hung host, default detection settings, IPMI power fencing (ipmi_sim):`, results.lab, VMS);
    }
    console.log(JSON.stringify({ bench: "failover", trials: TRIALS, results }));
  } finally {
    hook.close();
    await env.stop();
  }
}

await main();
process.exit(0);
