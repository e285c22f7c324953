import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every child still running when the test process exits, however it exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      for (const child of live) child.kill("SIGKILL");
      process.exit(130);
    });
  }
}

/** A long-running peer (etcd, kube-apiserver, an operator) whose output goes to a log file. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly file: string,
    private readonly args: string[],
    readonly logPath: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    installExitHook();
    const log = createWriteStream(this.logPath, { flags: "a" });
    const child = spawn(this.file, this.args, { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    live.add(child);
    this.exited = new Promise((resolve) => {
      child.once("exit", () => {
        live.delete(child);
        resolve();
      });
    });
    this.child = child;
  }

  /** Sends `signal` and waits until the process is gone (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  waitForExit(): Promise<void> {
    return this.exited;
  }

  exitCode(): number | null {
    return this.child?.exitCode ?? null;
  }

  logTail(chars = 3000): string {
    try {
      return readFileSync(this.logPath, "utf8").slice(-chars);
    } catch {
      return "";
    }
  }
}
