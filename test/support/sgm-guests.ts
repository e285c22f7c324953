import { existsSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { ManagedProcess } from "./managed-process.js";
import { runCommand } from "./run-command.js";
import { REPO_ROOT } from "./test-assets.js";

export const GUEST_BINARY = join(REPO_ROOT, "dist/guest/vmkeeper-guest");

/** Builds the static guest binary (hack/test-guest.sh also vets and tests it) when missing. */
export async function ensureGuestBinary(): Promise<void> {
  if (existsSync(GUEST_BINARY)) return;
  const r = await runCommand("bash", [join(REPO_ROOT, "hack/test-guest.sh")], { timeoutMs: 600_000 });
  if (r.code !== 0 || !existsSync(GUEST_BINARY)) throw new Error(`hack/test-guest.sh failed:\n${r.stderr}`);
}

/**
 * What QEMU does for a virtio-serial port, on two unix sockets: the host side (the chardev
 * socket the node agent dials) and the guest side (which stands in for
 * /dev/virtio-ports/org.vmkeeper.heartbeat.0; vmkeeper-guest dials a socket path). Bytes are
 * piped between the two connections; while the host side is not connected the guest side is
 * closed, as a guest reads end-of-file on a port with no host.
 */
export class VirtioSerialPair {
  private hostConn: Socket | undefined;
  private guestConn: Socket | undefined;
  private readonly servers: Server[] = [];

  constructor(
    readonly hostPath: string,
    readonly guestPath: string,
  ) {}

  async start(): Promise<void> {
    this.servers.push(
      await listen(this.hostPath, (s) => {
        this.hostConn?.destroy();
        this.hostConn = s;
        s.on("data", (d) => this.guestConn?.write(d));
        s.on("close", () => {
          if (this.hostConn === s) this.hostConn = undefined;
          this.guestConn?.destroy();
        });
        s.on("error", () => undefined);
      }),
      await listen(this.guestPath, (s) => {
        if (!this.hostConn) {
          s.destroy();
          return;
        }
        this.guestConn?.destroy();
        this.guestConn = s;
        s.on("data", (d) => this.hostConn?.write(d));
        s.on("close", () => {
          if (this.guestConn === s) this.guestConn = undefined;
        });
        s.on("error", () => undefined);
      }),
    );
  }

  async stop(): Promise<void> {
    this.hostConn?.destroy();
    this.guestConn?.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

function listen(path: string, onConn: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onConn);
    server.once("error", reject);
    server.listen(path, () => resolve(server));
  });
}

/** A real vmkeeper-guest process on a port socket, serving applications on `socket`. */
export function startGuestProcess(port: string, socket: string, logPath: string): ManagedProcess {
  const p = new ManagedProcess("vmkeeper-guest", GUEST_BINARY, [`--port=${port}`, `--socket=${socket}`], logPath);
  p.start();
  return p;
}

export type AppMessage = Record<string, unknown>;

/** An application on the guest's local socket: requests get replies in order; pushes are collected. */
export class GuestApp {
  readonly pushes: AppMessage[] = [];
  private readonly replies: AppMessage[] = [];
  private waiters: (() => void)[] = [];
  private buffered = "";

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf("\n")) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const m = JSON.parse(line) as AppMessage;
        if ("event" in m) this.pushes.push({ ...m, receivedAt: performance.now() });
        else this.replies.push(m);
      }
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  static connect(path: string): Promise<GuestApp> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        resolve(new GuestApp(s));
      });
    });
  }

  send(req: AppMessage): void {
    this.socket.write(`${JSON.stringify(req)}\n`);
  }

  /** Sends a request and waits for the next reply. */
  async call(req: AppMessage, timeoutMs = 10_000): Promise<AppMessage> {
    this.send(req);
    return this.nextReply(timeoutMs);
  }

  async nextReply(timeoutMs = 10_000): Promise<AppMessage> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return this.replies.shift() as AppMessage;
  }

  close(): void {
    this.socket.destroy();
  }
}
