import assert from "node:assert/strict";
import { TransportError, type TransportErrorKind } from "../../../src/openstack/http-transport.js";
import { authFailure, redactSecrets, redfishErrorMessage, transportFailure, unexpectedStatus } from "../../../src/fencing/devices/redfish-errors.js";

const ctx = { endpoint: "10.0.0.5:443", request: "GET /redfish/v1/Systems/1" };
const fail = (kind: TransportErrorKind, code?: string): { reason: string; message: string } => {
  const e = transportFailure(new TransportError(kind, `raw ${kind} text`, code), ctx);
  return { reason: e.reason, message: e.message };
};

describe("Redfish errors", () => {
  it("maps connection failures to Unreachable with plain words", () => {
    for (const [code, words] of [
      ["ECONNREFUSED", "connection refused"],
      ["ECONNRESET", "connection reset"],
      ["ENOTFOUND", "host name not found"],
      ["EAI_AGAIN", "host name lookup failed"],
      ["EHOSTUNREACH", "host unreachable"],
      ["ENETUNREACH", "network unreachable"],
    ] as const) {
      assert.deepEqual(fail("connection", code), { reason: "Unreachable", message: `Redfish BMC 10.0.0.5:443 unreachable: ${words} (${code}) on GET /redfish/v1/Systems/1` });
    }
    assert.equal(fail("connection").message, "Redfish BMC 10.0.0.5:443 unreachable: connection failed on GET /redfish/v1/Systems/1");
  });

  it("maps timeout, abort, oversize, bad URL", () => {
    assert.equal(fail("timeout").reason, "Timeout");
    assert.equal(fail("aborted").reason, "Aborted");
    assert.equal(fail("too-large").reason, "Protocol");
    assert.equal(fail("invalid-url").reason, "Config");
  });

  it("maps TLS failures to Protocol with a hint on what to set", () => {
    assert.deepEqual(fail("tls", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"), {
      reason: "Protocol",
      message: "Redfish BMC 10.0.0.5:443: TLS handshake failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE) on GET /redfish/v1/Systems/1: the certificate is not trusted; set caBundle to the BMC's CA, or insecureSkipTLSVerify",
    });
    assert.match(fail("tls", "ERR_TLS_CERT_ALTNAME_INVALID").message, /does not name this address/);
    assert.match(fail("tls", "ERR_SSL_WRONG_VERSION_NUMBER").message, /does not speak HTTPS/);
    assert.deepEqual(fail("connection", "EPROTO").reason, "Protocol");
    assert.match(fail("connection", "EPROTO").message, /does not speak HTTPS/);
  });

  it("names the user on 401 and 403, quoted and shortened", () => {
    const e401 = authFailure(401, "admin", ctx);
    assert.equal(e401.reason, "AuthFailed");
    assert.equal(e401.message, 'Redfish BMC 10.0.0.5:443 rejected user "admin" (HTTP 401) on GET /redfish/v1/Systems/1: check the username and password');
    const e403 = authFailure(403, "viewer", { ...ctx, request: "POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset" });
    assert.equal(e403.reason, "AuthFailed");
    assert.match(e403.message, /user "viewer" is not allowed to POST .* \(HTTP 403\)/);
    assert.ok(authFailure(401, "u".repeat(200), ctx).message.length < 200);
  });

  it("extracts the BMC's message from Redfish error bodies", () => {
    assert.equal(redfishErrorMessage(JSON.stringify({ error: { message: "General error", "@Message.ExtendedInfo": [{ Message: "The  request\nfailed." }] } })), "The request failed.");
    assert.equal(redfishErrorMessage(JSON.stringify({ error: { message: "Only this" } })), "Only this");
    assert.equal(redfishErrorMessage(JSON.stringify({ error: {} })), undefined);
    assert.equal(redfishErrorMessage("<html>oops</html>"), undefined);
    assert.equal(redfishErrorMessage(JSON.stringify({ error: { message: "x".repeat(500) } }))?.length, 200);
    assert.equal(unexpectedStatus(502, "<html>", ctx).message, "Redfish BMC 10.0.0.5:443: HTTP 502 on GET /redfish/v1/Systems/1");
    assert.equal(unexpectedStatus(500, JSON.stringify({ error: { message: "boom" } }), ctx).message, "Redfish BMC 10.0.0.5:443: HTTP 500 on GET /redfish/v1/Systems/1: boom");
  });

  it("redacts every occurrence of every secret", () => {
    assert.equal(redactSecrets("pw s3cret and token tok-1 and s3cret", ["s3cret", "tok-1"]), "pw *** and token *** and ***");
    assert.equal(redactSecrets("a b", ["", "a"]), "a b");
  });
});
