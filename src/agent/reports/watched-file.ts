import { readFile, stat } from "node:fs/promises";

/**
 * A file (a mounted Secret: token, certificate, key) read again whenever its modification
 * time, size or inode changes, so that a rotated Secret applies to the next request without
 * a restart. Kubelet replaces Secret files through a symlink swap, which changes the inode.
 */
export class WatchedFile {
  private cached: { stamp: string; content: Buffer } | undefined;

  constructor(readonly path: string) {}

  /** The current content; throws when the file cannot be read. */
  async read(): Promise<Buffer> {
    const s = await stat(this.path);
    const stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    if (this.cached?.stamp === stamp) return this.cached.content;
    const content = await readFile(this.path);
    this.cached = { stamp, content };
    return content;
  }

  /** Whether the content changed since the last read (a fresh read is made). */
  async changedSince(previous: Buffer | undefined): Promise<boolean> {
    const now = await this.read();
    return previous === undefined || !previous.equals(now);
  }
}
