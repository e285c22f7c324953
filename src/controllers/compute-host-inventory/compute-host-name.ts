import { createHash } from "node:crypto";

/** Incident names are `<computehost>-<epoch>` and must stay within 253 characters. */
const MAX_NAME = 230;

/**
 * The deterministic ComputeHost name for a nova-compute service: `<cloud>.<host>`, lower
 * case, as a DNS subdomain. When the host name had to be changed to fit (upper case, other
 * characters, length), a short hash of the original keeps two such hosts apart.
 */
export function computeHostName(cloudName: string, serviceHost: string): string {
  const cleaned = serviceHost
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/(^|\.)[-.]+|[-.]+($|\.)/g, (m) => (m.includes(".") ? "." : ""))
    .replace(/^[.-]+|[.-]+$/g, "");
  const exact = cleaned === serviceHost;
  let name = `${cloudName}.${cleaned || "host"}`;
  if (!exact || name.length > MAX_NAME) {
    const hash = createHash("sha256").update(serviceHost).digest("hex").slice(0, 8);
    name = `${name.slice(0, MAX_NAME - 9).replace(/[.-]+$/, "")}-${hash}`;
  }
  return name;
}

/** A label value (≤ 63 characters of [A-Za-z0-9._-], alphanumeric at both ends), or undefined. */
export function labelValue(v: string | undefined): string | undefined {
  if (!v) return undefined;
  return /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(v) ? v : undefined;
}
