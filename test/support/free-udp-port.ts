import { createSocket } from "node:dgram";
import { unusedPort } from "./free-port.js";

/** Asks the kernel for a free loopback UDP port (IPMI-over-LAN peers listen on UDP), never one this process handed out before. */
export function freeUdpPort(): Promise<number> {
  return unusedPort("udp", kernelPort);
}

function kernelPort(): Promise<number> {
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
