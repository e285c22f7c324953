import { readFile } from "node:fs/promises";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { GuestChannel } from "../guest-channels/guest-channel.js";

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Parses a static channel list: one `INSTANCE_UUID SOCKET_PATH` per line, blank lines and
 * `#` comments ignored. For hosts whose domains are not read through libvirt, and tests.
 */
export function parseGuestChannels(text: string, source: string): GuestChannel[] {
  const out: GuestChannel[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [uuid, path, ...rest] = line.split(/\s+/);
    if (!uuid || !UUID.test(uuid) || !path?.startsWith("/") || rest.length > 0) throw new Error(`${source}:${i + 1}: expected "INSTANCE_UUID /absolute/socket/path"`);
    out.push({ instanceUuid: uuid.toLowerCase(), socketPath: path });
  }
  return out;
}

/** Reads the file now and every `everyMs`; a bad or missing file keeps the previous list. */
export async function followGuestChannelsFile(path: string, everyMs: number, clock: Clock, log: Logger, apply: (channels: GuestChannel[]) => void, signal: AbortSignal): Promise<void> {
  let last = "";
  while (!signal.aborted) {
    try {
      const text = await readFile(path, "utf8");
      if (text !== last) {
        apply(parseGuestChannels(text, path));
        last = text;
      }
    } catch (err: unknown) {
      log.warn({ path, err: err instanceof Error ? err.message : String(err) }, "cannot read the guest channels file; keeping the previous channels");
    }
    try {
      await clock.sleep(everyMs, signal);
    } catch {
      return;
    }
  }
}
