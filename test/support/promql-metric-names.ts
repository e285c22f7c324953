/**
 * Metric names an expression reads: PromQL as Prometheus rules and Grafana panels write it
 * (Grafana's `$variables` and `label_values(...)` included). Not a full parser: it drops
 * string literals, label matchers, range/subquery selectors, grouping label lists and
 * `$variables`, then keeps every identifier that is not a function call, keyword or number.
 */
const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan", "atan2"]);
const GROUPING = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

export function promqlMetricNames(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^{}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g, " ");
  const names = new Set<string>();
  const token = /[A-Za-z_:][A-Za-z0-9_:]*|\(|\)|[0-9.][0-9A-Za-z_.]*/g;
  const tokens = [...text.matchAll(token)].map((m) => m[0]);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? "";
    const next = tokens[i + 1];
    if (GROUPING.has(t.toLowerCase())) {
      if (next === "(") i = closingParen(tokens, i + 1);
      continue;
    }
    if (!/^[A-Za-z_:]/.test(t) || KEYWORDS.has(t.toLowerCase())) continue;
    // `sum by (x) (...)`, `max without (x) (...)`: an aggregation, not a metric.
    if (next === "(" || next === "by" || next === "without") {
      // label_values(metric, label) / label_values(label): only the first argument can be a metric.
      if (t === "label_values") {
        const end = closingParen(tokens, i + 1);
        const args = tokens.slice(i + 2, end);
        if (args.length > 1 && args[0]) names.add(args[0]);
        i = end;
      }
      continue;
    }
    names.add(t);
  }
  return [...names].sort();
}

function closingParen(tokens: readonly string[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    if (tokens[j] === "(") depth++;
    else if (tokens[j] === ")" && --depth === 0) return j;
  }
  return tokens.length;
}

export interface ExposedMetric {
  name: string;
  type: string;
  help: string;
}

/** The metric families of a Prometheus text exposition, from its `# HELP` and `# TYPE` lines. */
export function exposedMetrics(exposition: string): ExposedMetric[] {
  const help = new Map<string, string>();
  const out: ExposedMetric[] = [];
  for (const line of exposition.split("\n")) {
    const h = /^# HELP (\S+) ?(.*)$/.exec(line);
    if (h?.[1]) help.set(h[1], h[2] ?? "");
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t?.[1] && t[2]) out.push({ name: t[1], type: t[2], help: help.get(t[1]) ?? "" });
  }
  return out;
}

/** The series names a family is queried by: histograms and summaries by their suffixed series. */
export function seriesNames(m: ExposedMetric): string[] {
  if (m.type === "histogram") return [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`];
  if (m.type === "summary") return [m.name, `${m.name}_sum`, `${m.name}_count`];
  return [m.name];
}
