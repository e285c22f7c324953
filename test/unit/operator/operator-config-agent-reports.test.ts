import assert from "node:assert/strict";
import { parseOperatorConfig } from "../../../src/operator/operator-config.js";

const env = { POD_NAMESPACE: "vmkeeper-system", POD_NAME: "vmkeeper-0" };
const base = ["--heartbeat-bind-address="];

describe("operator flags: agent report endpoint", () => {
  it("is off by default", () => {
    const cfg = parseOperatorConfig(base, env);
    assert.ok(cfg !== "help");
    assert.equal(cfg.agentReportsBindAddress, "");
    assert.equal(cfg.agentReportsInsecureHttp, false);
  });

  it("takes the address, TLS files and token file", () => {
    const cfg = parseOperatorConfig([...base, "--agent-reports-bind-address=0.0.0.0:8443", "--agent-reports-tls-cert-file=/t/tls.crt", "--agent-reports-tls-key-file=/t/tls.key", "--agent-reports-token-file=/k/tokens"], env);
    assert.ok(cfg !== "help");
    assert.deepEqual([cfg.agentReportsBindAddress, cfg.agentReportsTlsCertFile, cfg.agentReportsTlsKeyFile, cfg.agentReportsTokenFile], ["0.0.0.0:8443", "/t/tls.crt", "/t/tls.key", "/k/tokens"]);
  });

  it("requires the token file and TLS files, unless plain HTTP is asked for explicitly", () => {
    assert.throws(() => parseOperatorConfig([...base, "--agent-reports-bind-address=0.0.0.0:8443"], env), (e: Error) => /--agent-reports-token-file: required/.test(e.message) && /--agent-reports-tls-cert-file and --agent-reports-tls-key-file: both required/.test(e.message));
    const plain = parseOperatorConfig([...base, "--agent-reports-bind-address=127.0.0.1:0", "--agent-reports-token-file=/k", "--agent-reports-insecure-http=true"], env);
    assert.ok(plain !== "help" && plain.agentReportsInsecureHttp);
  });

  it("refuses a bad address, plain HTTP with TLS files, and plain HTTP without the endpoint", () => {
    assert.throws(() => parseOperatorConfig([...base, "--agent-reports-bind-address=nope", "--agent-reports-token-file=/k", "--agent-reports-insecure-http=true"], env), /is not HOST:PORT/);
    assert.throws(() => parseOperatorConfig([...base, "--agent-reports-bind-address=:8443", "--agent-reports-token-file=/k", "--agent-reports-insecure-http=true", "--agent-reports-tls-cert-file=/c"], env), /conflicts with/);
    assert.throws(() => parseOperatorConfig([...base, "--agent-reports-insecure-http=true"], env), /needs --agent-reports-bind-address/);
    assert.throws(() => parseOperatorConfig([...base, "--agent-reports-insecure-http=maybe"], env), /must be true or false/);
  });

  it("reads the environment too", () => {
    const cfg = parseOperatorConfig(base, { ...env, VMKEEPER_AGENT_REPORTS_BIND_ADDRESS: "0.0.0.0:9443", VMKEEPER_AGENT_REPORTS_TOKEN_FILE: "/k", VMKEEPER_AGENT_REPORTS_TLS_CERT_FILE: "/c", VMKEEPER_AGENT_REPORTS_TLS_KEY_FILE: "/k2" });
    assert.ok(cfg !== "help");
    assert.equal(cfg.agentReportsBindAddress, "0.0.0.0:9443");
  });
});
