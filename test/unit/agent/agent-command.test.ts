import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Registry } from "prom-client";
import { fileURLToPath } from "node:url";
import { runAgentCommand } from "../../../src/agent/agent-command.js";
import { Keyring, parseKeyFile } from "../../../src/heartbeat/heartbeat-keys.js";
import { HeartbeatReceiver } from "../../../src/heartbeat/heartbeat-receiver.js";
import { SystemClock } from "../../../src/util/clock.js";
import { silentLogger } from "../../../src/util/logger.js";
import { eventually } from "../../support/eventually.js";
import { captureIO, freeUdpPort, KEY_LINE, tempFile } from "./agent-fixtures.js";

describe("vmkeeper agent command", () => {
  let receiver: HeartbeatReceiver;
  let receiverPort: number;

  beforeEach(async () => {
    receiver = new HeartbeatReceiver({ bindAddress: "127.0.0.1:0", keyring: new Keyring(parseKeyFile(KEY_LINE)), clock: new SystemClock(), log: silentLogger(), registry: new Registry() });
    receiverPort = (await receiver.start()).port;
  });

  afterEach(() => receiver.stop());

  function args(extra: string[] = []): string[] {
    return ["--cloud", "lab", "--host", "compute-1", "--operator-targets", `127.0.0.1:${receiverPort}`, "--listen-address", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--interval-ms", "100", ...extra];
  }

  it("exits 2 with every problem listed on bad flags", async () => {
    const { io, err } = captureIO();
    assert.equal(await runAgentCommand(["--interval-ms", "5"], io), 2);
    assert.match(err(), /--cloud: required/);
    assert.match(err(), /--interval-ms: "5"/);
    assert.match(err(), /--key-file: required/);
  });

  it("exits 2 on a missing or invalid key file or peers file, without printing key material", async () => {
    const missing = captureIO();
    assert.equal(await runAgentCommand(args(["--key-file", "/nonexistent/keys"]), missing.io), 2);
    assert.match(missing.err(), /ENOENT/);
    const short = captureIO();
    const shortKey = `k:${Buffer.alloc(8, 1).toString("base64")}`;
    assert.equal(await runAgentCommand(args(["--key-file", tempFile("keys", shortKey)]), short.io), 2);
    assert.match(short.err(), /must decode to 16/);
    assert.ok(!short.err().includes(shortKey.slice(2)));
    const peers = captureIO();
    assert.equal(await runAgentCommand(args(["--key-file", tempFile("keys", KEY_LINE), "--peers-file", tempFile("peers", "garbage")]), peers.io), 2);
    assert.match(peers.err(), /"garbage" is not host=addr:port/);
  });

  it("exits 2 when the peer port is taken", async () => {
    const { io, err } = captureIO();
    assert.equal(await runAgentCommand(args(["--key-file", tempFile("keys", KEY_LINE), "--listen-address", `127.0.0.1:${receiverPort}`]), io), 2);
    assert.match(err(), /cannot start: .*cannot bind/);
  });

  it("prints usage for --help", async () => {
    const { io, out } = captureIO();
    assert.equal(await runAgentCommand(["--help"], io), 0);
    assert.match(out(), /--operator-targets/);
  });

  it("runs in-process until aborted: heartbeats arrive, /healthz and /metrics answer", async () => {
    const { io, out } = captureIO({ VMKEEPER_KEY_FILE: tempFile("keys", KEY_LINE) });
    const stop = new AbortController();
    const done = runAgentCommand(args(), io, stop.signal);
    await eventually(() => assert.ok((receiver.host({ cloud: "lab", host: "compute-1" })?.lastSeq ?? 0) >= 3), 3000, 20);
    const started = out().split("\n").find((l) => l.includes('"agent started"'));
    assert.ok(started, out());
    assert.ok(!out().includes(KEY_LINE.slice(3)), "the key never reaches the log");
    stop.abort();
    assert.equal(await done, 0);
  });

  it("SIGTERM stops a separate agent process cleanly (exit 0)", async () => {
    const keyFile = tempFile("keys", KEY_LINE);
    const health = await freeUdpPort();
    const module = fileURLToPath(new URL("../../../src/agent/agent-command.js", import.meta.url));
    const cli = fileURLToPath(new URL("../../../src/cli/cli-io.js", import.meta.url));
    const script = `const { runAgentCommand } = await import(${JSON.stringify(module)}); const { processIO } = await import(${JSON.stringify(cli)}); process.exitCode = await runAgentCommand(process.argv.slice(1), processIO());`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, "--", ...args(["--key-file", keyFile, "--health-addr", `127.0.0.1:${health}`])], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${health}/healthz`);
        assert.equal(res.status, 200, output);
        const metrics = await (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
        assert.match(metrics, /vmkeeper_agent_heartbeats_sent_total \d+/);
        assert.match(metrics, /vmkeeper_agent_peers\{state="unreachable"\} 0/);
      }, 5000, 50);
      child.kill("SIGTERM");
      assert.equal(await exited, 0, output);
      assert.match(output, /"shutting down"/);
      assert.match(output, /"agent stopped"/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
