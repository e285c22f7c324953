import { createHmac, timingSafeEqual, type KeyObject } from "node:crypto";
import type { Keyring } from "./heartbeat-keys.js";

/**
 * Wire format v1 of the host heartbeat (docs/protocols/host-heartbeat.md). Big-endian:
 *
 *   "VK" | version u8 | flags u8 | keyIdLen u8 | keyId | bootId[16] | seq u64 | sentAtMs u64 |
 *   intervalMs u32 | cloudLen u8 | cloud | hostLen u8 | host | peersHeard u16 |
 *   unreachableTotal u16 | unreachableCount u8 | (len u8 | peer)* | extLen u16 | ext TLVs |
 *   HMAC-SHA256[32] over every byte before it.
 */
export const HEARTBEAT_VERSION = 1;
export const MAX_DATAGRAM_BYTES = 1200;
export const MAC_BYTES = 32;
export const BOOT_ID_BYTES = 16;
export const MAX_CLOUD_BYTES = 63;
export const MAX_HOST_BYTES = 255;
export const MAX_AGENT_VERSION_BYTES = 64;
export const MIN_INTERVAL_MS = 50;
export const MAX_INTERVAL_MS = 3_600_000;
/** Flag bit 0: the unreachable list was cut to fit the datagram; unreachableTotal is exact. */
export const FLAG_PEERS_TRUNCATED = 0x01;
/** Extension type 1: the agent's version string (UTF-8). Unknown extension types are skipped. */
export const EXT_AGENT_VERSION = 1;

const MAGIC0 = 0x56; // V
const MAGIC1 = 0x4b; // K
const MAX_SAFE_HIGH = 0x1fffff; // 2^53 = 2^21 * 2^32
/** Smallest datagram that can hold a header, empty strings aside, and a MAC. */
export const MIN_DATAGRAM_BYTES = 2 + 1 + 1 + 1 + 1 + BOOT_ID_BYTES + 8 + 8 + 4 + 1 + 1 + 1 + 1 + 2 + 2 + 1 + 2 + MAC_BYTES;

/** What a host's agent says about its peers: how many it heard, and which it did not. */
export interface PeerReport {
  heard: number;
  /** Peers not heard within the agent's window (possibly cut to fit; see unreachableTotal). */
  unreachable: string[];
  /** How many peers were not heard; ≥ unreachable.length. */
  unreachableTotal: number;
}

export interface HeartbeatMessage {
  cloud: string;
  /** The nova-compute service host name. */
  host: string;
  /** 32 hex characters, new for every agent process start. */
  bootId: string;
  /** Starts at 1 for every boot id and increases by one per heartbeat. */
  seq: number;
  /** Sender wall clock, Unix milliseconds; bounds replays only. */
  sentAtMs: number;
  intervalMs: number;
  peers: PeerReport;
  agentVersion?: string;
}

export type RejectReason = "oversize" | "malformed" | "unknown_version" | "unknown_key" | "bad_mac";

export type DecodeResult = { ok: true; msg: HeartbeatMessage; keyId: string } | { ok: false; reason: RejectReason };

export interface Signer {
  idBytes: Buffer;
  key: KeyObject;
}

