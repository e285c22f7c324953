import assert from "node:assert/strict";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { parseOperatorConfig } from "../../src/operator/operator-config.js";
import { runCommand } from "../support/run-command.js";
import { REPO_ROOT, testAssets } from "../support/test-assets.js";

interface Container {
  name: string;
  args?: string[];
}

async function renderArgs(valuesFiles: string[]): Promise<string[]> {
  const { helm } = await testAssets();
  const args = ["template", "vmk", join(REPO_ROOT, "charts/vmkeeper"), "--namespace", "vmkeeper-system", ...valuesFiles.flatMap((f) => ["-f", f])];
  const r = await runCommand(helm, args);
  assert.equal(r.code, 0, r.stderr);
  const deployment = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as { kind?: string; spec?: { template: { spec: { containers: Container[] } } } } | null)
    .find((o) => o?.kind === "Deployment");
  const container = deployment?.spec?.template.spec.containers[0];
  assert.ok(container?.args, "the Deployment has container args");
  return container.args;
}

describe("Helm chart ↔ operator flags", function () {
  this.timeout(60_000);
  for (const [name, files] of [
    ["default values", []],
    ["all options", [join(REPO_ROOT, "test/fixtures/helm/values-all-options.yaml")]],
  ] as const) {
    it(`the rendered Deployment's args are accepted by the operator's flag parser (${name})`, async () => {
      const args = await renderArgs([...files]);
      assert.equal(args[0], "operator");
      const cfg = parseOperatorConfig(args.slice(1), { POD_NAMESPACE: "vmkeeper-system", POD_NAME: "vmk-0" });
      assert.ok(cfg !== "help");
      assert.equal(cfg.leaderElectionNamespace, "vmkeeper-system");
    });
  }
});
