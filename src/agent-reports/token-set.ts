import { createHash, timingSafeEqual } from "node:crypto";
import { WatchedFile } from "../agent/reports/watched-file.js";

/** What an accepted token allows: every host, or only the listed nova-compute hosts. */
export type TokenGrant = { anyHost: true } | { anyHost: false; hosts: ReadonlySet<string> };

/** Whether a grant lets its bearer speak for `host`. */
export function grantAllows(grant: TokenGrant, host: string): boolean {
  return grant.anyHost || grant.hosts.has(host);
}

interface TokenEntry {
  hash: Buffer;
  grant: TokenGrant;
}

/**
 * The bearer tokens the report endpoint accepts: one per line of a file mounted from a
 * Secret (blank lines and `#` comments ignored), several at once so that a token can be
 * rotated without a gap. A line `TOKEN` is good for every host; `TOKEN HOST[,HOST...]` only
 * for reports, streams and messages of those hosts (per-host credentials: a compromised
 * compute cannot speak for another). The file is read again when it changes. Comparison is
 * constant time (both sides hashed to the same length first); tokens are kept only as hashes.
 */
export class TokenSet {
  private readonly file: WatchedFile;
  private hashes: { source: Buffer | undefined; list: TokenEntry[] } = { source: undefined, list: [] };

  constructor(path: string) {
    this.file = new WatchedFile(path);
  }

  /** Reads the file (throws when it cannot be read or holds no token). */
  async load(): Promise<number> {
    const content = await this.file.read();
    if (this.hashes.source === undefined || !this.hashes.source.equals(content)) {
      const list = parseTokenLines(content.toString("utf8")).map((t) => ({ hash: digest(t.token), grant: t.grant }));
      if (list.length === 0) throw new Error(`no token in ${this.file.path}`);
      this.hashes = { source: content, list };
    }
    return this.hashes.list.length;
  }

  /** What the presented token allows, or undefined when it is not one of the accepted ones; the file is re-read if it changed (the last good set is kept if it cannot be). */
  async accepts(presented: string): Promise<TokenGrant | undefined> {
    await this.load().catch(() => undefined);
    const h = digest(presented);
    let grant: TokenGrant | undefined;
    // Every entry is compared (no early exit), so timing says nothing about which matched.
    for (const t of this.hashes.list) if (timingSafeEqual(t.hash, h)) grant ??= t.grant;
    return grant;
  }
}

/** The token lines of a tokens file: `TOKEN` (any host) or `TOKEN HOST[,HOST...]`. */
export function parseTokenLines(text: string): { token: string; grant: TokenGrant }[] {
  return parseTokens(text).map((line) => {
    const gap = line.search(/\s/);
    if (gap < 0) return { token: line, grant: { anyHost: true } };
    const hosts = line.slice(gap).split(/[\s,]+/).filter((h) => h !== "");
    return { token: line.slice(0, gap), grant: { anyHost: false, hosts: new Set(hosts) } };
  });
}

export function parseTokens(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
