// The local demo: a real etcd + kube-apiserver on loopback, vmkeeper's CRDs and samples,
// and two operator replicas electing a leader. Run through `npm run demo`.
//   npm run demo               keeps running until Ctrl-C, printing how to look around
//   npm run demo -- --once     shows the state once and exits (used as a smoke test)
import { startTestEnv } from "../dist/test/support/test-env.js";
import { startOperatorProcess } from "../dist/test/support/operator-process.js";
import { eventually } from "../dist/test/support/eventually.js";

const once = process.argv.includes("--once");
const say = (s) => process.stdout.write(`\n\u001b[1m== ${s}\u001b[0m\n`);

say("starting etcd and kube-apiserver on loopback, installing vmkeeper's CRDs");
const env = await startTestEnv();
const ns = "vmkeeper-demo";
await env.kubectl(["create", "namespace", ns]);
const ops = [];
const shutdown = async (code) => {
  for (const op of ops) await op.proc.stop("SIGTERM");
  await env.stop();
  process.exit(code);
};
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  say("starting two operator replicas (leader election on a Lease)");
  for (const id of ["vmkeeper-0", "vmkeeper-1"]) {
    ops.push(await startOperatorProcess({ kubeconfig: env.kubeconfigPath, identity: id, namespace: ns, logDir: env.workDir }));
  }
  await eventually(async () => {
    for (const op of ops) if ((await op.readyz()) !== 200) throw new Error(`${op.identity} not ready`);
  }, 60_000);

  say("validating config/samples offline (vmkeeper validate), then applying them");
  const show = async (args) => {
    const r = await env.kubectl(args);
    process.stdout.write(r.stdout + r.stderr);
  };
  const { spawnSync } = await import("node:child_process");
  const v = spawnSync(process.execPath, ["dist/src/cli/vmkeeper.js", "validate", "-f", "config/samples/"], { encoding: "utf8" });
  process.stdout.write(v.stdout + v.stderr);
  if (v.status !== 0) throw new Error("the samples do not validate");
  await show(["apply", "--server-side", "-n", ns, "-f", "config/samples/"]);
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
  say("events");
  await show(["get", "events.events.k8s.io", "-n", ns, "-o", "custom-columns=TYPE:.type,REASON:.reason,OBJECT:.regarding.name,NOTE:.note"]);
  const holder = (await env.kubectl(["get", "lease", "vmkeeper-operator", "-n", ns, "-o", "jsonpath={.spec.holderIdentity}"])).stdout.trim();
  const leader = ops.find((o) => o.identity === holder) ?? ops[0];
  say(`metrics of the leader ${leader.identity} (excerpt)`);
  const metrics = await leader.metrics();
  process.stdout.write(metrics.split("\n").filter((l) => /^(controller_runtime_reconcile_total|leader_election_master_status|workqueue_depth)/.test(l)).join("\n") + "\n");

  if (once) await shutdown(0);
  say("running; try it yourself, then Ctrl-C to stop everything");
  process.stdout.write(`  export KUBECONFIG=${env.kubeconfigPath}\n  kubectl get vmkeeper -n ${ns}\n  kill -9 ${leader.proc.pid}   # the other replica takes over within ~17 s\n  logs: ${env.workDir}/operator-*.log\n`);
  await new Promise(() => undefined);
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  await shutdown(1);
}
