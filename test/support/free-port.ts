import { createServer } from "node:net";

/**
 * Asks `ask` for ports until it names one this process has not handed out for `kind` yet.
 * The kernel may give a just-freed port again to the next bind(0), so two calls in a row (an
 * operator's report and metrics ports, say) could name the same port, and the process would
 * fail with EADDRINUSE on its second listener.
 */
export async function unusedPort(kind: "tcp" | "udp", ask: () => Promise<number>): Promise<number> {
  const seen = handedOut[kind];
  for (;;) {
    const port = await ask();
    if (seen.has(port)) continue;
    seen.add(port);
    return port;
  }
}

const handedOut = { tcp: new Set<number>(), udp: new Set<number>() };

/** Asks the kernel for a free loopback TCP port, never one this process handed out before. */
export function freePort(): Promise<number> {
  return unusedPort("tcp", kernelPort);
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === "object") resolve(addr.port);
        else reject(new Error("no port"));
      });
    });
  });
}
