import assert from "node:assert/strict";
import { ConfigError, parseBindAddress, parseOperatorConfig } from "../../../src/operator/operator-config.js";

describe("operator configuration", () => {
  it("has the documented defaults", () => {
    const cfg = parseOperatorConfig(["--heartbeat-key-file=/etc/vmkeeper/heartbeat/keys"], { POD_NAMESPACE: "vmkeeper-system", POD_NAME: "vmkeeper-0" });
    assert.ok(cfg !== "help");
    assert.equal(cfg.leaderElect, true);
    assert.equal(cfg.leaderElectionNamespace, "vmkeeper-system");
    assert.equal(cfg.identity, "vmkeeper-0");
    assert.deepEqual([cfg.leaseDurationSeconds, cfg.renewDeadlineSeconds, cfg.retryPeriodSeconds], [15, 10, 2]);
    assert.equal(cfg.metricsBindAddress, "0.0.0.0:8080");
    assert.equal(cfg.healthProbeBindAddress, "0.0.0.0:8081");
    assert.equal(cfg.namespace, undefined);
  });

  it("reads VMKEEPER_* environment variables, and flags win over them", () => {
    const cfg = parseOperatorConfig(["--workers=7", "--heartbeat-bind-address="], { VMKEEPER_WORKERS: "3", VMKEEPER_LOG_LEVEL: "debug", VMKEEPER_LEADER_ELECT: "false" });
    assert.ok(cfg !== "help");
    assert.equal(cfg.workers, 7);
    assert.equal(cfg.logLevel, "debug");
    assert.equal(cfg.leaderElect, false);
  });

  it("reports every problem at once, naming the flag", () => {
    try {
      parseOperatorConfig(["--workers=0", "--log-level=loud", "--metrics-bind-address=nope", "--renew-deadline-seconds=20"], {});
      assert.fail("expected a ConfigError");
    } catch (err: unknown) {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join("\n");
      assert.match(text, /--workers: "0"/);
      assert.match(text, /--log-level: "loud"/);
      assert.match(text, /--metrics-bind-address: "nope"/);
      assert.match(text, /--leader-election-namespace: required/);
      assert.match(text, /--lease-duration-seconds must be greater than --renew-deadline-seconds/);
    }
  });

  it("requires a heartbeat key file while the receiver is on, and accepts turning it off", () => {
    assert.throws(() => parseOperatorConfig([], { POD_NAMESPACE: "ns" }), /--heartbeat-key-file: required/);
    const off = parseOperatorConfig(["--heartbeat-bind-address="], { POD_NAMESPACE: "ns" });
    assert.ok(off !== "help");
    assert.equal(off.heartbeatBindAddress, "");
    const on = parseOperatorConfig(["--heartbeat-key-file=/k"], { POD_NAMESPACE: "ns" });
    assert.ok(on !== "help");
    assert.equal(on.heartbeatBindAddress, "0.0.0.0:7946");
    assert.equal(on.monitorIntervalMs, 500);
  });

  it("rejects unknown flags", () => {
    assert.throws(() => parseOperatorConfig(["--no-such-flag"], {}), /Unknown option '--no-such-flag'/);
  });

  it("parses bind addresses", () => {
    assert.deepEqual(parseBindAddress(":8080"), { host: "0.0.0.0", port: 8080 });
    assert.deepEqual(parseBindAddress("[::1]:9"), { host: "::1", port: 9 });
    assert.equal(parseBindAddress("127.0.0.1:70000"), undefined);
  });
});
