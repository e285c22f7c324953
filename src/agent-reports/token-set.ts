import { createHash, timingSafeEqual } from "node:crypto";
import { WatchedFile } from "../agent/reports/watched-file.js";

/**
 * The bearer tokens the report endpoint accepts: one per line of a file mounted from a
 * Secret (blank lines and `#` comments ignored), several at once so that a token can be
 * rotated without a gap. The file is read again when it changes. Comparison is constant
 * time (both sides hashed to the same length first); tokens are kept only as hashes.
 */
export class TokenSet {
  private readonly file: WatchedFile;
  private hashes: { source: Buffer | undefined; list: Buffer[] } = { source: undefined, list: [] };

  constructor(path: string) {
    this.file = new WatchedFile(path);
  }

  /** Reads the file (throws when it cannot be read or holds no token). */
  async load(): Promise<number> {
    const content = await this.file.read();
    if (this.hashes.source === undefined || !this.hashes.source.equals(content)) {
      const list = parseTokens(content.toString("utf8")).map(digest);
      if (list.length === 0) throw new Error(`no token in ${this.file.path}`);
      this.hashes = { source: content, list };
    }
    return this.hashes.list.length;
  }

  /** Whether the presented token is one of the allowed ones; the file is re-read if it changed (the last good set is kept if it cannot be). */
  async accepts(presented: string): Promise<boolean> {
    await this.load().catch(() => undefined);
    const h = digest(presented);
    let ok = false;
    for (const t of this.hashes.list) ok = timingSafeEqual(t, h) || ok;
    return ok;
  }
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
