/** A duration the way kubectl prints ages: 45s, 3m20s, 2h5m, 4d3h. Negative or unknown gives "-". */
export function humanDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** Milliseconds from `fromIso` to `toIso` (or to `nowMs`); undefined when a time is missing or invalid. */
export function between(fromIso: string | undefined, toIso: string | undefined, nowMs?: number): number | undefined {
  if (!fromIso) return undefined;
  const from = Date.parse(fromIso);
  const to = toIso ? Date.parse(toIso) : nowMs;
  if (!Number.isFinite(from) || to === undefined || !Number.isFinite(to)) return undefined;
  return to - from;
}
