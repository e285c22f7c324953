import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../../support/test-assets.js";

const KINDS = ["ComputeHost", "HostFencing", "Incident", "InstanceHAPolicy", "OpenStackCloud", "ServerGroupMessaging"];
const GROUP_DIR = join(REPO_ROOT, "config/argocd/resource_customizations/ha.vmkeeper.dev");

interface ConfigMap { kind: string; metadata: { name: string }; data: Record<string, string> }
interface Application {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { syncPolicy?: { syncOptions?: string[] }; ignoreDifferences?: { group: string; kind: string; jqPathExpressions?: string[] }[]; source: { helm?: { valuesObject?: { heartbeat?: { existingSecret?: string } } } } };
}

describe("Argo CD configuration", () => {
  it("the argocd-cm patch printed by hack/gen-argocd-cm.mjs holds exactly the six health.lua scripts", () => {
    const out = execFileSync(process.execPath, [join(REPO_ROOT, "hack/gen-argocd-cm.mjs"), "--stdout"], { encoding: "utf8" });
    const cm = parse(out) as ConfigMap;
    assert.equal(cm.kind, "ConfigMap");
    assert.equal(cm.metadata.name, "argocd-cm");
    assert.deepEqual(Object.keys(cm.data).sort(), KINDS.map((k) => `resource.customizations.health.ha.vmkeeper.dev_${k}`));
    for (const kind of KINDS) {
      assert.equal(cm.data[`resource.customizations.health.ha.vmkeeper.dev_${kind}`]?.trimEnd(), readFileSync(join(GROUP_DIR, kind, "health.lua"), "utf8").trimEnd(), kind);
    }
    assert.equal(readFileSync(join(REPO_ROOT, "config/argocd/argocd-cm-health.yaml"), "utf8"), out, "committed patch is stale: node hack/gen-argocd-cm.mjs");
  });

  it("docs/gitops.md's Applications order CRDs first, skip the dry run of missing kinds and ignore status and operator-made objects", () => {
    const doc = readFileSync(join(REPO_ROOT, "docs/gitops.md"), "utf8");
    const apps = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .flatMap((m) => parseAllDocuments(m[1] ?? "").map((d) => d.toJSON() as Application | null))
      .filter((o): o is Application => o?.kind === "Application");
    const chart = apps.find((a) => a.metadata.name === "vmkeeper");
    const config = apps.find((a) => a.metadata.name === "vmkeeper-config");
    assert.ok(chart && config, "both Applications are in the doc");
    const wave = (a: Application): number => Number(a.metadata.annotations?.["argocd.argoproj.io/sync-wave"]);
    assert.ok(wave(chart) < wave(config), "the chart syncs in an earlier wave");
    assert.ok(config.spec.syncPolicy?.syncOptions?.includes("SkipDryRunOnMissingResource=true"));
    assert.ok(chart.spec.source.helm?.valuesObject?.heartbeat?.existingSecret, "helm template cannot keep a generated heartbeat key");
    const ignored = (kind: string): string[] => (config.spec.ignoreDifferences ?? []).filter((d) => d.group === "ha.vmkeeper.dev" && (d.kind === kind || d.kind === "*")).flatMap((d) => d.jqPathExpressions ?? []);
    for (const kind of KINDS) assert.ok(ignored(kind).includes(".status"), `${kind} status is not ignored`);
    for (const kind of ["ComputeHost", "Incident"]) assert.ok(ignored(kind).includes(".spec"), `${kind} is operator-made`);
  });
});
