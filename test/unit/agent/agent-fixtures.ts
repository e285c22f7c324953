import { createSocket } from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { CliIO } from "../../../src/cli/cli-io.js";

/** Asks the kernel for a free loopback UDP port. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export const KEY_LINE = `k1:${Buffer.alloc(32, 0x42).toString("base64")}`;

export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "vmkeeper-agent-"));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

export function captureIO(env: NodeJS.ProcessEnv = {}): { io: CliIO; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  return { io: { stdout, stderr, stdin: new PassThrough(), env, cwd: process.cwd() }, out: () => out, err: () => err };
}
