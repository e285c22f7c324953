import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { eventually } from "./eventually.js";
import { runCommand } from "./run-command.js";

/** Kernel and initramfs made by hack/build-guest-image.sh. */
export interface GuestImage {
  kernel: string;
  initrd: string;
}

/** Builds (or reuses from the cache) the tiny test guest; installs QEMU when missing (root). */
export async function buildGuestImage(root: string, timeoutMs = 900_000): Promise<GuestImage> {
  const r = await runCommand("bash", [join(root, "hack/build-guest-image.sh")], { timeoutMs });
  if (r.code !== 0) throw new Error(`hack/build-guest-image.sh failed (${r.code}):\n${r.stderr.slice(-3000)}`);
  const value = (key: string): string => {
    const line = r.stdout.split("\n").find((l) => l.startsWith(`${key}=`));
    if (!line) throw new Error(`hack/build-guest-image.sh printed no ${key}=:\n${r.stdout}`);
    return line.slice(key.length + 1);
  };
  return { kernel: value("kernel"), initrd: value("initrd") };
}

/** A QMP connection (QEMU Machine Protocol over its unix socket), after the capabilities handshake. */
export class QmpClient {
  private buffer = "";
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.buffer += d.toString("utf8");
      for (let i = this.buffer.indexOf("\n"); i >= 0; i = this.buffer.indexOf("\n")) {
        this.lines.push(this.buffer.slice(0, i));
        this.buffer = this.buffer.slice(i + 1);
      }
      this.wake();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => this.wake());
  }

  static async connect(path: string): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(path);
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        resolve(s);
      });
    });
    const client = new QmpClient(socket);
    const greeting = await client.nextMessage();
    if (!("QMP" in greeting)) throw new Error(`unexpected QMP greeting ${JSON.stringify(greeting)}`);
    await client.execute("qmp_capabilities");
    return client;
  }

  /** Runs a command and returns its `return` value; a QMP error becomes an exception. */
  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    for (;;) {
      const msg = await this.nextMessage();
      if ("event" in msg) continue;
      if ("error" in msg) throw new Error(`QMP ${command}: ${JSON.stringify(msg.error)}`);
      if ("return" in msg) return msg.return;
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async nextMessage(): Promise<Record<string, unknown>> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        if (line.trim() === "") continue;
        return JSON.parse(line) as Record<string, unknown>;
      }
      if (this.socket.destroyed) throw new Error("QMP socket closed");
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

export interface QemuGuestOptions {
  image: GuestImage;
  /** Temp dir for the sockets and the log. */
  dir: string;
  memoryMb?: number;
}

/**
 * One QEMU (software emulation) running the test guest, its heartbeat port's chardev as a
 * unix socket server in `dir`, QMP beside it, the serial console on stdin/stdout (logged).
 */
export class QemuGuest {
  readonly heartbeatSocket: string;
  readonly qmpSocket: string;
  readonly logPath: string;
  /** performance.now() when QEMU was spawned. */
  readonly startedAtMs: number;
  private readonly exited: Promise<void>;
  private qmpClient: QmpClient | undefined;

  private constructor(
    private readonly child: ChildProcess,
    dir: string,
  ) {
    this.heartbeatSocket = join(dir, "hb.sock");
    this.qmpSocket = join(dir, "qmp.sock");
    this.logPath = join(dir, "qemu.log");
    this.startedAtMs = performance.now();
    this.exited = new Promise((resolve) => {
      child.once("exit", () => {
        live.delete(child);
        resolve();
      });
    });
  }

  static start(options: QemuGuestOptions): QemuGuest {
    installExitHook();
    const hb = join(options.dir, "hb.sock");
    const qmp = join(options.dir, "qmp.sock");
    const args = [
      ...["-machine", "accel=tcg", "-m", String(options.memoryMb ?? 256), "-nographic", "-no-reboot", "-nic", "none"],
      ...["-kernel", options.image.kernel, "-initrd", options.image.initrd, "-append", "console=ttyS0 quiet panic=-1"],
      ...["-device", "virtio-serial", "-chardev", `socket,path=${hb},server=on,wait=off,id=hb`],
      ...["-device", "virtserialport,chardev=hb,name=org.vmkeeper.heartbeat.0"],
      ...["-qmp", `unix:${qmp},server=on,wait=off`],
    ];
    const child = spawn("qemu-system-x86_64", args, { stdio: ["pipe", "pipe", "pipe"] });
    live.add(child);
    const guest = new QemuGuest(child, options.dir);
    const log = createWriteStream(guest.logPath, { flags: "a" });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    child.stdin?.on("error", () => undefined);
    return guest;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until QEMU listens on both sockets. */
  async waitForSockets(timeoutMs = 30_000): Promise<void> {
    await eventually(() => {
      if (!this.running) throw new Error(`QEMU exited: ${this.logTail()}`);
      if (!existsSync(this.heartbeatSocket) || !existsSync(this.qmpSocket)) throw new Error("QEMU sockets not there yet");
    }, timeoutMs);
  }

  /** A QMP command over the (lazily opened, shared) QMP connection. */
  async qmp(command: string, args?: Record<string, unknown>): Promise<unknown> {
    this.qmpClient ??= await QmpClient.connect(this.qmpSocket);
    return this.qmpClient.execute(command, args);
  }

  /** Freezes every vCPU (QMP `stop`); QEMU itself keeps running and holding the sockets. */
  async pause(): Promise<void> {
    await this.qmp("stop");
  }

  /** Resumes the vCPUs (QMP `cont`). */
  async resume(): Promise<void> {
    await this.qmp("cont");
  }

  /** QMP `query-status`: "running", "paused", ... */
  async runState(): Promise<string> {
    const r = (await this.qmp("query-status")) as { status?: string };
    return r.status ?? "unknown";
  }

  /** Types a line on the guest's serial console (a busybox shell). */
  typeOnConsole(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Sends `signal` to this QEMU (by the PID we spawned) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    this.qmpClient?.close();
    this.qmpClient = undefined;
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  logTail(chars = 3000): string {
    try {
      return readFileSync(this.logPath, "utf8").slice(-chars);
    } catch {
      return "";
    }
  }
}
