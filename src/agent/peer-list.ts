import { MAX_HOST_BYTES } from "../heartbeat/heartbeat-codec.js";
import { parseHostPort, type HostPort } from "../heartbeat/udp-address.js";

/** Another compute host's agent: its nova-compute host name and its UDP peer endpoint. */
export interface PeerEntry {
  host: string;
  endpoint: HostPort;
}

export class PeerListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PeerListError";
  }
}

const HOST_NAME = /^[^\s\p{Cc}=,#\ufffd]+$/u;

/** True when `name` can travel as a host id (1..255 UTF-8 bytes, printable, no separators). */
export function isValidHostId(name: string): boolean {
  const bytes = Buffer.byteLength(name, "utf8");
  return bytes >= 1 && bytes <= MAX_HOST_BYTES && HOST_NAME.test(name);
}

/**
 * Parses `host=addr:port` entries separated by commas or newlines; blank lines and `#`
 * comments are ignored (the same syntax serves `--peers` and `--peers-file`).
 */
export function parsePeerList(text: string, source: string): PeerEntry[] {
  const peers: PeerEntry[] = [];
  const seen = new Set<string>();
  const items = text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, ""))
    .flatMap((l) => l.split(","))
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const item of items) {
    const eq = item.indexOf("=");
    const host = eq < 0 ? "" : item.slice(0, eq).trim();
    const endpoint = eq < 0 ? undefined : parseHostPort(item.slice(eq + 1).trim());
    if (!isValidHostId(host) || !endpoint || endpoint.port === 0) throw new PeerListError(`${source}: "${item}" is not host=addr:port`);
    if (seen.has(host)) throw new PeerListError(`${source}: peer "${host}" is listed twice`);
    seen.add(host);
    peers.push({ host, endpoint });
  }
  return peers;
}
