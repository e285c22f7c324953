/**
 * Parser for the lines of `virsh event --all --loop --timestamp` (run with LC_ALL=C, whose
 * messages are untranslated). One event is one line:
 *
 *   2026-12-01 22:31:09.019+0000: event 'lifecycle' for domain 'instance-0000002a': Stopped Destroyed
 *   2026-12-01 22:31:10.500+0000: event 'reboot' for domain 'instance-0000002a'
 *
 * A few event types (graphics, tunable, job-completed) add lines that start with a tab;
 * those carry nothing the agent uses and are skipped. virsh's closing lines when its loop
 * ends are skipped too. Anything else is malformed.
 */

/** One event line, split into its parts. */
export interface VirshEvent {
  /** virsh's own timestamp, as written (`2026-12-01 22:31:09.019+0000`). */
  timestamp: string;
  /** Event type: `lifecycle`, `watchdog`, `reboot`, `io-error`, ... */
  type: string;
  domainName: string;
  /** Everything after `': `; "" when the event has no payload. */
  payload: string;
}

export type VirshLine =
  | { kind: "event"; event: VirshEvent }
  /** A continuation line or virsh's closing words: nothing to do, nothing wrong. */
  | { kind: "skip" }
  | { kind: "malformed"; reason: string };

const TIMESTAMP = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d{4}): (.*)$/s;
// The domain name is greedy so that a name containing "'" still parses; libvirt names cannot contain a newline.
const EVENT = /^event '([a-z][a-z0-9-]*)' for domain '(.+)'(?:: (.*))?$/s;
const CLOSING = /^(event loop interrupted|events received: \d+)$/;

/** Classifies one line (without its newline) of virsh's event output. */
export function parseVirshEventLine(line: string): VirshLine {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (text.startsWith("\t") || text.trim() === "" || CLOSING.test(text)) return { kind: "skip" };
  const stamped = TIMESTAMP.exec(text);
  if (!stamped) return { kind: "malformed", reason: "no timestamp" };
  const [, timestamp = "", rest = ""] = stamped;
  const event = EVENT.exec(rest);
  if (!event) return { kind: "malformed", reason: "not an event line" };
  const [, type = "", domainName = "", payload = ""] = event;
  if (type === "lifecycle" && payload === "") return { kind: "malformed", reason: "lifecycle event without event and detail" };
  return { kind: "event", event: { timestamp, type, domainName, payload } };
}

/** The parts of a lifecycle payload: the event word and the (possibly multi-word) detail. */
export function splitLifecyclePayload(payload: string): { event: string; detail: string } {
  const space = payload.indexOf(" ");
  return space < 0 ? { event: payload, detail: "" } : { event: payload.slice(0, space), detail: payload.slice(space + 1) };
}

/**
 * Splits a byte stream into complete lines, keeping the unterminated tail for the next
 * chunk. Lines longer than `maxLineChars` are cut off and reported so a runaway child
 * cannot grow the buffer without bound.
 */
export class LineSplitter {
  private tail = "";
  private dropping = false;

  constructor(private readonly maxLineChars = 64 * 1024) {}

  /** Returns the complete lines in `chunk` (after what was kept) and how many overlong lines were dropped. */
  push(chunk: string): { lines: string[]; overlong: number } {
    const parts = (this.tail + chunk).split("\n");
    this.tail = parts.pop() ?? "";
    let overlong = 0;
    const lines: string[] = [];
    for (const part of parts) {
      if (this.dropping) {
        this.dropping = false;
        continue;
      }
      if (part.length > this.maxLineChars) overlong++;
      else lines.push(part);
    }
    if (this.tail.length > this.maxLineChars) {
      if (!this.dropping) overlong++;
      this.dropping = true;
      this.tail = "";
    }
    return { lines, overlong };
  }

  /** What is left when the stream ends (an unterminated last line), then empties. */
  flush(): string | undefined {
    const rest = this.dropping ? "" : this.tail;
    this.tail = "";
    this.dropping = false;
    return rest === "" ? undefined : rest;
  }
}
