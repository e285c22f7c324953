import { inspect } from "node:util";

const REDACTED = "[REDACTED]";

/**
 * A credential held so that it cannot leak by accident: JSON serialisation, string
 * conversion and `util.inspect` (used by console and assertion messages) all print
 * `[REDACTED]`. Only `reveal()` gives the value, and only code that builds a request
 * body or header calls it.
 */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * Removes secret values from a text before it goes into an error or a log line: each
 * known secret, and anything shaped like a Keystone fernet token or an auth header.
 */
export function scrubSecrets(text: string, secrets: readonly (SecretValue | string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    const v = s instanceof SecretValue ? s.reveal() : s;
    if (v && v.length >= 4) out = out.split(v).join(REDACTED);
  }
  return out
    .replace(/gAAAAA[\w-]{20,}={0,2}/g, REDACTED)
    .replace(/(x-auth-token|x-subject-token|authorization)(["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, `$1$2${REDACTED}`);
}
