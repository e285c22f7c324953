import { readFile } from "node:fs/promises";
import { Keyring, parseKeyFile } from "../heartbeat/heartbeat-keys.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";

/** Loads the heartbeat keyring from a file (a mounted Secret); fails fast when unusable. */
export async function loadKeyring(path: string): Promise<Keyring> {
  return new Keyring(parseKeyFile(await readFile(path, "utf8")));
}

/**
 * Re-reads the key file periodically so that a rotated Secret (Kubernetes updates mounted
 * Secrets in place) takes effect without a restart. A file that no longer parses keeps the
 * old keys and is reported, rather than dropping every heartbeat.
 */
export async function watchKeyFile(path: string, keyring: Keyring, clock: Clock, log: Logger, signal: AbortSignal, everyMs = 10_000): Promise<void> {
  let last = await readFile(path, "utf8").catch(() => "");
  while (!signal.aborted) {
    await clock.sleep(everyMs, signal).catch(() => undefined);
    if (signal.aborted) return;
    try {
      const text = await readFile(path, "utf8");
      if (text === last) continue;
      keyring.replace(parseKeyFile(text));
      last = text;
      log.info({ path }, "heartbeat keys reloaded");
    } catch (err: unknown) {
      log.error({ path, err: err instanceof Error ? err.message : String(err) }, "heartbeat key file unreadable; keeping the previous keys");
    }
  }
}
