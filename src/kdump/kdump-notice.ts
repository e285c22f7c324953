import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A kdump notice, one UDP datagram of ASCII text sent by the crashed host's kdump kernel:
 *
 *     VMKD1 <service-host> <started|done> <unix-ms> <hex HMAC-SHA256>
 *
 * The MAC covers everything before its separating space, keyed with the HostFencing's kdump
 * key. Written down in docs/protocols/kdump-notice.md; simple enough for a shell sender with
 * openssl in the kdump initramfs.
 */
export interface KdumpNotice {
  host: string;
  phase: "started" | "done";
  sentAtMs: number;
  /** The signed text and its MAC, checked later against the key of the HostFencing in force. */
  signed: string;
  mac: string;
}

export const KDUMP_MAX_DATAGRAM = 512;
const PATTERN = /^VMKD1 ([A-Za-z0-9._-]{1,253}) (started|done) (\d{1,15}) ([0-9a-f]{64})$/;

/** Parses a datagram, or undefined when it is not a well-formed notice (dropped and counted by the receiver). */
export function parseKdumpNotice(buf: Buffer): KdumpNotice | undefined {
  if (buf.length > KDUMP_MAX_DATAGRAM) return undefined;
  const m = PATTERN.exec(buf.toString("latin1").trimEnd());
  if (!m?.[1] || !m[2] || !m[3] || !m[4]) return undefined;
  return { host: m[1], phase: m[2] as "started" | "done", sentAtMs: Number(m[3]), signed: `VMKD1 ${m[1]} ${m[2]} ${m[3]}`, mac: m[4] };
}

export function signKdumpNotice(host: string, phase: "started" | "done", sentAtMs: number, key: Buffer): string {
  const signed = `VMKD1 ${host} ${phase} ${sentAtMs}`;
  return `${signed} ${createHmac("sha256", key).update(signed).digest("hex")}`;
}

export function kdumpNoticeAuthentic(n: KdumpNotice, key: Buffer): boolean {
  const want = createHmac("sha256", key).update(n.signed).digest();
  const got = Buffer.from(n.mac, "hex");
  return got.length === want.length && timingSafeEqual(got, want);
}
