import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { parseAgentConfig, type AgentConfig } from "../../../src/agent/agent-config.js";
import { startAgent, type RunningAgent } from "../../../src/agent/agent.js";
import { Keyring, parseKeyFile } from "../../../src/heartbeat/heartbeat-keys.js";
import { HeartbeatReceiver } from "../../../src/heartbeat/heartbeat-receiver.js";
import { UdpTransport } from "../../../src/heartbeat/udp-transport.js";
import { SystemClock } from "../../../src/util/clock.js";
import { silentLogger } from "../../../src/util/logger.js";
import { eventually } from "../../support/eventually.js";
import { freeUdpPort, KEY_LINE } from "./agent-fixtures.js";

describe("agent (two agents and an operator receiver on loopback)", () => {
  const clock = new SystemClock();
  let receiver: HeartbeatReceiver;
  let receiverPort: number;
  const agents: RunningAgent[] = [];

  beforeEach(async () => {
    receiver = new HeartbeatReceiver({ bindAddress: "127.0.0.1:0", keyring: new Keyring(parseKeyFile(KEY_LINE)), clock, log: silentLogger(), registry: new Registry() });
    receiverPort = (await receiver.start()).port;
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    await receiver.stop();
  });

  function config(host: string, port: number, peers: string): AgentConfig {
    const cfg = parseAgentConfig(
      ["--cloud", "lab", "--host", host, "--operator-targets", `127.0.0.1:${receiverPort}`, "--peers", peers, "--listen-address", `127.0.0.1:${port}`, "--interval-ms", "100", "--peer-window-ms", "300", "--key-file", "/unused", "--health-addr", "127.0.0.1:0"],
      {},
    );
    assert.ok(cfg !== "help");
    return cfg;
  }

  async function start(cfg: AgentConfig): Promise<RunningAgent> {
    const agent = await startAgent(cfg, {
      clock,
      log: silentLogger(),
      registry: new Registry(),
      keyring: new Keyring(parseKeyFile(KEY_LINE)),
      transport: new UdpTransport(),
      readText: () => Promise.resolve(KEY_LINE),
      agentVersion: "test",
    });
    agents.push(agent);
    return agent;
  }

  it("peers hear each other; stopping one makes the other report it unreachable", async () => {
    const [portA, portB] = [await freeUdpPort(), await freeUdpPort()];
    const a = await start(config("compute-a", portA, `compute-b=127.0.0.1:${portB}`));
    const b = await start(config("compute-b", portB, `compute-a=127.0.0.1:${portA}`));
    const key = (host: string) => ({ cloud: "lab", host });
    await eventually(() => {
      const ha = receiver.host(key("compute-a"));
      assert.equal(ha?.peersHeard, 1);
      assert.deepEqual(ha?.unreachablePeers, []);
      assert.equal(receiver.host(key("compute-b"))?.peersHeard, 1);
      assert.equal(ha?.agentVersion, "test");
    }, 3000, 20);
    assert.deepEqual(receiver.peerViewOf(key("compute-b"), clock.monotonicMs(), 1000), { reporting: 1, unreachable: 0, unreachableBy: [] });
    assert.ok(a.healthy() && b.healthy());

    await b.stop();
    agents.splice(agents.indexOf(b), 1);
    const stoppedAt = clock.monotonicMs();
    await eventually(() => {
      assert.deepEqual(receiver.host(key("compute-a"))?.unreachablePeers, ["compute-b"]);
      assert.deepEqual(receiver.peerViewOf(key("compute-b"), clock.monotonicMs(), 1000), { reporting: 1, unreachable: 1, unreachableBy: ["compute-a"] });
    }, 3000, 20);
    const detectedAfter = clock.monotonicMs() - stoppedAt;
    assert.ok(detectedAfter < 2000, `peer report after ${detectedAfter} ms (window 300 ms)`);
    assert.ok((receiver.lastSeenMs(key("compute-b")) ?? Infinity) <= stoppedAt, "no heartbeat from the stopped agent");
    assert.equal(a.peerMonitor.report().unreachableTotal, 1);
  });
});
