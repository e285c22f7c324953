import assert from "node:assert/strict";
import { eventually } from "../support/eventually.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

const PASSWORD = "pw-that-must-never-leak-7c1e";

describe("OpenStackCloud controller (real API server)", function () {
  this.timeout(120_000);
  let env: TestEnv;
  let op: OperatorProcess | undefined;
  let ns: string;

  before(async () => {
    env = await sharedTestEnv();
    ns = await env.createNamespace("osc");
    op = await startOperatorProcess({ kubeconfig: env.kubeconfigFor("operator-a"), identity: "osc-test", namespace: ns, logDir: env.workDir, extraArgs: ["--leader-elect=false"] });
    await eventually(async () => assert.equal(await op!.readyz(), 200), 30_000);
  });

  after(async () => {
    await op?.proc.stop();
  });

  const get = async (path: string): Promise<string> =>
    (await env.kubectl(["get", "openstackcloud", "lab", "-n", ns, "-o", `jsonpath=${path}`])).stdout.trim();

  it("reports a missing Secret, then a wrong cloud name, then valid credentials, with Events and no secret anywhere", async () => {
    const cloud = `apiVersion: ha.vmkeeper.dev/v1alpha1\nkind: OpenStackCloud\nmetadata: {name: lab, namespace: ${ns}}\nspec:\n  secretRef: {name: creds}\n  cloudName: lab\n`;
    assert.equal((await env.kubectl(["apply", "--server-side", "-f", "-"], { input: cloud })).code, 0);
    await eventually(async () => assert.equal(await get(`{.status.conditions[?(@.type=="SecretValid")].reason}`), "SecretNotFound"));
    assert.equal(await get(`{.status.conditions[?(@.type=="Ready")].status}`), "False");
    assert.equal(await get("{.status.observedGeneration}"), "1");

    const secret = (cloudName: string): string => {
      const yaml = `clouds:\n  ${cloudName}:\n    auth:\n      auth_url: https://127.0.0.1:9/v3\n      username: admin\n      user_domain_name: Default\n      project_name: admin\n      project_domain_name: Default\n      password: ${PASSWORD}\n`;
      return `apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: ${ns}}\ndata:\n  clouds.yaml: ${Buffer.from(yaml).toString("base64")}\n`;
    };
    assert.equal((await env.kubectl(["apply", "--server-side", "-f", "-"], { input: secret("prod") })).code, 0);
    await eventually(async () => assert.equal(await get(`{.status.conditions[?(@.type=="SecretValid")].reason}`), "CloudNotFound"));
    assert.match(await get(`{.status.conditions[?(@.type=="SecretValid")].message}`), /has no cloud "lab".*it has: prod/);

    assert.equal((await env.kubectl(["apply", "--server-side", "-f", "-"], { input: secret("lab") })).code, 0);
    await eventually(async () => assert.equal(await get(`{.status.conditions[?(@.type=="SecretValid")].status}`), "True"));
    assert.equal(await get("{.status.authUrl}"), "https://127.0.0.1:9/v3");
    // Nothing listens there: the connection check says so, in terms a person can act on.
    await eventually(async () => assert.equal(await get(`{.status.conditions[?(@.type=="Ready")].reason}`), "EndpointUnreachable"));
    assert.equal(await get(`{.status.conditions[?(@.type=="EndpointUnreachable")].status}`), "True");

    const events = await eventually(async () => {
      const r = await env.kubectl(["get", "events.events.k8s.io", "-n", ns, "-o", "json"]);
      const items = (JSON.parse(r.stdout) as { items: { reason: string; type: string; note: string; reportingController: string }[] }).items;
      assert.ok(items.some((e) => e.reason === "SecretValid" && e.type === "Normal"));
      return items;
    });
    assert.ok(events.some((e) => e.reason === "SecretNotFound" && e.type === "Warning"));
    assert.ok(events.every((e) => e.reportingController === "ha.vmkeeper.dev/operator"));

    const status = (await env.kubectl(["get", "openstackcloud", "lab", "-n", ns, "-o", "json"])).stdout;
    assert.ok(!status.includes(PASSWORD) && !JSON.stringify(events).includes(PASSWORD));
    assert.ok(!op!.proc.logTail(1_000_000).includes(PASSWORD), "the operator log never shows the password");
  });

  it("does not write status when nothing changed", async () => {
    const before = await get("{.metadata.resourceVersion}");
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await get("{.metadata.resourceVersion}"), before);
  });
});
