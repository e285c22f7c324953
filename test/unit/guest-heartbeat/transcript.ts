import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The shared conformance transcripts (test/conformance/guest-heartbeat/README.md). */
export const TRANSCRIPT_DIR = fileURLToPath(new URL("../../../../test/conformance/guest-heartbeat/", import.meta.url));

export type LineSpec = string | { base64: string } | { prefix?: string; repeat: string; times: number; suffix?: string };
export type Step = Record<string, unknown>;

export interface Transcript {
  file: string;
  name: string;
  description: string;
  roles: ("host" | "guest")[];
  host: { intervalMs: number; threshold: number; nonces: string[] };
  steps: Step[];
}

export function loadTranscripts(): Transcript[] {
  return readdirSync(TRANSCRIPT_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(TRANSCRIPT_DIR + file, "utf8")) as Omit<Transcript, "file">) }));
}

export function expandLine(spec: LineSpec): Buffer {
  if (typeof spec === "string") return Buffer.from(spec, "utf8");
  if ("base64" in spec) return Buffer.from(spec.base64, "base64");
  return Buffer.from(`${spec.prefix ?? ""}${spec.repeat.repeat(spec.times)}${spec.suffix ?? ""}`, "utf8");
}
