import assert from "node:assert/strict";
import { sleep, eventually } from "../support/eventually.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

const LEASE = "vmkeeper-operator";
const LEASE_DURATION_S = 15;
const RETRY_PERIOD_S = 2;

async function leaseHolder(env: TestEnv, ns: string): Promise<string> {
  const r = await env.kubectl(["get", "lease", LEASE, "-n", ns, "-o", "jsonpath={.spec.holderIdentity}"]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

async function applyCloud(env: TestEnv, ns: string, secretName: string): Promise<void> {
  const manifest = `apiVersion: ha.vmkeeper.dev/v1alpha1
kind: OpenStackCloud
metadata: {name: lab, namespace: ${ns}}
spec:
  secretRef: {name: ${secretName}}
  cloudName: lab
`;
  const r = await env.kubectl(["apply", "--server-side", "-f", "-"], { input: manifest });
  assert.equal(r.code, 0, r.stderr);
}

async function cloudSecretValid(env: TestEnv, ns: string): Promise<string> {
  const r = await env.kubectl(["get", "openstackcloud", "lab", "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="SecretValid")].status}`]);
  return r.stdout.trim();
}

function cloudsYamlSecret(ns: string, name: string, cloud: string): string {
  const clouds = Buffer.from(`clouds:\n  ${cloud}:\n    auth:\n      auth_url: https://127.0.0.1:9/v3\n      username: admin\n      user_domain_name: Default\n      project_name: admin\n      project_domain_name: Default\n      password: not-a-real-password\n`).toString("base64");
  return `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: ${ns}}\ndata:\n  clouds.yaml: ${clouds}\n`;
}

describe("leader election between operator processes (real API server)", function () {
  this.timeout(180_000);
  let env: TestEnv;
  const procs: OperatorProcess[] = [];

  before(async () => {
    env = await sharedTestEnv();
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) {
      p.proc.signal("SIGCONT");
      await p.proc.stop("SIGKILL");
    }
  });

  const start = async (ns: string, user: "operator-a" | "operator-b" | "operator-c"): Promise<OperatorProcess> => {
    const p = await startOperatorProcess({ kubeconfig: env.kubeconfigFor(user), identity: user, namespace: ns, logDir: env.workDir });
    procs.push(p);
    return p;
  };

  it("elects exactly one leader and hands over after kill -9 within lease duration + retry period", async () => {
    const ns = await env.createNamespace("le-kill");
    const a = await start(ns, "operator-a");
    await eventually(async () => assert.equal(await leaseHolder(env, ns), "operator-a"), 30_000);
    const b = await start(ns, "operator-b");
    await eventually(async () => assert.equal(await b.readyz(), 200), 30_000);
    // The standby is ready (warm caches) but does not lead.
    await sleep(RETRY_PERIOD_S * 1000 * 2);
    assert.equal(await leaseHolder(env, ns), "operator-a");
    assert.match(await b.metrics(), /leader_election_master_status\{name="vmkeeper-operator"\} 0/);
    assert.match(await a.metrics(), /leader_election_master_status\{name="vmkeeper-operator"\} 1/);

    // The leader reconciles.
    await applyCloud(env, ns, "lab-credentials");
    await eventually(async () => assert.equal(await cloudSecretValid(env, ns), "False"), 30_000);

    const killedAt = Date.now();
    a.proc.signal("SIGKILL");
    await eventually(async () => assert.equal(await leaseHolder(env, ns), "operator-b"), 40_000, 50);
    const takeoverMs = Date.now() - killedAt;
    const boundMs = (LEASE_DURATION_S + RETRY_PERIOD_S) * 1000;
    console.log(`      leader takeover after kill -9: ${takeoverMs} ms (bound: lease duration + retry period = ${boundMs} ms, plus 20% retry jitter)`);
    assert.ok(takeoverMs <= boundMs + RETRY_PERIOD_S * 1000 * 0.2 + 1500, `takeover took ${takeoverMs} ms`);

    // The new leader reconciles: fixing the Secret turns the condition True.
    const r = await env.kubectl(["apply", "--server-side", "-f", "-"], { input: cloudsYamlSecret(ns, "lab-credentials", "lab") });
    assert.equal(r.code, 0, r.stderr);
    await eventually(async () => assert.equal(await cloudSecretValid(env, ns), "True"), 30_000);
  });

  it("a leader frozen past its lease performs no further writes and exits when it resumes", async () => {
    const ns = await env.createNamespace("le-stop");
    const b = await start(ns, "operator-b");
    await eventually(async () => assert.equal(await leaseHolder(env, ns), "operator-b"), 30_000);
    await applyCloud(env, ns, "lab-credentials");
    await eventually(async () => assert.equal(await cloudSecretValid(env, ns), "False"), 30_000);
    const c = await start(ns, "operator-c");
    await eventually(async () => assert.equal(await c.readyz(), 200), 30_000);

    b.proc.signal("SIGSTOP");
    await eventually(async () => assert.equal(await leaseHolder(env, ns), "operator-c"), 40_000, 100);
    const takenOverAt = new Date();
    // Work for the deposed leader's queue while it is frozen: its informer will deliver it.
    const r = await env.kubectl(["apply", "--server-side", "-f", "-"], { input: cloudsYamlSecret(ns, "lab-credentials", "lab") });
    assert.equal(r.code, 0, r.stderr);
    await eventually(async () => assert.equal(await cloudSecretValid(env, ns), "True"), 30_000);
    b.proc.signal("SIGCONT");
    await b.proc.waitForExit();
    assert.equal(b.proc.exitCode(), 1, "a replica that lost its lease exits with status 1");

    const lateWrites = env
      .auditEvents()
      .filter((e) => e.user.username === "operator-b" && new Date(e.requestReceivedTimestamp) > takenOverAt)
      .filter((e) => (e.responseStatus?.code ?? 0) < 300);
    assert.deepEqual(lateWrites.map((e) => `${e.verb} ${e.objectRef?.resource ?? ""}/${e.objectRef?.name ?? ""}`), []);
  });
});
