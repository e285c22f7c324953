import { createSocket, type Socket } from "node:dgram";
import type { UdpTarget } from "./udp-address.js";

/** Fire-and-forget datagram sending, behind an interface so tests can capture packets. */
export interface DatagramTransport {
  send(buf: Buffer, target: UdpTarget): void;
  close(): Promise<void>;
}

/**
 * Sends from ephemeral-port sockets, one per IP family, created on first use. Send errors
 * (no route, ICMP refusals surfacing as ECONNREFUSED) go to `onError`; they never throw.
 */
export class UdpTransport implements DatagramTransport {
  private v4: Socket | undefined;
  private v6: Socket | undefined;

  constructor(private readonly onError: (err: Error, target: UdpTarget) => void = () => undefined) {}

  send(buf: Buffer, target: UdpTarget): void {
    const socket = this.socketFor(target.family);
    try {
      socket.send(buf, target.port, target.address, (err) => {
        if (err) this.onError(err, target);
      });
    } catch (err: unknown) {
      this.onError(err instanceof Error ? err : new Error(String(err)), target);
    }
  }

  private socketFor(family: 4 | 6): Socket {
    if (family === 4) return (this.v4 ??= this.open("udp4"));
    return (this.v6 ??= this.open("udp6"));
  }

  private open(type: "udp4" | "udp6"): Socket {
    const s = createSocket({ type });
    s.on("error", (err) => this.onError(err, { address: "", family: type === "udp4" ? 4 : 6, port: 0 }));
    return s;
  }

  async close(): Promise<void> {
    const sockets = [this.v4, this.v6].filter((s): s is Socket => s !== undefined);
    this.v4 = this.v6 = undefined;
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
