import { between, humanDuration } from "./durations.js";
import type { StatusReport } from "./status-report.js";
import { stateColour, type Style } from "./style.js";
import { formatTable } from "./table.js";

/** The `vmkeeper status` text: one short section per concern, problems listed, good news in one line. */
export function formatStatus(r: StatusReport, style: Style, nowMs: number): string {
  const out: string[] = [];
  const section = (title: string): void => {
    out.push(`${out.length ? "\n" : ""}${style.bold(title)}`);
  };
  section(`Clouds (namespace ${r.namespace})`);
  if (r.clouds.length === 0) out.push("  none");
  for (const c of r.clouds) out.push(`  ${c.name}: Ready=${stateColour(style, c.ready)} (${c.reason}), ${c.hosts} host(s)`);

  section("Policies");
  if (r.policies.length === 0) out.push("  none");
  else
    out.push(
      indent(
        formatTable(
          ["NAME", "CLOUD", "MODE", "PROTECTED", "TOLERATES", "CAPACITY"],
          r.policies.map((p) => [p.name, p.cloud, p.paused ? style.warn(`${p.mode} (paused)`) : p.mode, `${p.protected}${p.unprotected ? ` (+${p.unprotected} not)` : ""}`, p.hostFailuresTolerated === undefined ? "-" : `${p.hostFailuresTolerated} host(s)`, `${stateColour(style, p.failoverCapacity.status)} ${p.failoverCapacity.reason}`]),
        ),
      ),
    );

  section("Hosts");
  const counts = Object.entries(r.hosts.byState).filter(([, n]) => n > 0).map(([st, n]) => `${n} ${stateColour(style, st)}`);
  out.push(`  ${r.hosts.total} total${counts.length ? `: ${counts.join(", ")}` : ""}`);
  for (const h of r.hosts.notHealthy) out.push(`  ${stateColour(style, h.state)} ${h.name}${h.since ? ` for ${humanDuration(between(h.since, undefined, nowMs))}` : ""}${h.incident ? ` (incident ${h.incident})` : ""}${h.evidence ? style.dim(` - ${h.evidence}`) : ""}`);

  section("Incidents");
  if (r.incidents.open.length === 0) out.push(`  ${style.ok("none open")} (${r.incidents.finished} finished)`);
  else {
    out.push(`  ${r.incidents.open.length} open, ${r.incidents.finished} finished`);
    out.push(indent(formatTable(["NAME", "PHASE", "AGE", "HOST"], r.incidents.open.map((i) => [i.name, `${stateColour(style, i.phase)}${i.gate ? ` (${i.gate})` : ""}`, humanDuration(between(i.detectedAt, undefined, nowMs)), i.host]))));
  }

  section("Safety gates");
  if (r.gates.length === 0) out.push(`  ${style.ok("all open")}`);
  for (const g of r.gates) out.push(`  ${style.bad("closed")} ${g.gate} (${g.cloud}): ${g.reason} - ${g.message}`);

  section("Fencing");
  for (const hf of r.fencing.hostFencings) out.push(`  ${hf.name}: DevicesReady=${stateColour(style, hf.devicesReady)} (${hf.reason}), ${hf.selected} host(s) selected, ${hf.unfenceable} unfenceable`);
  if (r.fencing.unfenceable.length === 0) out.push(`  ${style.ok("every host can be fenced")}`);
  else out.push(`  ${style.warn(`${r.fencing.unfenceable.length} host(s) cannot be power-fenced now:`)}`);
  for (const u of r.fencing.unfenceable) out.push(`    ${u.name}: ${stateColour(style, u.state)} - ${u.message}`);
  return `${out.join("\n").replace(/\n+$/, "")}\n`;
}

export function indent(text: string, by = "  "): string {
  return text
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => (l ? by + l : l))
    .join("\n");
}
