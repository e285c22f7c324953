// The local demo (docs/demo.md), run through `npm run demo`:
//   npm run demo               the whole story, then keeps everything running until Ctrl-C
//   npm run demo -- --ci       the whole story, checks its own outcome, cleans up, exit 0/1
//                              (--once is the same)
//   --victim compute-0007      which host dies (default compute-0001: 3 tier-1 VMs, 3 HA-tagged, 3 unprotected)
//
// A real etcd + kube-apiserver on loopback (the one the integration tests use), the
// Keystone + Nova simulator (12 hosts in two aggregates, 108 VMs, anti-affinity pairs, a
// reserved spare), one simulated node agent per host, a simulated IPMI BMC per host
// (OpenIPMI's ipmi_sim) when it is installed, and two operator replicas electing a leader.
// Then one host dies and the timeline of the recovery is printed from the API server.
import { startTestEnv } from "../dist/test/support/test-env.js";
import { startOperatorProcess } from "../dist/test/support/operator-process.js";
import { eventually, sleep } from "../dist/test/support/eventually.js";
import { freePort } from "../dist/test/support/free-port.js";
import { ManagedProcess } from "../dist/test/support/managed-process.js";
import { startSimulatedAgents } from "../dist/test/support/simulated-agents.js";
import { writeHeartbeatKeyFile } from "../dist/test/support/heartbeat-key-file.js";
import { startIpmiSim } from "../dist/test/support/ipmi-sim.js";
import { TimelineTracker, formatEntry } from "../dist/src/demo/timeline.js";
import { KubeSnapshotReader } from "../dist/src/demo/kube-snapshot.js";
import { SimNovaReader } from "../dist/src/demo/sim-nova.js";
import { checkOutcome } from "../dist/src/demo/demo-outcome.js";
import { formatSummary } from "../dist/src/demo/demo-summary.js";
import { hostName, reservedHostName } from "../dist/src/sim/seed-cloud.js";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";

const argv = process.argv.slice(2);
const ci = argv.includes("--ci") || argv.includes("--once");
const victimArg = argv[argv.indexOf("--victim") + 1];
const victim = argv.includes("--victim") && victimArg ? victimArg : "compute-0001";
const color = process.stdout.isTTY && !ci && !process.env.NO_COLOR;
const HOSTS = 12;
const SERVERS_PER_HOST = 9;
const CLOUD = "production";
const NS = "vmkeeper-demo";
const STARTUP_GRACE_S = 15; // config/samples/demo/policies.yaml stormProtection.startupGraceSeconds
const SAMPLES = "config/samples/demo";

const out = (s) => process.stdout.write(s);
const bold = (s) => (color ? `\u001b[1m${s}\u001b[0m` : s);
const say = (s) => out(`\n${bold(`== ${s}`)}\n`);

// ------------------------------------------------------------------ clean-up, Ctrl-C included
// ManagedProcess installs a SIGINT/SIGTERM hook that SIGKILLs children and exits at once; start
// one trivial process so that hook exists, then replace it with one that stops everything in
// order and removes the temp dirs.
const cleanups = [];
let stopping;
const stopAll = () => {
  stopping ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // best effort: the next resource still gets stopped
      }
    }
  })();
  return stopping;
};
const probe = new ManagedProcess("signal-hook", "true", [], "/dev/null");
probe.start();
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.removeAllListeners(sig);
  process.on(sig, () => {
    out(`\n${sig}: stopping everything the demo started...\n`);
    void stopAll().then(() => process.exit(130));
  });
}

