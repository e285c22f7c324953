import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../support/run-command.js";
import { REPO_ROOT } from "../support/test-assets.js";

/**
 * `npm run demo -- --ci` end to end, as a child process: the local control plane, the
 * simulator, agents, BMCs and two operators; one host dies; the demo checks the outcome in
 * Nova and in the API server and exits 0 only when it ended as promised.
 */
describe("the demo (hack/demo.mjs --ci)", function () {
  this.timeout(240_000);

  it("recovers every protected VM of the killed host and cleans up after itself", async () => {
    const res = await runCommand(process.execPath, [join(REPO_ROOT, "hack/demo.mjs"), "--ci"], { timeoutMs: 220_000, cwd: REPO_ROOT });
    const out = res.stdout + res.stderr;
    assert.equal(res.code, 0, out.slice(-6000));
    assert.match(out, /^outcome OK$/m, out.slice(-3000));
    assert.doesNotMatch(out, /outcome FAILED/);
    const summary = /outcome: (\d+)\/(\d+) protected VMs of compute-0001 ACTIVE on other hosts \(checked in Nova\), (\d+) unprotected VMs reported only; 1 Incident, Recovered/.exec(out);
    assert.ok(summary, out.slice(-3000));
    assert.equal(summary[1], summary[2]);
    assert.ok(Number(summary[2]) >= 3, `only ${summary[2]} protected VMs on the victim`);
    // The timeline: detection, fencing (real IPMI or the loud unsafe skip), evacuations, recovered.
    assert.match(out, /\+\s*\d+\.\ds\s+detect\s+HostFailureConfirmed: compute-0001 failed/);
    assert.match(out, /\+\s*\d+\.\ds\s+fence\s+(PowerOff: compute-0001 fenced by HostFencing rack-a|UnsafeFencingSkipped)/);
    assert.match(out, /\+\s*\d+\.\ds\s+evacuate\s+Evacuating: evacuating vm-0001-/);
    assert.match(out, /\+\s*\d+\.\ds\s+recovered\s+Recovered: incident Recovered/);
    assert.match(out, /total \(kill -> Recovered\)\s+\+0\.0s\s+\d+\.\d s/);
    // Clean-up: the kubeconfig it printed lived in a temp dir that is gone now.
    const kubeconfig = /kubectl --kubeconfig (\S+) get incidents,computehosts/.exec(out)?.[1];
    assert.ok(kubeconfig, "the demo prints how to explore");
    assert.equal(existsSync(kubeconfig), false, `${kubeconfig} left behind`);
  });
});
