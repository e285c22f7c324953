import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

/** Longest unix socket path Linux takes (sun_path is 108 bytes with its terminating NUL). */
export const MAX_UNIX_PATH_BYTES = 107;

let linkDir: string | undefined;
const links = new Map<string, string>();

/**
 * A path to dial for a unix socket whose real path may be longer than the kernel allows:
 * libvirt's channel sockets sit in `domain-N-NAME/` directories, and seen through a
 * --channel-path-map prefix (a container's host mount) they easily pass 107 bytes. The
 * socket's directory is then reached through a short symlink in a private temporary
 * directory (removed when the process exits); path resolution follows it, the length limit
 * applies only to the string given. Short paths are returned as they are.
 */
export function dialablePath(path: string): string {
  if (Buffer.byteLength(path) <= MAX_UNIX_PATH_BYTES) return path;
  const dir = dirname(path);
  let link = links.get(dir);
  if (link === undefined) {
    linkDir ??= privateLinkDir();
    link = join(linkDir, createHash("sha256").update(dir).digest("hex").slice(0, 12));
    symlinkSync(dir, link);
    links.set(dir, link);
  }
  return join(link, basename(path));
}

function privateLinkDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "vmk-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
