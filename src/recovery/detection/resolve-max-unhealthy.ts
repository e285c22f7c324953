/** A maxUnhealthy value turned into a host count for a population of a given size. */
export interface MaxUnhealthyLimit {
  limit: number;
  /** Human description, e.g. `50% of 10 = 5` or `3`. */
  describe: string;
  /** Set when the value was unusable or had to be clamped. */
  problem?: string;
}

const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;
const COUNT = /^\s*(\d+)\s*$/;

/**
 * Resolves `maxUnhealthy` (a count, or a percentage string like "33%") against `size` hosts.
 *
 * - A percentage rounds down and is at least 1 when it is above 0 %: "10%" of 5 hosts is 1,
 *   so percentages never silently block every failure of a small cloud.
 * - A percentage above 100 % is clamped to 100 %.
 * - An explicit 0 (or "0%") means what it says: no host may fail, every failure is suppressed.
 * - A negative or non-finite count, or a string that is neither a count nor a percentage, is
 *   unusable and resolves to 0 with a problem: fail closed, because a storm limit nobody can
 *   read must not allow fencing.
 *   (Admission rejects these; this only guards settings that slipped past it.)
 * - A fractional count rounds down; a count given as a digit string ("3") is a count.
 */
export function resolveMaxUnhealthy(value: number | string, size: number): MaxUnhealthyLimit {
  if (typeof value === "number") return resolveCount(value);
  const pct = PERCENT.exec(value);
  if (pct?.[1] !== undefined) return resolvePercent(Number(pct[1]), size, value);
  const count = COUNT.exec(value);
  if (count?.[1] !== undefined) return resolveCount(Number(count[1]));
  return { limit: 0, describe: `0 (unreadable ${JSON.stringify(value)})`, problem: `maxUnhealthy ${JSON.stringify(value)} is neither a count nor a percentage; treated as 0 (every failure suppressed)` };
}

function resolveCount(value: number): MaxUnhealthyLimit {
  if (!Number.isFinite(value) || value < 0) {
    return { limit: 0, describe: `0 (unusable ${String(value)})`, problem: `maxUnhealthy ${String(value)} is not a non-negative count; treated as 0 (every failure suppressed)` };
  }
  const limit = Math.floor(value);
  return limit === value ? { limit, describe: String(limit) } : { limit, describe: String(limit), problem: `maxUnhealthy ${value} rounded down to ${limit}` };
}

function resolvePercent(raw: number, size: number, text: string): MaxUnhealthyLimit {
  const pct = Math.min(raw, 100);
  const counted = Math.floor((pct * size) / 100);
  const limit = pct > 0 ? Math.max(1, counted) : 0;
  const describe = `${pct}% of ${size} = ${limit}`;
  return raw > 100 ? { limit, describe, problem: `maxUnhealthy ${JSON.stringify(text)} above 100% clamped to 100%` } : { limit, describe };
}
