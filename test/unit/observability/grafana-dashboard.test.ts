import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { REPO_ROOT } from "../../support/test-assets.js";

const DASHBOARD_PATH = join(REPO_ROOT, "config/grafana/vmkeeper-dashboard.json");
const SCHEMA = JSON.parse(readFileSync(join(REPO_ROOT, "test/unit/observability/grafana-dashboard.schema.json"), "utf8")) as object;

interface GridPos { h: number; w: number; x: number; y: number }
interface Target { refId: string; expr: string; datasource: { uid: string } }
interface Panel { type: string; id: number; title: string; gridPos: GridPos; datasource?: { uid: string }; targets?: Target[]; panels?: Panel[]; collapsed?: boolean }
interface Dashboard { panels: Panel[]; templating: { list: { name: string; type: string }[] } }

const dashboard = (): Dashboard => JSON.parse(readFileSync(DASHBOARD_PATH, "utf8")) as Dashboard;
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(SCHEMA);

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Panels that share a grid cell, among panels laid out together (top level plus expanded rows, or one collapsed row's). */
function overlaps(panels: Panel[]): string[] {
  const out: string[] = [];
  panels.forEach((a, i) => {
    for (const b of panels.slice(i + 1)) {
      const apart = a.gridPos.x + a.gridPos.w <= b.gridPos.x || b.gridPos.x + b.gridPos.w <= a.gridPos.x
        || a.gridPos.y + a.gridPos.h <= b.gridPos.y || b.gridPos.y + b.gridPos.h <= a.gridPos.y;
      if (!apart) out.push(`"${a.title}" overlaps "${b.title}"`);
    }
  });
  return out;
}

describe("Grafana dashboard config/grafana/vmkeeper-dashboard.json", () => {
  it("is valid against the dashboard JSON model schema", () => {
    const ok = validate(dashboard());
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  });

  it("is refused by the schema when a panel lacks gridPos or targets (self-check)", () => {
    const broken = dashboard();
    const panel = broken.panels.find((p) => p.type !== "row");
    assert.ok(panel);
    delete panel.targets;
    assert.equal(validate(broken), false);
    const noVersion = dashboard() as Dashboard & { schemaVersion?: number };
    delete noVersion.schemaVersion;
    assert.equal(validate(noVersion), false);
  });

  it("queries through the datasource template variable everywhere", () => {
    const d = dashboard();
    assert.ok(d.templating.list.some((v) => v.name === "datasource" && v.type === "datasource"));
    for (const p of allPanels(d.panels).filter((x) => x.type !== "row")) {
      assert.equal(p.datasource?.uid, "${datasource}", p.title);
      for (const t of p.targets ?? []) assert.equal(t.datasource.uid, "${datasource}", `${p.title} ${t.refId}`);
    }
  });

  it("has unique panel ids, unique refIds per panel, panels inside the 24-column grid and no overlaps", () => {
    const d = dashboard();
    const panels = allPanels(d.panels);
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, "duplicate panel ids");
    for (const p of panels) {
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} is wider than the grid`);
      const refs = (p.targets ?? []).map((t) => t.refId);
      assert.equal(new Set(refs).size, refs.length, `${p.title}: duplicate refIds`);
    }
    const laidOut = d.panels.flatMap((p) => (p.type === "row" && !p.collapsed ? [p, ...(p.panels ?? [])] : [p]));
    assert.deepEqual(overlaps(laidOut), []);
    for (const row of d.panels.filter((p) => p.type === "row" && p.collapsed)) assert.deepEqual(overlaps(row.panels ?? []), []);
  });

  it("covers the areas issue 8 asks for", () => {
    const exprs = allPanels(dashboard().panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join("\n");
    for (const metric of [
      "vmkeeper_hosts", "vmkeeper_incidents_open", "vmkeeper_incidents_total", "vmkeeper_incident_recovery_duration_seconds_bucket",
      "vmkeeper_safety_gate_closed", "vmkeeper_fencing_device_up", "vmkeeper_fencing_unfenceable_hosts", "workqueue_depth",
      "vmkeeper_heartbeats_received_total", "vmkeeper_agent_reports_received_total", "vmkeeper_notifications_total",
    ]) assert.ok(exprs.includes(metric), `no panel reads ${metric}`);
  });
});
