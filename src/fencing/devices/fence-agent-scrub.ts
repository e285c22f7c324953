const MASK = "***";

/**
 * Replaces every occurrence of `secret` in `text` with `***`: the last guard before a tool's
 * output goes into a FenceDeviceError (status, Events, logs). Secrets of one or two characters
 * are masked only where they stand alone, so they do not garble every word of the message.
 */
export function scrubSecret(text: string, secret: string | undefined): string {
  if (secret === undefined || secret === "") return text;
  if (secret.length >= 3) return text.split(secret).join(MASK);
  const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text.replace(new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, "g"), MASK);
}

/**
 * The informative part of a tool's output for a message: lines without `noise`, without log
 * prefixes (`2026-01-01 10:00:00,123 ERROR: `, `Error: `), de-duplicated, joined with `; `, cut to
 * `maxChars`, with the secret scrubbed (before cutting, so no part of it survives).
 */
export function conciseOutput(text: string, secret: string | undefined, opts: { noise?: readonly RegExp[]; maxChars?: number } = {}): string {
  const max = opts.maxChars ?? 300;
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of scrubSecret(text, secret).split(/\r?\n/)) {
    const line = raw
      .replace(/^\d{4}-\d\d-\d\d[ T][\d:,.]+\s+[A-Z]+:\s*/, "")
      .replace(/^>\s*/, "")
      .replace(/^Error:\s*/, "")
      .trim();
    if (line === "" || seen.has(line) || (opts.noise ?? []).some((re) => re.test(line))) continue;
    seen.add(line);
    lines.push(line);
  }
  const joined = lines.join("; ");
  return joined.length > max ? `${joined.slice(0, max - 3)}...` : joined;
}
