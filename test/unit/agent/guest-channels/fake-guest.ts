import { createServer, type Server, type Socket } from "node:net";

export type Pdu = { v: number; group: string; type: string; body: Record<string, unknown> };

/** One accepted connection of the fake guest: reads the host's lines, writes scripted ones. */
export class FakeGuestConnection {
  private buffer = "";
  private readonly ready: Pdu[] = [];
  private readonly waiters: ((p: Pdu) => void)[] = [];
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.buffer += d.toString("utf8");
      for (let i = this.buffer.indexOf("\n"); i >= 0; i = this.buffer.indexOf("\n")) {
        const pdu = JSON.parse(this.buffer.slice(0, i)) as Pdu;
        this.buffer = this.buffer.slice(i + 1);
        const w = this.waiters.shift();
        if (w) w(pdu);
        else this.ready.push(pdu);
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => (this.closed = true));
  }

  /** The next line the host sent. */
  next(): Promise<Pdu> {
    const p = this.ready.shift();
    return p ? Promise.resolve(p) : new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next line of the given type, skipping others. */
  async nextOfType(type: string): Promise<Pdu> {
    for (;;) {
      const p = await this.next();
      if (p.type === type) return p;
    }
  }

  send(pdu: { group: string; type: string; body: Record<string, unknown> }): void {
    this.socket.write(`${JSON.stringify({ v: 1, ...pdu })}\n`);
  }

  raw(text: string): void {
    this.socket.write(text);
  }

  init(bootId = "a".repeat(32), extra: Record<string, unknown> = {}): void {
    this.send({ group: "heartbeat", type: "init", body: { agent: "fake-guest/1", bootId, groups: ["heartbeat"], ...extra } });
  }

  /** Reads the next challenge and answers it. */
  async answer(health: "healthy" | "unhealthy" = "healthy", reason?: string): Promise<void> {
    const ch = await this.nextOfType("challenge");
    this.send({ group: "heartbeat", type: "response", body: { seq: ch.body.seq, nonce: ch.body.nonce, health, ...(reason ? { reason } : {}) } });
  }
}

/** A scripted guest: a unix socket server standing in for QEMU's chardev. */
export class FakeGuest {
  private readonly queue: FakeGuestConnection[] = [];
  private readonly waiters: ((c: FakeGuestConnection) => void)[] = [];
  private constructor(
    readonly path: string,
    private readonly server: Server,
  ) {}

  static async listen(path: string): Promise<FakeGuest> {
    const server = createServer();
    const guest = new FakeGuest(path, server);
    server.on("connection", (s) => {
      const c = new FakeGuestConnection(s);
      const w = guest.waiters.shift();
      if (w) w(c);
      else guest.queue.push(c);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return guest;
  }

  accepted(): Promise<FakeGuestConnection> {
    const c = this.queue.shift();
    return c ? Promise.resolve(c) : new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops listening and drops every connection (QEMU gone). */
  async close(connections: FakeGuestConnection[] = []): Promise<void> {
    for (const c of connections) c.socket.destroy();
    for (const c of this.queue.splice(0)) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
