import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { GuestEventReason } from "../../../src/recovery/guest/guest-action-model.js";
import { REPO_ROOT } from "../../support/test-assets.js";

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const src = (rel: string): string => readFileSync(join(REPO_ROOT, rel), "utf8");

/** The members of `export type <name> = | "A" | "B";` in a source file. */
function unionMembers(rel: string, name: string): string[] {
  const m = new RegExp(`export type ${name} =([^;]+);`).exec(src(rel));
  assert.ok(m, `${name} not found in ${rel}`);
  return [...(m[1] ?? "").matchAll(/"([A-Za-z]+)"/g)].map((x) => x[1] ?? "");
}

/**
 * Every Event reason the operator can emit, read from the source: literal reasons of
 * EventRecorder.record calls; the condition reasons that the OpenStackCloud and
 * InstanceHAPolicy controllers turn into Events; guest and instance-level report reasons;
 * the final Incident phases (an Event named after the phase ends every Incident).
 */
function emittedReasons(): Set<string> {
  const reasons = new Set<string>();
  for (const file of tsFiles(join(REPO_ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    // record(obj, type, "Reason", ...) and record(obj, type, cond ? "A" : "B", ...)
    for (const m of text.matchAll(/\.record\(\s*[\w.]+,\s*(?:"(?:Normal|Warning)"|[^,]+),\s*(?:[\w.]+\s*\?\s*)?"([A-Za-z]+)"(?:\s*:\s*"([A-Za-z]+)")?/g)) {
      reasons.add(m[1] ?? "");
      if (m[2]) reasons.add(m[2]);
    }
  }
  for (const rel of ["src/controllers/openstack-cloud/plan-cloud-status.ts", "src/controllers/openstack-cloud/classify-connection-error.ts", "src/controllers/openstack-cloud/cloud-secret-check.ts", "src/controllers/instance-ha-policy/plan-policy-status.ts"]) {
    for (const m of src(rel).matchAll(/(?:reason: |REASON_\w+ = )"([A-Za-z]+)"/g)) reasons.add(m[1] ?? "");
  }
  for (const r of unionMembers("src/openstack/cloud-config-error.ts", "CloudConfigErrorReason")) reasons.add(`CloudsYaml${r}`);
  for (const r of unionMembers("src/openstack/keystone-errors.ts", "KeystoneErrorReason")) reasons.add(`Keystone${r}`);
  for (const r of unionMembers("src/recovery/instance/instance-recovery-model.ts", "ReportReason")) reasons.add(r);
  for (const r of Object.values(GuestEventReason)) reasons.add(r);
  for (const p of ["Recovered", "Notified", "Failed"]) reasons.add(p);
  reasons.delete("reason");
  return reasons;
}

describe("docs/events.md", () => {
  it("documents every Event reason the controllers emit", () => {
    const doc = readFileSync(join(REPO_ROOT, "docs/events.md"), "utf8");
    const reasons = emittedReasons();
    assert.ok(reasons.size > 50, `only ${reasons.size} reasons found: the extraction is broken`);
    for (const must of ["HostFailureConfirmed", "PowerOff", "Evacuating", "GuestRebooted", "InstanceRestarted", "Recovered"]) assert.ok(reasons.has(must), `${must} not extracted`);
    const missing = [...reasons].filter((r) => !doc.includes(`\`${r}\``)).sort();
    assert.deepEqual(missing, [], `docs/events.md lacks: ${missing.join(", ")}`);
  });
});
