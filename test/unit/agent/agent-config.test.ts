import assert from "node:assert/strict";
import { AgentConfigError, parseAgentConfig } from "../../../src/agent/agent-config.js";

const BASE = ["--cloud", "lab", "--host", "compute-1", "--operator-targets", "127.0.0.1:7946", "--key-file", "/keys"];

function problems(args: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseAgentConfig(args, env);
  } catch (err: unknown) {
    if (err instanceof AgentConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("agent configuration", () => {
  it("applies defaults", () => {
    const cfg = parseAgentConfig(BASE, {});
    assert.ok(cfg !== "help");
    assert.equal(cfg.listenAddress, "0.0.0.0:7947");
    assert.equal(cfg.intervalMs, 1000);
    assert.equal(cfg.peerWindowMs, 3000);
    assert.equal(cfg.healthAddr, "0.0.0.0:7948");
    assert.equal(cfg.logLevel, "info");
    assert.equal(cfg.peers, undefined);
    assert.deepEqual(cfg.operatorTargets, [{ host: "127.0.0.1", port: 7946 }]);
  });

  it("defaults --host to the machine's host name and reads VMKEEPER_* (flags win)", () => {
    const cfg = parseAgentConfig(["--interval-ms", "200"], { VMKEEPER_CLOUD: "lab", VMKEEPER_OPERATOR_TARGETS: "op.svc:7946,10.0.0.1:7946", VMKEEPER_KEY_FILE: "/k", VMKEEPER_INTERVAL_MS: "500", VMKEEPER_PEERS: "c2=10.0.0.2:7947" });
    assert.ok(cfg !== "help");
    assert.ok(cfg.host.length > 0);
    assert.equal(cfg.intervalMs, 200);
    assert.equal(cfg.peerWindowMs, 600);
    assert.equal(cfg.operatorTargets.length, 2);
    assert.deepEqual(cfg.peers?.map((p) => p.host), ["c2"]);
  });

  it("reports every problem at once", () => {
    const p = problems(["--interval-ms", "50", "--listen-address", "host:1", "--log-level", "loud", "--peers", "x", "--peers-file", "/p", "--operator-targets", "nope"]);
    const expected = [/--operator-targets: "nope"/, /--interval-ms: "50"/, /--peers: "x" is not host=addr:port/, /--cloud: required/, /--key-file: required/, /--listen-address/, /--log-level/];
    for (const re of expected) assert.ok(p.some((m) => re.test(m)), `${re} in ${JSON.stringify(p)}`);
  });

  it("requires operator targets and rejects a window shorter than two intervals", () => {
    assert.ok(problems(["--cloud", "lab", "--key-file", "/k"]).some((m) => m.startsWith("--operator-targets: required")));
    assert.ok(problems([...BASE, "--peer-window-ms", "1500"]).some((m) => m.startsWith("--peer-window-ms")));
    assert.ok(problems([...BASE, "--peers", "a=1.1.1.1:1", "--peers-file", "/p"]).some((m) => /mutually exclusive/.test(m)));
    assert.ok(problems([...BASE, "--cloud", "has space"]).some((m) => m.startsWith("--cloud")));
  });

  it("unknown flags are configuration errors; --help is not", () => {
    assert.throws(() => parseAgentConfig(["--bogus"], {}), AgentConfigError);
    assert.equal(parseAgentConfig(["--help"], {}), "help");
  });
});
