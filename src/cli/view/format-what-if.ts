import type { WhatIfHost, WhatIfReport } from "../../what-if/what-if.js";
import { indent } from "./format-status.js";
import { stateColour, type Style } from "./style.js";
import { formatTable } from "./table.js";

/** `vmkeeper what-if`: per failed host, the verdict of the gates, then the evacuations in order and what would not make it. */
export function formatWhatIf(r: WhatIfReport, style: Style): string {
  const out: string[] = [style.bold(`What if ${r.hosts.map((h) => h.host).join(", ")} failed (cloud ${r.cloud})? Nothing was changed.`)];
  if (r.closedGates.length) {
    out.push("", "Safety gates that would be closed:");
    for (const g of r.closedGates) out.push(`  ${style.bad(g.gate)} (${g.reason}): ${g.message}`);
  }
  for (const h of r.hosts) out.push("", ...hostSection(h, style));
  out.push("", style.dim("Assumptions:"), ...r.assumptions.map((a) => style.dim(`  - ${a}`)));
  return `${out.join("\n")}\n`;
}

function hostSection(h: WhatIfHost, style: Style): string[] {
  const out = [style.bold(`Host ${h.host} (${h.serviceHost}): ${h.protectedInstances} protected instance(s)`)];
  out.push(`  detection: ${verdictText(h, style)}`);
  out.push(`  fencing:   ${stateColour(style, h.fencing.state)} - ${h.fencing.message}`);
  if (h.settings) out.push(`  limits:    ${h.settings.maxConcurrentEvacuations} evacuation(s) at once, ${h.settings.maxConcurrentEvacuationsPerTargetHost} per target host${h.settings.lockInstances ? ", instances locked while moved" : ""}`);
  if (h.blocked) {
    out.push(`  ${style.bad("blocked:")}   ${h.blocked}`);
    if (h.evacuations.length === 0) return out;
  }
  if (h.evacuations.length === 0) out.push("  nothing would be evacuated");
  else {
    out.push("  evacuations, in the order they would start:");
    out.push(
      indent(
        formatTable(
          ["#", "BATCH", "INSTANCE", "TIER", "METHOD", "TARGET", "RESULT"],
          h.evacuations.map((e) => [String(e.seq), String(e.batch), e.name, e.tier, e.method, e.target ?? "(scheduler)", e.outcome === "placed" ? style.ok("fits") : style.bad(`does not fit: ${e.reason ?? ""}`)]),
        ),
        "    ",
      ),
    );
  }
  const notRecovered = h.outcomes.filter((o) => o.state !== "Recovered");
  if (notRecovered.length) {
    out.push("  not recovered:");
    for (const o of notRecovered) out.push(`    ${o.name ?? o.id}: ${stateColour(style, o.state)}${o.message ? ` - ${o.message}` : ""}`);
  }
  const recovered = h.outcomes.filter((o) => o.state === "Recovered").length;
  out.push(`  result: ${recovered} of ${h.outcomes.length} recovered`);
  return out;
}

function verdictText(h: WhatIfHost, style: Style): string {
  const v = h.verdict;
  switch (v.kind) {
    case "open":
      return `${style.ok("an Incident opens")} (${h.host}-${v.epoch})`;
    case "suppressed":
      return style.bad(`Incident ${h.host}-${v.epoch} opens Suppressed by ${v.gate.gate}`);
    case "skipped":
      return style.bad(`no Incident (${v.gate.gate})`);
    case "inProgress":
      return style.warn(`incident ${v.incident} already ${v.phase}`);
    case "notFailed":
      return style.warn(`not judged Failed (${v.state})`);
  }
}
