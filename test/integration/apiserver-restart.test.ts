import assert from "node:assert/strict";
import { eventually } from "../support/eventually.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { startTestEnv, type TestEnv } from "../support/test-env.js";

function secretManifest(ns: string): string {
  const clouds = Buffer.from("clouds:\n  lab:\n    auth:\n      auth_url: https://127.0.0.1:9/v3\n      username: admin\n      password: x\n      user_domain_name: Default\n      project_name: admin\n      project_domain_name: Default\n").toString("base64");
  return `apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: ${ns}}\ndata:\n  clouds.yaml: ${clouds}\n`;
}

describe("operator survives an API server restart (real API server, killed and restarted)", function () {
  this.timeout(180_000);
  let env: TestEnv;
  let op: OperatorProcess | undefined;

  before(async () => {
    // A private API server: this test kills it.
    env = await startTestEnv();
  });

  after(async () => {
    await op?.proc.stop("SIGKILL");
    await env?.stop();
  });

  it("informers recover without a process restart, /readyz goes false then true, reconciliation resumes", async () => {
    const ns = await env.createNamespace("restart");
    op = await startOperatorProcess({
      kubeconfig: env.kubeconfigPath,
      identity: "survivor",
      namespace: ns,
      logDir: env.workDir,
      // A renew deadline longer than the outage: this test is about informers, not failover.
      extraArgs: ["--lease-duration-seconds=60", "--renew-deadline-seconds=45"],
    });
    await eventually(async () => assert.equal(await op!.readyz(), 200), 30_000);
    const cloud = `apiVersion: ha.vmkeeper.dev/v1alpha1\nkind: OpenStackCloud\nmetadata: {name: lab, namespace: ${ns}}\nspec:\n  secretRef: {name: creds}\n  cloudName: lab\n`;
    assert.equal((await env.kubectl(["apply", "--server-side", "-f", "-"], { input: cloud })).code, 0);
    const secretValid = async (): Promise<string> =>
      (await env.kubectl(["get", "openstackcloud", "lab", "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="SecretValid")].status}`])).stdout.trim();
    await eventually(async () => assert.equal(await secretValid(), "False"), 30_000);

    await env.stopApiServer("SIGKILL");
    await eventually(async () => assert.equal(await op!.readyz(), 503), 30_000, 100);
    assert.ok(op.proc.running, "the operator keeps running while the API server is down");
    await env.startApiServer();
    await eventually(async () => assert.equal(await op!.readyz(), 200), 60_000, 200);
    assert.ok(op.proc.running);

    // Reconciliation resumes: a change made after the outage is acted on.
    assert.equal((await env.kubectl(["apply", "--server-side", "-f", "-"], { input: secretManifest(ns) })).code, 0);
    await eventually(async () => assert.equal(await secretValid(), "True"), 60_000);
    const metrics = await op.metrics();
    assert.match(metrics, /vmkeeper_informer_synced\{resource="openstackclouds.ha.vmkeeper.dev"\} 1/);
  });
});
