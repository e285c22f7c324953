// The local demo: a real etcd + kube-apiserver on loopback, vmkeeper's CRDs and samples,
// and two operator replicas electing a leader. Run through `npm run demo`.
//   npm run demo               keeps running until Ctrl-C, printing how to look around
//   npm run demo -- --once     shows the state once and exits (used as a smoke test)
import { startTestEnv } from "../dist/test/support/test-env.js";
import { startOperatorProcess } from "../dist/test/support/operator-process.js";
import { eventually } from "../dist/test/support/eventually.js";
import { freePort } from "../dist/test/support/free-port.js";
import { ManagedProcess } from "../dist/test/support/managed-process.js";
import { startSimulatedAgents } from "../dist/test/support/simulated-agents.js";
import { writeHeartbeatKeyFile } from "../dist/test/support/heartbeat-key-file.js";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { parseAllDocuments, stringify } from "yaml";
import { join } from "node:path";

const once = process.argv.includes("--once");
const say = (s) => process.stdout.write(`\n\u001b[1m== ${s}\u001b[0m\n`);

say("starting etcd and kube-apiserver on loopback, installing vmkeeper's CRDs");
const env = await startTestEnv();
const ns = "vmkeeper-demo";
await env.kubectl(["create", "namespace", ns]);
const ops = [];
let sim;
let agents;
const shutdown = async (code) => {
  for (const op of ops) await op.proc.stop("SIGTERM");
  await agents?.stop();
  await sim?.stop("SIGTERM");
  await env.stop();
  process.exit(code);
};
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  say("starting the OpenStack simulator (Keystone + Nova on loopback: 6 compute hosts, 24 servers)");
  const simPort = await freePort();
  const cloudsYaml = join(env.workDir, "sim-clouds.yaml");
  sim = new ManagedProcess("sim", process.execPath, ["dist/src/cli/vmkeeper.js", "sim", "--port", String(simPort), "--hosts", "6", "--servers-per-host", "4",
    "--service-down-time", "20", "--report-interval", "5", "--clouds-yaml", cloudsYaml, "--cloud-name", "production"], join(env.workDir, "sim.log"));
  sim.start();
  await eventually(() => { if (!existsSync(cloudsYaml)) throw new Error("simulator not up"); }, 30_000);
  process.stdout.write(sim.logTail());

  say("starting a simulated vmkeeper agent per compute host (signed UDP heartbeats to every operator replica)");
  const keyFile = writeHeartbeatKeyFile(env.workDir);
  const ports = [await freePort(), await freePort()];
  const simHosts = Array.from({ length: 6 }, (_, i) => `compute-${String(i + 1).padStart(4, "0")}`);
  agents = startSimulatedAgents({ cloudName: "production", hosts: simHosts, ports, keyFile, intervalMs: 500 });

  say("starting two operator replicas (leader election on a Lease)");
  for (const [n, id] of ["vmkeeper-0", "vmkeeper-1"].entries()) {
    ops.push(await startOperatorProcess({ kubeconfig: env.kubeconfigPath, identity: id, namespace: ns, logDir: env.workDir,
      extraArgs: [`--heartbeat-bind-address=127.0.0.1:${ports[n]}`, `--heartbeat-key-file=${keyFile}`, "--monitor-interval-ms=250"] }));
  }
  const startedAt = Date.now();
  await eventually(async () => {
    for (const op of ops) if ((await op.readyz()) !== 200) throw new Error(`${op.identity} not ready`);
  }, 60_000);

  say("validating config/samples offline (vmkeeper validate)");
  const show = async (args) => {
    const r = await env.kubectl(args);
    process.stdout.write(r.stdout + r.stderr);
  };
  const { spawnSync } = await import("node:child_process");
  const v = spawnSync(process.execPath, ["dist/src/cli/vmkeeper.js", "validate", "-f", "config/samples/"], { encoding: "utf8" });
  process.stdout.write(v.stdout + v.stderr);
  if (v.status !== 0) throw new Error("the samples do not validate");
  // The samples as they are, except that the cloud is the simulator: its clouds.yaml goes in
  // the Secret, and the sample's CA bundle and internal interface do not apply to it.
  const docs = readdirSync("config/samples").filter((f) => f.endsWith(".yaml")).sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join("config/samples", f), "utf8")).map((d) => d.toJS()));
  for (const d of docs) {
    if (d.kind === "Secret" && d.metadata.name === "openstack-clouds") d.stringData = { "clouds.yaml": readFileSync(cloudsYaml, "utf8") };
    if (d.kind === "OpenStackCloud") {
      delete d.spec.caBundleSecretRef;
      d.spec.interface = "Public";
      d.spec.recheckIntervalSeconds = 10;
    }
  }
  say("applying them, with the OpenStackCloud pointed at the simulator (10 s re-check)");
  // A demo policy that keeps every simulated VM running. No power-fencing device kind exists
  // yet, so it accepts evacuation after a Nova force-down alone (flagged as unsafe).
  docs.push({ apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "InstanceHAPolicy", metadata: { name: "demo-keep-running" }, spec: {
    cloudRef: { name: "production" }, mode: "KeepRunning", selector: { allInstances: true },
    recovery: { unsafeSkipPowerFencing: true, localDisk: "RebuildFromImage" },
    hostMonitoring: { heartbeatIntervalMilliseconds: 500, missedHeartbeats: 3, confirmationWindowSeconds: 3 } } });
  const applied = await env.kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], { input: docs.map((d) => stringify(d)).join("---\n") });
  process.stdout.write(applied.stdout + applied.stderr);
  await eventually(async () => {
    const r = await env.kubectl(["get", "openstackcloud", "production", "-n", ns, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
    if (r.stdout.trim() !== "True") throw new Error("cloud not ready");
  }, 60_000);
  await eventually(async () => {
    const r = await env.kubectl(["get", "openstackcloud", "-n", ns, "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"SecretValid\")].status}"]);
    if (!r.stdout.trim()) throw new Error("no status yet");
  }, 30_000);

  say("who leads?");
  await show(["get", "lease", "vmkeeper-operator", "-n", ns, "-o", "custom-columns=LEASE:.metadata.name,HOLDER:.spec.holderIdentity,TRANSITIONS:.spec.leaseTransitions"]);
  say("everything vmkeeper (kubectl get vmkeeper)");
  await show(["get", "vmkeeper", "-n", ns]);
  say("the OpenStackCloud's conditions");
  await show(["get", "openstackcloud", "-n", ns, "-o", "custom-columns=NAME:.metadata.name,TYPE:.status.conditions[*].type,STATUS:.status.conditions[*].status,REASON:.status.conditions[*].reason"]);
  say("ComputeHosts discovered from Nova (kubectl get computehosts)");
  await show(["get", "computehosts", "-n", ns, "-L", "ha.vmkeeper.dev/availability-zone"]);
  const victim = "compute-0001";
  await eventually(async () => {
    const r = await env.kubectl(["get", "computehosts", "-n", ns, "-o", "jsonpath={.items[*].status.health.state}"]);
    if (r.stdout.trim().split(/\s+/).filter((x) => x === "Healthy").length < 6) throw new Error("hosts not healthy yet");
  }, 60_000, 500);
  await show(["get", "computehosts", "-n", ns]);
  const grace = 31_000 - (Date.now() - startedAt);
  if (grace > 0) {
    say(`safety gate "startup grace": no fencing in the first 30 s after a leader starts; waiting ${Math.ceil(grace / 1000)} s`);
    await new Promise((r) => setTimeout(r, grace));
  }
  say(`killing ${victim}: its agent stops and the simulator stops hearing its nova-compute`);
  const killedAt = Date.now();
  agents.kill(victim);
  await fetch(`http://127.0.0.1:${simPort}/_sim/hosts/${victim}/kill`, { method: "POST" });
  await eventually(async () => {
    const r = await env.kubectl(["get", "incident", `production.${victim}-1`, "-n", ns, "-o", "jsonpath={.status.phase}"]);
    if (r.stdout.trim() !== "Recovered") throw new Error(`incident ${r.stdout.trim() || "not yet"}`);
  }, 120_000, 500);
  process.stdout.write(`recovered ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the host died (Nova alone would have noticed only after 20 s)\n`);
  await show(["get", "incidents", "-n", ns]);
  await show(["get", "incident", `production.${victim}-1`, "-n", ns, "-o", "custom-columns=VM:.status.instances[*].name,STATE:.status.instances[*].state,NOW_ON:.status.instances[*].targetHost"]);
  await show(["get", "computehosts", "-n", ns]);

  say("events");
  await show(["get", "events.events.k8s.io", "-n", ns, "-o", "custom-columns=TYPE:.type,REASON:.reason,OBJECT:.regarding.name,NOTE:.note"]);
  const holder = (await env.kubectl(["get", "lease", "vmkeeper-operator", "-n", ns, "-o", "jsonpath={.spec.holderIdentity}"])).stdout.trim();
  const leader = ops.find((o) => o.identity === holder) ?? ops[0];
  say(`metrics of the leader ${leader.identity} (excerpt)`);
  const metrics = await leader.metrics();
  process.stdout.write(metrics.split("\n").filter((l) => /^(controller_runtime_reconcile_total|leader_election_master_status|workqueue_depth)/.test(l)).join("\n") + "\n");

  if (once) await shutdown(0);
  say("running; try it yourself, then Ctrl-C to stop everything");
  process.stdout.write(`  export KUBECONFIG=${env.kubeconfigPath}\n  curl -s http://127.0.0.1:${simPort}/_sim/state   # the simulated cloud\n  kubectl get vmkeeper -n ${ns}\n  kill -9 ${leader.proc.pid}   # the other replica takes over within ~17 s\n  logs: ${env.workDir}/operator-*.log\n`);
  await new Promise(() => undefined);
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  await shutdown(1);
}
