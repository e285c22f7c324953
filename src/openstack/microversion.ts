/** A compute API microversion such as 2.93. */
export interface Microversion {
  major: number;
  minor: number;
}

/** vmkeeper refuses clouds below this: force-down by service id and UUID hypervisor ids. */
export const MIN_MICROVERSION: Microversion = { major: 2, minor: 53 };
/** The highest microversion vmkeeper knows; 2.95 makes evacuated servers land stopped. */
export const MAX_MICROVERSION: Microversion = { major: 2, minor: 95 };

export function parseMicroversion(text: string): Microversion | undefined {
  const m = /^\s*(\d+)\.(\d+)\s*$/.exec(text);
  if (!m?.[1] || !m[2]) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function mv(text: string): Microversion {
  const v = parseMicroversion(text);
  if (!v) throw new Error(`invalid microversion "${text}"`);
  return v;
}

export function compareMicroversions(a: Microversion, b: Microversion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export function atLeast(v: Microversion, min: Microversion | string): boolean {
  return compareMicroversions(v, typeof min === "string" ? mv(min) : min) >= 0;
}

export function formatMicroversion(v: Microversion): string {
  return `${v.major}.${v.minor}`;
}

export interface MicroversionRange {
  min: Microversion;
  max: Microversion;
}

export type NegotiationResult =
  | { ok: true; version: Microversion; server: MicroversionRange }
  | { ok: false; reason: "TooOld" | "TooNew" | "NoMicroversions"; message: string; server?: MicroversionRange };

/**
 * Picks the highest microversion both sides support. The cloud's range comes from its
 * version document; vmkeeper's is [MIN_MICROVERSION, MAX_MICROVERSION]. Pure.
 */
export function negotiateMicroversion(server: MicroversionRange | undefined, client: MicroversionRange = { min: MIN_MICROVERSION, max: MAX_MICROVERSION }): NegotiationResult {
  if (!server) {
    return { ok: false, reason: "NoMicroversions", message: `the compute API announces no microversions; vmkeeper needs at least ${formatMicroversion(client.min)}` };
  }
  const range = `${formatMicroversion(server.min)}–${formatMicroversion(server.max)}`;
  if (compareMicroversions(server.max, client.min) < 0) {
    return { ok: false, reason: "TooOld", server, message: `the compute API supports microversions ${range}; vmkeeper needs at least ${formatMicroversion(client.min)} (Nova 17 / Queens or newer)` };
  }
  if (compareMicroversions(server.min, client.max) > 0) {
    return { ok: false, reason: "TooNew", server, message: `the compute API supports microversions ${range}; vmkeeper supports at most ${formatMicroversion(client.max)}` };
  }
  const version = compareMicroversions(server.max, client.max) < 0 ? server.max : client.max;
  return { ok: true, version, server };
}