const kubectlOk = async (env, args, input) => {
  const r = await env.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

async function main() {
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const fencingPeers = spawnSync("bash", ["hack/install-fencing-peers.sh", "--check"], { encoding: "utf8" }).status === 0;

  say("1/6 local control plane: etcd and kube-apiserver on 127.0.0.1, vmkeeper's CRDs");
  const env = await startTestEnv();
  cleanups.push(() => env.stop());
  await kubectlOk(env, ["create", "namespace", NS]);
  out(`API server ${env.apiServerUrl}, kubeconfig ${env.kubeconfigPath} (${since()})\n`);

  say(`2/6 OpenStack simulator: ${HOSTS} hosts in aggregates rack-a and rack-b, ${HOSTS * SERVERS_PER_HOST} VMs, 1 reserved spare`);
  const simPort = await freePort();
  const cloudsYaml = join(env.workDir, "sim-clouds.yaml");
  const sim = new ManagedProcess("sim", process.execPath, ["dist/src/cli/vmkeeper.js", "sim", "--port", String(simPort), "--hosts", String(HOSTS), "--servers-per-host", String(SERVERS_PER_HOST),
    "--aggregates", "2", "--reserved-hosts", "1", "--seed", "demo", "--service-down-time", "20", "--report-interval", "5", "--evacuation-ms", "1500",
    "--clouds-yaml", cloudsYaml, "--cloud-name", CLOUD], join(env.workDir, "sim.log"));
  sim.start();
  cleanups.push(() => sim.stop("SIGTERM", 5000));
  await eventually(() => { if (!existsSync(cloudsYaml) || !sim.logTail().includes("listening")) throw new Error("simulator not up"); }, 30_000);
  out(sim.logTail().split("\n").filter((l) => l.includes("listening")).join("\n") + "\n");
  const simUrl = `http://127.0.0.1:${simPort}`;
  const nova = new SimNovaReader(simUrl);
  const groups = await nova.groups();
  out(`server groups: ${groups.map((g) => `${g.name} (${g.policy}, ${g.members.length} VMs)`).join(", ")}\n`);

  const hosts = [...Array.from({ length: HOSTS }, (_, i) => hostName(i)), reservedHostName(0)];
  say("3/6 one simulated node agent per host (signed UDP heartbeats with peer reports to both replicas)" + (fencingPeers ? ", one IPMI BMC per host (ipmi_sim)" : ""));
  const keyFile = writeHeartbeatKeyFile(env.workDir);
  const ports = [await freePort(), await freePort()];
  const agents = startSimulatedAgents({ cloudName: CLOUD, hosts, ports, keyFile, intervalMs: 500 });
  cleanups.push(() => agents.stop());
  const bmcs = new Map();
  const rackOf = (h) => (h.startsWith("compute-spare") ? "spares" : Number(h.slice(-4)) <= HOSTS / 2 ? "rack-a" : "rack-b");
  if (fencingPeers) {
    const passwords = { "rack-a": "demo-rack-a-pw", "rack-b": "demo-rack-b-pw", spares: "demo-spares-pw" };
    const started = await Promise.all(hosts.map((h) => startIpmiSim({ username: "vmkeeper", password: passwords[rackOf(h)], ipmiSimPath: "ipmi_sim" })));
    started.forEach((b, i) => bmcs.set(hosts[i], b));
    for (const b of started) cleanups.push(() => b.stop());
    out(`${bmcs.size} BMCs on 127.0.0.1 UDP ports ${started[0].port}..${started[started.length - 1].port}, chassis power On (${since()})\n`);
  } else {
    out("ipmi_sim is not installed (hack/install-fencing-peers.sh installs it with root or password-less sudo):\n" +
      "the demo runs WITHOUT power fencing: the policies set recovery.unsafeSkipPowerFencing, so only Nova's force-down guards against a second copy\n");
  }

  say("4/6 two operator replicas (leader election on a Lease)");
  const ops = [];
  for (const [n, id] of ["vmkeeper-0", "vmkeeper-1"].entries()) {
    const op = await startOperatorProcess({ kubeconfig: env.kubeconfigPath, identity: id, namespace: NS, logDir: env.workDir,
      extraArgs: [`--heartbeat-bind-address=127.0.0.1:${ports[n]}`, `--heartbeat-key-file=${keyFile}`, "--monitor-interval-ms=250"] });
    ops.push(op);
    cleanups.push(() => op.proc.stop("SIGTERM", 5000));
  }
  await eventually(async () => { for (const op of ops) if ((await op.readyz()) !== 200) throw new Error(`${op.identity} not ready`); }, 60_000, 250);
  const leaderSince = Date.now();
  const holder = await eventually(async () => {
    const h = (await kubectlOk(env, ["get", "lease", "vmkeeper-operator", "-n", NS, "-o", "jsonpath={.spec.holderIdentity}"])).trim();
    if (!h) throw new Error("no leader yet");
    return h;
  }, 30_000, 250);
  out(`both ready; leader ${holder} (${since()})\n`);

  say(`5/6 applying ${SAMPLES}/ (validated offline first with vmkeeper validate)`);
  const v = spawnSync(process.execPath, ["dist/src/cli/vmkeeper.js", "validate", "-f", `${SAMPLES}/`], { encoding: "utf8" });
  out(v.stdout + v.stderr);
  if (v.status !== 0) throw new Error(`${SAMPLES} does not validate`);
  const docs = readdirSync(SAMPLES).filter((f) => f.endsWith(".yaml")).sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(SAMPLES, f), "utf8")).map((d) => d.toJS()));
  const manifests = [{ apiVersion: "v1", kind: "Secret", metadata: { name: "openstack-clouds" }, stringData: { "clouds.yaml": readFileSync(cloudsYaml, "utf8") } }];
  for (const d of docs) {
    if (d.kind === "HostFencing") {
      if (!fencingPeers) continue;
      const mine = hosts.filter((h) => rackOf(h) === d.metadata.name);
      d.spec.hostOverrides = mine.map((h) => ({ host: `${CLOUD}.${h}`, device: "bmc", port: bmcs.get(h).port }));
      const bmc = bmcs.get(mine[0]);
      manifests.push({ apiVersion: "v1", kind: "Secret", metadata: { name: `bmc-${d.metadata.name}` }, stringData: { username: bmc.username, password: bmc.password } });
    }
    if (d.kind === "InstanceHAPolicy" && d.spec.mode === "KeepRunning" && !fencingPeers) d.spec.recovery.unsafeSkipPowerFencing = true;
    manifests.push(d);
  }
  out(await kubectlOk(env, ["apply", "--server-side", "-n", NS, "-f", "-"], manifests.map((d) => stringify(d)).join("---\n")));
  const reader = new KubeSnapshotReader(env.kubeConfig, NS);
  await eventually(async () => {
    const r = await kubectlOk(env, ["get", "openstackcloud", CLOUD, "-n", NS, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
    if (r.trim() !== "True") throw new Error("cloud not ready");
  }, 60_000, 250);
  await eventually(async () => {
    const hs = await reader.hosts();
    const healthy = hs.filter((h) => h.status?.health?.state === "Healthy").length;
    if (healthy < hosts.length) throw new Error(`${healthy}/${hosts.length} hosts healthy`);
  }, 90_000, 250);
  if (fencingPeers) {
    await eventually(async () => {
      const r = await kubectlOk(env, ["get", "hostfencing", "-n", NS, "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"DevicesReady\")].status}"]);
      if (r.trim().split(/\s+/).filter((x) => x === "True").length !== 3) throw new Error(`DevicesReady: ${r}`);
    }, 90_000, 500);
  }
  out(await kubectlOk(env, ["get", "computehosts", "-n", NS, "-L", "aggregate.ha.vmkeeper.dev/rack-a,aggregate.ha.vmkeeper.dev/rack-b"]));
  out(await kubectlOk(env, ["get", "instancehapolicies", "-n", NS]));
  if (fencingPeers) out(await kubectlOk(env, ["get", "hostfencing", "-n", NS]));

  const before = (await nova.servers()).filter((s) => s.host === victim).sort((a, b) => a.name.localeCompare(b.name));
  const groupOf = new Map(groups.flatMap((g) => g.members.map((m) => [m, g])));
  out(`\n${victim} (${rackOf(victim)}) runs ${before.length} VMs: ${before.map((s) => `${s.name}${s.status === "ACTIVE" ? "" : ` ${s.status}`}${groupOf.has(s.id) ? ` [${groupOf.get(s.id).name}]` : ""}`).join(", ")}\n`);
  const grace = leaderSince + (STARTUP_GRACE_S + 1) * 1000 - Date.now();
  if (grace > 0) {
    out(`safety gate StartupGrace: no recovery in the first ${STARTUP_GRACE_S} s of a leader; waiting ${Math.ceil(grace / 1000)} s\n`);
    await sleep(grace);
  }

  say(`6/6 ${victim} dies: its agent stops, Nova stops hearing its nova-compute` + (fencingPeers ? ", its BMC still answers (power On)" : ""));
  const tracker = new TimelineTracker([`${CLOUD}.${victim}`, `${CLOUD}.${reservedHostName(0)}`]);
  tracker.baseline(await reader.read());
  const killedAt = Date.now();
  agents.kill(victim);
  const killed = await fetch(`${simUrl}/_sim/hosts/${victim}/kill`, { method: "POST" });
  if (!killed.ok) throw new Error(`killing ${victim}: ${killed.status}`);
  out(`${bold("    TIME  WHAT      DETAIL")}\n`);
  out(formatEntry({ atMs: killedAt, kind: "fault", text: `${victim} killed (no heartbeats, nova-compute silent; Nova itself would call it down only after service_down_time 20 s)` }, killedAt, color) + "\n");
  if (!fencingPeers) out(formatEntry({ atMs: killedAt, kind: "fault", text: "UNSAFE: no power fencing in this run (recovery.unsafeSkipPowerFencing)", warning: true }, killedAt, color) + "\n");
  const done = (inc) => inc?.status?.phase && ["Recovered", "Failed", "Notified"].includes(inc.status.phase) && (inc.status.instances ?? []).every((i) => ["Recovered", "Failed", "Notified", "Skipped"].includes(i.state));
  let last;
  const deadline = killedAt + 120_000;
  for (;;) {
    last = await reader.read();
    for (const e of tracker.observe(last)) out(formatEntry(e, killedAt, color) + "\n");
    if (done(last.incidents.find((i) => i.spec.hostRef.name === `${CLOUD}.${victim}`))) break;
    if (Date.now() > deadline) throw new Error("no recovery within 120 s of the kill");
    await sleep(300);
  }
  await sleep(1500); // late Events (the Recovered one) and the reserved host's last transition
  for (const e of tracker.observe(await reader.read())) out(formatEntry(e, killedAt, color) + "\n");
  if (fencingPeers) out(formatEntry({ atMs: Date.now(), kind: "fence", text: `BMC of ${victim} reads chassis power ${await bmcs.get(victim).powerState()}` }, killedAt, color) + "\n");

  const incidents = await reader.incidents();
  const inc = incidents.find((i) => i.spec.hostRef.name === `${CLOUD}.${victim}`);
  say(`summary: Incident ${inc?.metadata?.name ?? "?"}`);
  if (inc) out(formatSummary(inc, killedAt));
  const policyModes = Object.fromEntries(JSON.parse(await kubectlOk(env, ["get", "instancehapolicies", "-n", NS, "-o", "json"])).items.map((p) => [p.metadata.name, p.spec.mode ?? "KeepRunning"]));
  const outcome = checkOutcome({ policyModes, incidents, victim: `${CLOUD}.${victim}`, victimServiceHost: victim, before, after: await nova.servers(), groups: await nova.groups() });
  out(`\noutcome: ${outcome.recoveredCount}/${outcome.protectedCount} protected VMs of ${victim} ACTIVE on other hosts (checked in Nova), ${outcome.reportedCount} unprotected VMs reported only; ` +
    `${incidents.length} Incident, ${inc?.status?.phase ?? "none"}; fencing: ${fencingPeers ? "IPMI power off, read back Off" : "SKIPPED (unsafe)"}\n`);
  for (const f of outcome.failures) out(`outcome FAILED: ${f}\n`);
  if (outcome.failures.length === 0) out("outcome OK\n");

  say("explore");
  out(`  kubectl --kubeconfig ${env.kubeconfigPath} get incidents,computehosts -n ${NS}\n` +
    `  kubectl --kubeconfig ${env.kubeconfigPath} describe incident ${inc?.metadata?.name ?? ""} -n ${NS}\n` +
    `  kubectl --kubeconfig ${env.kubeconfigPath} events -n ${NS}\n` +
    `  the kubectl vmkeeper plugin (dist/src/cli/kubectl-vmkeeper.js) has commands to summarise the cloud and its incidents; see docs/cli.md\n` +
    `  curl -s ${simUrl}/_sim/state            # the simulated cloud; POST ${simUrl}/_sim/hosts/<host>/kill to break another\n` +
    `  operator logs: ${env.workDir}/operator-vmkeeper-*.log\n`);
  return outcome.failures.length === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  code = 1;
}
if (!ci && code === 0 && !stopping) {
  say("everything keeps running; Ctrl-C stops it and removes the temp dirs");
  await new Promise(() => undefined);
}
await stopAll();
process.exit(code);
