import { NovaError } from "./nova-error.js";

/** A compute API microversion; the major version is always 2. */
export interface Microversion {
  major: number;
  minor: number;
}

export const MIN_MICROVERSION: Microversion = { major: 2, minor: 1 };
/** Nova 26 (Zed, Debian bookworm) answers up to 2.93. */
export const DEFAULT_MAX_MICROVERSION: Microversion = { major: 2, minor: 93 };
/** The highest microversion the simulator knows how to behave like. */
export const HIGHEST_SUPPORTED_MICROVERSION: Microversion = { major: 2, minor: 96 };

const FORMAT = /^([1-9]\d*)\.([1-9]\d*|0)$/;

export function parseMicroversion(text: string): Microversion | undefined {
  const m = FORMAT.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function formatMicroversion(v: Microversion): string {
  return `${v.major}.${v.minor}`;
}

export function compareMicroversions(a: Microversion, b: Microversion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** True when `v` is at least `2.<minor>`. */
export function atLeast(v: Microversion, minor: number): boolean {
  return v.major > 2 || (v.major === 2 && v.minor >= minor);
}

/** Header lookup: lower-cased names to values, as node:http gives them. */
export type HeaderBag = Record<string, string | string[] | undefined>;

function headerValue(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

/** The requested compute version text from the headers, or undefined when none was sent. */
export function requestedVersionText(headers: HeaderBag): string | undefined {
  const modern = headerValue(headers, "openstack-api-version");
  if (modern !== undefined) {
    for (const part of modern.split(",")) {
      const [service, version] = part.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === "compute" && version !== undefined) return version;
    }
  }
  return headerValue(headers, "x-openstack-nova-api-version");
}

/**
 * Negotiates the microversion of a request like Nova: no header means 2.1, `latest` means the
 * maximum, a malformed value is a 400 and a value outside [min, max] a 406.
 */
export function negotiateMicroversion(headers: HeaderBag, max: Microversion, min: Microversion = MIN_MICROVERSION): Microversion {
  const text = requestedVersionText(headers);
  if (text === undefined) return min;
  if (text.trim().toLowerCase() === "latest") return max;
  const v = parseMicroversion(text);
  if (!v) throw new NovaError(400, `API Version String ${text.trim()} is of invalid format. Must be of format MajorNum.MinorNum.`);
  if (compareMicroversions(v, min) < 0 || compareMicroversions(v, max) > 0) {
    throw new NovaError(406, `Version ${formatMicroversion(v)} is not supported by the API. Minimum is ${formatMicroversion(min)} and maximum is ${formatMicroversion(max)}.`);
  }
  return v;
}

/** Response headers that echo the version a request was served at. */
export function versionResponseHeaders(v: Microversion): Record<string, string> {
  const text = formatMicroversion(v);
  return {
    "openstack-api-version": `compute ${text}`,
    "x-openstack-nova-api-version": text,
    vary: "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
  };
}
