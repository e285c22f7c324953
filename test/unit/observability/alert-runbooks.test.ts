import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { REPO_ROOT } from "../../support/test-assets.js";

const TEMPLATE = readFileSync(join(REPO_ROOT, "charts/vmkeeper/templates/prometheusrule.yaml"), "utf8");
const RUNBOOKS = readFileSync(join(REPO_ROOT, "docs/runbooks.md"), "utf8");
const VALUES = parse(readFileSync(join(REPO_ROOT, "charts/vmkeeper/values.yaml"), "utf8")) as {
  metrics: { prometheusRule: { runbookUrl: string; alerts: Record<string, Record<string, unknown>> } };
};

interface AlertBlock { name: string; text: string }

/** The `- alert:` blocks of the template, each up to the next alert or group. */
function alertBlocks(template: string): AlertBlock[] {
  const starts = [...template.matchAll(/^ {8}- alert: (\S+)$/gm)];
  return starts.map((m, i) => {
    const end = starts[i + 1]?.index ?? template.length;
    return { name: m[1] ?? "", text: template.slice(m.index, end) };
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => (m[1] ?? "").trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-")));
}

/** Problems of one alert block against the runbooks page; empty when it is complete. */
function problems(block: AlertBlock, runbookAnchors: Set<string>): string[] {
  const out: string[] = [];
  const url = /^ {12}runbook_url: \{\{ \$runbook \}\}#(\S+)$/m.exec(block.text);
  if (!url?.[1]) out.push(`${block.name}: no runbook_url built from $runbook`);
  else {
    if (url[1] !== block.name.toLowerCase()) out.push(`${block.name}: anchor #${url[1]} is not the alert's name in lower case`);
    if (!runbookAnchors.has(url[1])) out.push(`${block.name}: docs/runbooks.md has no heading for #${url[1]}`);
  }
  for (const key of ["summary", "description"]) {
    if (!new RegExp(`^ {12}${key}: \\S`, "m").test(block.text)) out.push(`${block.name}: no ${key} annotation`);
  }
  return out;
}

describe("chart alert rules and docs/runbooks.md", () => {
  const blocks = alertBlocks(TEMPLATE);

  it("finds the alerts of the template", () => {
    for (const name of ["VmkeeperNoLeader", "VmkeeperHostUnfenceable", "VmkeeperIncidentStuck", "VmkeeperSafetyGateClosed", "VmkeeperFailoverCapacityInsufficient"]) {
      assert.ok(blocks.some((b) => b.name === name), `${name} missing from prometheusrule.yaml`);
    }
    assert.equal(new Set(blocks.map((b) => b.name)).size, blocks.length, "duplicate alert names");
  });

  it("gives every alert a summary, a description and a runbook_url whose anchor exists", () => {
    const found = anchors(RUNBOOKS);
    assert.deepEqual(blocks.flatMap((b) => problems(b, found)), []);
  });

  it("has a runbook section for no alert that does not exist", () => {
    const names = new Set(blocks.map((b) => b.name));
    const sections = [...RUNBOOKS.matchAll(/^## (Vmkeeper\S+)$/gm)].map((m) => m[1] ?? "");
    assert.deepEqual(sections.filter((s) => !names.has(s)), []);
  });

  it("detects an alert whose runbook section is missing (self-check)", () => {
    const found = anchors(RUNBOOKS.replace(/^## VmkeeperIncidentStuck$/m, "## Renamed"));
    const stuck = blocks.find((b) => b.name === "VmkeeperIncidentStuck");
    assert.ok(stuck);
    assert.deepEqual(problems(stuck, found), ["VmkeeperIncidentStuck: docs/runbooks.md has no heading for #vmkeeperincidentstuck"]);
  });

  it("declares in values.yaml every alert setting the template reads, with the docs page as the default runbook URL", () => {
    const alerts = VALUES.metrics.prometheusRule.alerts;
    const used = [...TEMPLATE.matchAll(/\$a\.(\w+)\.(\w+)/g)].map((m) => [m[1] ?? "", m[2] ?? ""] as const);
    assert.deepEqual(used.filter(([alert, key]) => alerts[alert]?.[key] === undefined).map(([a, k]) => `${a}.${k}`), []);
    for (const [name, settings] of Object.entries(alerts)) {
      assert.equal(typeof settings.enabled, "boolean", `${name}.enabled`);
      assert.ok(used.some(([a]) => a === name), `values.yaml alert ${name} is not used by the template`);
    }
    assert.match(VALUES.metrics.prometheusRule.runbookUrl, /^https:\/\/github\.com\/vmkeeper\/vmkeeper\/blob\/main\/docs\/runbooks\.md$/);
  });
});
