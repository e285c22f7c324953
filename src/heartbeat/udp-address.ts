import { isIP } from "node:net";

/** A UDP endpoint as written by people: a host name or IP literal and a port. */
export interface HostPort {
  host: string;
  port: number;
}

/** A resolved UDP endpoint: an IP literal, its family and a port. */
export interface UdpTarget {
  address: string;
  family: 4 | 6;
  port: number;
}

/**
 * Parses `HOST:PORT`, `IPV4:PORT` or `[IPV6]:PORT` (an empty host means all IPv4 addresses).
 * Returns undefined for anything else, including ports outside 0..65535.
 */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]*):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const raw = m[1] ?? "";
  const bracketed = raw.startsWith("[");
  const host = bracketed ? raw.slice(1, -1) : raw;
  if (bracketed && isIP(host) !== 6) return undefined;
  return { host: host === "" ? "0.0.0.0" : host, port };
}

/** The IP family of a literal address, or undefined when it is a name. */
export function ipFamily(host: string): 4 | 6 | undefined {
  const f = isIP(host);
  return f === 4 ? 4 : f === 6 ? 6 : undefined;
}

/** `addr:port`, with IPv6 literals bracketed. */
export function formatTarget(t: { address: string; port: number }): string {
  return isIP(t.address) === 6 ? `[${t.address}]:${t.port}` : `${t.address}:${t.port}`;
}
