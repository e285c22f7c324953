import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Vmkeeper-Signature";
/** Receivers should refuse signatures older (or newer) than this; the doc recommends it. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/** Hex HMAC-SHA256 of `<t>.<body>` with the key. */
export function signatureDigest(key: Uint8Array, unixSeconds: number, body: string): string {
  return createHmac("sha256", key).update(`${unixSeconds}.${body}`, "utf8").digest("hex");
}

/** The header value `t=<unix seconds>,v1=<hex>`; `t` is the time of this attempt. */
export function signatureHeader(key: Uint8Array, unixSeconds: number, body: string): string {
  return `t=${unixSeconds},v1=${signatureDigest(key, unixSeconds, body)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: "malformed" | "expired" | "mismatch" };

/**
 * Receiver-side check (also used by the tests): the header parses, its timestamp is within
 * `toleranceSeconds` of `nowUnixSeconds`, and one of its `v1` values matches in constant time.
 */
export function verifySignature(key: Uint8Array, body: string, header: string | undefined, nowUnixSeconds: number, toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS): SignatureCheck {
  if (header === undefined) return { ok: false, reason: "malformed" };
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return { ok: false, reason: "malformed" };
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === "t" && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === "v1" && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  if (t === undefined || v1.length === 0) return { ok: false, reason: "malformed" };
  if (Math.abs(nowUnixSeconds - t) > toleranceSeconds) return { ok: false, reason: "expired" };
  const expected = Buffer.from(signatureDigest(key, t, body), "hex");
  const match = v1.some((candidate) => timingSafeEqual(Buffer.from(candidate, "hex"), expected));
  return match ? { ok: true } : { ok: false, reason: "mismatch" };
}
