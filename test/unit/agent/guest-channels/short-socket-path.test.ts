import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, createConnection, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dialablePath, MAX_UNIX_PATH_BYTES } from "../../../../src/agent/guest-channels/short-socket-path.js";

describe("dialablePath (unix socket paths longer than the kernel takes)", () => {
  let root: string;
  let server: Server | undefined;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), "vmkeeper-long-"))));
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  it("keeps a short path", () => {
    assert.equal(dialablePath("/var/lib/libvirt/qemu/channel/target/domain-2-instance-0000000b/org.vmkeeper.heartbeat.0"), "/var/lib/libvirt/qemu/channel/target/domain-2-instance-0000000b/org.vmkeeper.heartbeat.0");
  });

  it("reaches a socket whose path is too long through a short link to its directory", async () => {
    const dir = join(root, "host", "var", "lib", "libvirt", "qemu", "channel", "target", "domain-123-instance-0000abcd-with-a-long-name");
    mkdirSync(dir, { recursive: true });
    // Listen through the link as well (binding has the same limit); what matters is that the long path is the one asked for.
    const longPath = join(dir, "org.vmkeeper.heartbeat.0");
    assert.ok(Buffer.byteLength(longPath) > MAX_UNIX_PATH_BYTES, `test path must be long (${longPath.length})`);
    const short = dialablePath(longPath);
    assert.ok(Buffer.byteLength(short) <= MAX_UNIX_PATH_BYTES);
    assert.equal(dialablePath(longPath), short, "one link per directory");
    server = createServer((s) => s.end("hello\n"));
    await new Promise<void>((r) => server?.listen(short, r));
    const got = await new Promise<string>((resolve, reject) => {
      const c = createConnection(dialablePath(longPath));
      let data = "";
      c.on("data", (d) => (data += String(d)));
      c.on("end", () => resolve(data));
      c.on("error", reject);
    });
    assert.equal(got, "hello\n");
  });
});
