import { spawn, type ChildProcess } from "node:child_process";

/** Output kept per stream; the tail is kept because tools print their verdict last. */
export const DEFAULT_MAX_OUTPUT_CHARS = 16 * 1024;

/** One run of a power tool (`ipmitool`, a `fence_*` agent): argv array, never a shell. */
export interface DeviceProcessRequest {
  file: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Written to standard input, which is then closed (an empty stdin when absent). */
  input?: string;
  timeoutMs: number;
  signal: AbortSignal;
  maxOutputChars?: number;
}

export type DeviceProcessResult =
  | { kind: "exited"; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { kind: "timeout"; stdout: string; stderr: string }
  | { kind: "aborted" }
  | { kind: "spawn-failed"; code: string };

/**
 * Runs a tool to completion and never throws. The tool gets its own process group, so a
 * timeout or an abort kills it together with whatever it started (fence_ipmilan runs ipmitool).
 */
export function runDeviceProcess(req: DeviceProcessRequest): Promise<DeviceProcessResult> {
  if (req.signal.aborted) return Promise.resolve({ kind: "aborted" });
  return new Promise((resolve) => {
    const max = req.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS;
    const out = { stdout: "", stderr: "" };
    let child: ChildProcess | undefined;
    let done = false;
    const finish = (r: DeviceProcessResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.signal.removeEventListener("abort", onAbort);
      resolve(r);
    };
    const onAbort = (): void => {
      killGroup(child);
      finish({ kind: "aborted" });
    };
    const timer = setTimeout(() => {
      killGroup(child);
      finish({ kind: "timeout", ...out });
    }, req.timeoutMs);
    try {
      child = spawn(req.file, [...req.args], { env: req.env, stdio: ["pipe", "pipe", "pipe"], detached: true, shell: false });
    } catch (err: unknown) {
      finish({ kind: "spawn-failed", code: errorCode(err) });
      return;
    }
    req.signal.addEventListener("abort", onAbort, { once: true });
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (out.stdout = keepTail(out.stdout + d, max)));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (out.stderr = keepTail(out.stderr + d, max)));
    child.on("error", (err: unknown) => finish({ kind: "spawn-failed", code: errorCode(err) }));
    child.on("close", (code, signal) => finish({ kind: "exited", code, signal, ...out }));
    // A tool that exits without reading its input must not fail the run with EPIPE.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(req.input ?? "");
  });
}

function keepTail(text: string, max: number): string {
  return text.length > max ? text.slice(text.length - max) : text;
}

function killGroup(child: ChildProcess | undefined): void {
  if (child?.pid === undefined) return;
  try {
    // The whole group: a leader that already exited may have left a child holding the pipes.
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}

function errorCode(err: unknown): string {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") return err.code;
  return "UNKNOWN";
}