/** Builds a signed datagram; unreachable peers that do not fit in MAX_DATAGRAM_BYTES are left out (flagged). */
export function encodeHeartbeat(msg: HeartbeatMessage, signer: Signer): Buffer {
  const cloud = Buffer.from(msg.cloud, "utf8");
  const host = Buffer.from(msg.host, "utf8");
  const boot = Buffer.from(msg.bootId, "hex");
  const version = msg.agentVersion === undefined ? undefined : Buffer.from(msg.agentVersion, "utf8");
  checkField(cloud.length >= 1 && cloud.length <= MAX_CLOUD_BYTES, "cloud must be 1..63 bytes");
  checkField(host.length >= 1 && host.length <= MAX_HOST_BYTES, "host must be 1..255 bytes");
  checkField(boot.length === BOOT_ID_BYTES, "bootId must be 32 hex characters");
  checkField(signer.idBytes.length >= 1 && signer.idBytes.length <= 16, "key id must be 1..16 bytes");
  checkField(Number.isSafeInteger(msg.seq) && msg.seq >= 1, "seq must be a positive safe integer");
  checkField(Number.isSafeInteger(msg.sentAtMs) && msg.sentAtMs >= 0, "sentAtMs must be a non-negative safe integer");
  checkField(Number.isInteger(msg.intervalMs) && msg.intervalMs >= MIN_INTERVAL_MS && msg.intervalMs <= MAX_INTERVAL_MS, "intervalMs out of range");
  checkField(version === undefined || (version.length >= 1 && version.length <= MAX_AGENT_VERSION_BYTES), "agentVersion must be 1..64 bytes");
  const ext = version === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from([EXT_AGENT_VERSION, version.length]), version]);
  const fixed = 5 + signer.idBytes.length + BOOT_ID_BYTES + 20 + 1 + cloud.length + 1 + host.length + 5 + 2 + ext.length + MAC_BYTES;
  const { listed, truncated } = fitPeers(msg.peers.unreachable, MAX_DATAGRAM_BYTES - fixed);
  const total = Math.min(0xffff, Math.max(msg.peers.unreachableTotal, msg.peers.unreachable.length));
  const size = fixed + listed.reduce((n, p) => n + 1 + p.length, 0);
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  buf[o++] = MAGIC0;
  buf[o++] = MAGIC1;
  buf[o++] = HEARTBEAT_VERSION;
  buf[o++] = truncated ? FLAG_PEERS_TRUNCATED : 0;
  o = putBytes(buf, o, signer.idBytes);
  o += boot.copy(buf, o);
  o = putU64(buf, o, msg.seq);
  o = putU64(buf, o, msg.sentAtMs);
  o = buf.writeUInt32BE(msg.intervalMs, o);
  o = putBytes(buf, o, cloud);
  o = putBytes(buf, o, host);
  o = buf.writeUInt16BE(Math.min(0xffff, Math.max(0, Math.trunc(msg.peers.heard))), o);
  o = buf.writeUInt16BE(total, o);
  buf[o++] = listed.length;
  for (const p of listed) o = putBytes(buf, o, p);
  o = buf.writeUInt16BE(ext.length, o);
  o += ext.copy(buf, o);
  createHmac("sha256", signer.key).update(buf.subarray(0, o)).digest().copy(buf, o);
  return buf;
}

function checkField(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(`heartbeat: ${message}`);
}

function fitPeers(peers: readonly string[], budget: number): { listed: Buffer[]; truncated: boolean } {
  const listed: Buffer[] = [];
  let used = 0;
  for (const p of peers) {
    const b = Buffer.from(p, "utf8");
    if (b.length < 1 || b.length > MAX_HOST_BYTES) continue;
    if (listed.length === 255 || used + 1 + b.length > budget) return { listed, truncated: true };
    listed.push(b);
    used += 1 + b.length;
  }
  return { listed, truncated: listed.length < peers.length };
}

function putBytes(buf: Buffer, o: number, b: Buffer): number {
  buf[o] = b.length;
  return o + 1 + b.copy(buf, o + 1);
}

function putU64(buf: Buffer, o: number, n: number): number {
  buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), o);
  return buf.writeUInt32BE(n % 0x1_0000_0000, o + 4);
}

/** Bounds-checked reader; every read past the end throws Truncated, caught by decode. */
class Cursor {
  o = 0;
  constructor(
    readonly buf: Buffer,
    readonly end: number,
  ) {}

  u8(): number {
    if (this.o + 1 > this.end) throw TRUNCATED;
    return this.buf[this.o++] ?? 0;
  }

  u16(): number {
    if (this.o + 2 > this.end) throw TRUNCATED;
    const v = this.buf.readUInt16BE(this.o);
    this.o += 2;
    return v;
  }

