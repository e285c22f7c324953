import assert from "node:assert/strict";
import { basename } from "node:path";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";
import { invalidFixtures, sampleFiles } from "../unit/validate/fixtures.js";

// The same samples and invalid fixtures as the offline validator's unit tests, against the
// real API server: what `vmkeeper validate` accepts or refuses, admission must too.
describe("API admission (real kube-apiserver)", function () {
  this.timeout(120_000);
  let env: TestEnv;
  let ns: string;

  before(async () => {
    env = await sharedTestEnv();
    ns = await env.createNamespace("api-admission");
  });

  for (const file of sampleFiles()) {
    it(`applies config/samples/${basename(file)} with kubectl apply --server-side`, async () => {
      const res = await env.kubectl(["apply", "--server-side", "-n", ns, "-f", file]);
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    });
  }

  for (const fx of invalidFixtures()) {
    it(`rejects ${fx.file} naming ${fx.expectApiServer}`, async () => {
      const res = await env.kubectl(["apply", "--server-side", "-n", ns, "-f", fx.path]);
      assert.notEqual(res.code, 0, `expected a rejection, got:\n${res.stdout}`);
      assert.ok(res.stderr.includes(fx.expectApiServer), `expected ${JSON.stringify(fx.expectApiServer)} in:\n${res.stderr}`);
    });
  }

  it("keeps an Incident's spec immutable (transition rule) while its status may change", async () => {
    const name = "compute-imm-1";
    const incident = (reason: string): string =>
      JSON.stringify({
        apiVersion: "ha.vmkeeper.dev/v1alpha1",
        kind: "Incident",
        metadata: { name, namespace: ns },
        spec: { cloudRef: { name: "production" }, hostRef: { name: "compute-imm" }, epoch: 1, trigger: "HostFailure", reason, detectedAt: "2026-11-22T04:12:09Z" },
      });
    const created = await env.kubectl(["apply", "--server-side", "-f", "-"], { input: incident("first") });
    assert.equal(created.code, 0, created.stderr);
    const changed = await env.kubectl(["apply", "--server-side", "-f", "-"], { input: incident("second") });
    assert.notEqual(changed.code, 0, "changing the spec must be refused");
    assert.match(changed.stderr, /spec: Invalid value: "object": spec is immutable/);
    const status = await env.kubectl(["patch", "incident", name, "-n", ns, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { phase: "Detected" } })]);
    assert.equal(status.code, 0, status.stderr);
  });

  it("keeps a ComputeHost's identity immutable but lets people set maintenance", async () => {
    const host = (serviceHost: string, maintenance: boolean): string =>
      JSON.stringify({
        apiVersion: "ha.vmkeeper.dev/v1alpha1",
        kind: "ComputeHost",
        metadata: { name: "compute-imm", namespace: ns },
        spec: { cloudRef: { name: "production" }, serviceHost, maintenance: maintenance ? { enabled: true, reason: "test" } : { enabled: false } },
      });
    assert.equal((await env.kubectl(["apply", "--server-side", "-f", "-"], { input: host("compute-imm", false) })).code, 0);
    assert.equal((await env.kubectl(["apply", "--server-side", "-f", "-"], { input: host("compute-imm", true) })).code, 0);
    const moved = await env.kubectl(["apply", "--server-side", "-f", "-"], { input: host("elsewhere", true) });
    assert.notEqual(moved.code, 0);
    assert.match(moved.stderr, /spec\.serviceHost: Invalid value: "string": serviceHost is immutable/);
  });
});
