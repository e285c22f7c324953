import { createSocket } from "node:dgram";

/** Asks the kernel for a free loopback UDP port (IPMI-over-LAN peers listen on UDP). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createSocket("udp4");
    sock.unref();
    sock.on("error", reject);
    sock.bind(0, "127.0.0.1", () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}