  u32(): number {
    if (this.o + 4 > this.end) throw TRUNCATED;
    const v = this.buf.readUInt32BE(this.o);
    this.o += 4;
    return v;
  }

  u64(): number {
    const hi = this.u32();
    const lo = this.u32();
    if (hi > MAX_SAFE_HIGH) throw TRUNCATED;
    return hi * 0x1_0000_0000 + lo;
  }

  skip(n: number): number {
    if (this.o + n > this.end) throw TRUNCATED;
    const at = this.o;
    this.o += n;
    return at;
  }

  /** A length-prefixed string of min..max bytes, without control characters or spaces. */
  str(min: number, max: number): string {
    const len = this.u8();
    if (len < min || len > max) throw TRUNCATED;
    const at = this.skip(len);
    const s = this.buf.toString("utf8", at, at + len);
    if (!NAME_OK.test(s)) throw TRUNCATED;
    return s;
  }
}

const TRUNCATED = new Error("malformed heartbeat");
/** Printable, no whitespace, no U+FFFD (what invalid UTF-8 decodes to). */
const NAME_OK = /^[^\s\p{Cc}\ufffd]+$/u;

/**
 * Verifies and parses one datagram. Order: size → magic/version → key id → MAC (constant
 * time) → body. Nothing is parsed from bytes the MAC has not covered. Never throws.
 */
export function decodeHeartbeat(buf: Buffer, keyring: Keyring): DecodeResult {
  if (buf.length > MAX_DATAGRAM_BYTES) return { ok: false, reason: "oversize" };
  if (buf.length < MIN_DATAGRAM_BYTES || buf[0] !== MAGIC0 || buf[1] !== MAGIC1) return { ok: false, reason: "malformed" };
  if (buf[2] !== HEARTBEAT_VERSION) return { ok: false, reason: "unknown_version" };
  const idLen = buf[4] ?? 0;
  if (idLen < 1 || idLen > 16) return { ok: false, reason: "malformed" };
  const keyId = buf.toString("latin1", 5, 5 + idLen);
  const key = keyring.lookup(keyId);
  if (!key) return { ok: false, reason: "unknown_key" };
  const macAt = buf.length - MAC_BYTES;
  const mac = createHmac("sha256", key).update(buf.subarray(0, macAt)).digest();
  if (!timingSafeEqual(mac, buf.subarray(macAt))) return { ok: false, reason: "bad_mac" };
  try {
    return { ok: true, msg: parseBody(new Cursor(buf, macAt), idLen), keyId };
  } catch {
    return { ok: false, reason: "malformed" };
  }
}

function parseBody(c: Cursor, idLen: number): HeartbeatMessage {
  c.o = 5 + idLen;
  const bootAt = c.skip(BOOT_ID_BYTES);
  const bootId = c.buf.toString("hex", bootAt, bootAt + BOOT_ID_BYTES);
  const seq = c.u64();
  const sentAtMs = c.u64();
  const intervalMs = c.u32();
  if (seq < 1 || intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) throw TRUNCATED;
  const cloud = c.str(1, MAX_CLOUD_BYTES);
  const host = c.str(1, MAX_HOST_BYTES);
  const heard = c.u16();
  const unreachableTotal = c.u16();
  const count = c.u8();
  if (unreachableTotal < count) throw TRUNCATED;
  const unreachable: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) unreachable[i] = c.str(1, MAX_HOST_BYTES);
  const msg: HeartbeatMessage = { cloud, host, bootId, seq, sentAtMs, intervalMs, peers: { heard, unreachable, unreachableTotal } };
  const extEnd = c.u16() + c.o;
  if (extEnd !== c.end) throw TRUNCATED;
  while (c.o < extEnd) {
    const type = c.u8();
    const len = c.u8();
    const at = c.skip(len);
    if (type === EXT_AGENT_VERSION && len >= 1) msg.agentVersion = c.buf.toString("utf8", at, at + len);
  }
  return msg;
}
