import { createSecretKey, type KeyObject } from "node:crypto";

/** Key ids travel in every packet: short, ASCII, no separators. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,16}$/;
/** HMAC-SHA256 keys shorter than this are refused (RFC 2104 recommends at least the output length, 32). */
export const MIN_KEY_BYTES = 16;
export const MAX_KEY_BYTES = 1024;

/** One shared HMAC key and the id that names it on the wire. The secret never reaches a log line. */
export interface HeartbeatKey {
  id: string;
  secret: Buffer;
}

export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyFileError";
  }
}

/**
 * Parses a key file: one `keyid:base64key` per line, blank lines and `#` comments ignored.
 * The first key signs; all keys verify (current + previous during a rotation). Errors name
 * the line, never its content.
 */
export function parseKeyFile(text: string): HeartbeatKey[] {
  const keys: HeartbeatKey[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon < 0) throw new KeyFileError(`line ${i + 1}: expected keyid:base64key`);
    const id = line.slice(0, colon);
    const b64 = line.slice(colon + 1).trim();
    if (!KEY_ID_PATTERN.test(id)) throw new KeyFileError(`line ${i + 1}: key id must match ${KEY_ID_PATTERN.source}`);
    if (seen.has(id)) throw new KeyFileError(`line ${i + 1}: duplicate key id "${id}"`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new KeyFileError(`line ${i + 1}: key "${id}" is not valid base64`);
    const secret = Buffer.from(b64, "base64");
    if (secret.length < MIN_KEY_BYTES || secret.length > MAX_KEY_BYTES) {
      throw new KeyFileError(`line ${i + 1}: key "${id}" must decode to ${MIN_KEY_BYTES}..${MAX_KEY_BYTES} bytes (32 recommended)`);
    }
    seen.add(id);
    keys.push({ id, secret });
  }
  if (keys.length === 0) throw new KeyFileError("no keys (expected at least one keyid:base64key line)");
  return keys;
}

interface KeyEntry {
  id: string;
  idBytes: Buffer;
  key: KeyObject;
}

/**
 * The keys a process knows, looked up by the id bytes carried in a packet. `replace` swaps
 * the whole set atomically (key rotation from a re-read Secret or file); the first key signs.
 */
export class Keyring {
  private entries: KeyEntry[] = [];
  private byId = new Map<string, KeyEntry>();

  constructor(keys: readonly HeartbeatKey[]) {
    this.replace(keys);
  }

  replace(keys: readonly HeartbeatKey[]): void {
    if (keys.length === 0) throw new KeyFileError("a keyring needs at least one key");
    const entries = keys.map((k) => {
      if (!KEY_ID_PATTERN.test(k.id)) throw new KeyFileError(`key id must match ${KEY_ID_PATTERN.source}`);
      return { id: k.id, idBytes: Buffer.from(k.id, "latin1"), key: createSecretKey(Buffer.from(k.secret)) };
    });
    this.entries = entries;
    this.byId = new Map(entries.map((e) => [e.id, e]));
  }

  /** The key that signs outgoing packets. */
  signing(): { id: string; idBytes: Buffer; key: KeyObject } {
    const first = this.entries[0];
    if (!first) throw new KeyFileError("empty keyring");
    return first;
  }

  /** The verification key for an id, or undefined when unknown. */
  lookup(id: string): KeyObject | undefined {
    return this.byId.get(id)?.key;
  }

  ids(): string[] {
    return this.entries.map((e) => e.id);
  }
}
