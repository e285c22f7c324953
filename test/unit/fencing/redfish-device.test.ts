import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { createRedfishDevice } from "../../../src/fencing/devices/redfish-device.js";
import { FenceDeviceError } from "../../../src/fencing/fence-device.js";
import { assertNoSecrets, expectFenceError } from "../../contract/fence-device-contract.js";
import { FakeBmc, type FakeBmcOptions } from "./redfish-fake-bmc.js";

const signal = (): AbortSignal => AbortSignal.timeout(5000);

describe("Redfish device (in-process fake BMC)", () => {
  const started: FakeBmc[] = [];
  const bmc = async (opts: FakeBmcOptions = {}): Promise<FakeBmc> => {
    const b = await new FakeBmc(opts).start();
    started.push(b);
    return b;
  };

  afterEach(async () => {
    await Promise.all(started.splice(0).map((b) => b.stop()));
  });

  describe("Session auth", () => {
    it("logs in once, then sends only X-Auth-Token, never Basic", async () => {
      const b = await bmc();
      const device = createRedfishDevice(b.target());
      assert.equal(await device.powerState(signal()), "On");
      await device.setPower("Off", signal());
      assert.equal(await device.powerState(signal()), "Off");
      assert.equal(b.issued.length, 1);
      const authed = b.requests.filter((r) => r.path !== "/redfish/v1/" && r.method !== "POST" && !r.path.includes("Sessions"));
      assert.ok(authed.length >= 3);
      for (const r of b.requests) assert.equal(r.basic, false, `${r.method} ${r.path} sent Basic`);
      for (const r of authed) assert.equal(r.token, b.issued[0]);
    });

    it("shares one login between concurrent calls", async () => {
      const b = await bmc();
      const device = createRedfishDevice(b.target());
      await device.powerState(signal());
      b.expireSessions();
      await Promise.all([device.powerState(signal()), device.powerState(signal()), device.setPower("On", signal())]);
      assert.equal(b.issued.length, 2);
    });

    it("logs in again once when the session expired", async () => {
      const b = await bmc();
      const device = createRedfishDevice(b.target());
      await device.powerState(signal());
      b.expireSessions();
      await device.setPower("Off", signal());
      assert.equal(b.powerState, "Off");
      assert.equal(b.issued.length, 2);
    });

    it("gives up with AuthFailed when a fresh token is rejected too, after exactly one new login", async () => {
      const b = await bmc();
      const device = createRedfishDevice(b.target());
      await device.powerState(signal());
      b.rejectTokens = true;
      const e = await expectFenceError(device.setPower("Off", signal()), "tokens rejected");
      assert.equal(e.reason, "AuthFailed");
      assert.equal(b.issued.length, 2);
      assert.equal(b.powerState, "On");
      assertNoSecrets(e.message, [b.password, ...b.issued], "AuthFailed message");
    });

    it("a wrong password at login is AuthFailed naming the user, never the password", async () => {
      const b = await bmc({ username: "fence-op" });
      const device = createRedfishDevice(b.target({ credentials: { username: "fence-op", password: "Wrong-Pass-123" } }));
      const e = await expectFenceError(device.powerState(signal()), "wrong password");
      assert.equal(e.reason, "AuthFailed");
      assert.match(e.message, /user "fence-op" \(HTTP 401\) on POST \/redfish\/v1\/SessionService\/Sessions/);
      assertNoSecrets(e.message, ["Wrong-Pass-123", b.password], "AuthFailed message");
    });

    it("logs in where Links.Sessions points, and at the standard path when only SessionService is linked", async () => {
      const custom = await bmc({ sessionsLink: "/redfish/v1/SessionService/Sessions" });
      await createRedfishDevice(custom.target()).powerState(signal());
      assert.equal(custom.count("POST", "/redfish/v1/SessionService/Sessions"), 1);
      const noLink = await bmc({ sessionsLink: null });
      assert.equal(await createRedfishDevice(noLink.target()).powerState(signal()), "On");
      assert.equal(noLink.count("POST", "/redfish/v1/SessionService/Sessions"), 1);
    });

    it("close() deletes the session; a later call logs in again", async () => {
      const b = await bmc();
      const device = createRedfishDevice(b.target());
      await device.powerState(signal());
      await device.close();
      assert.deepEqual(b.deleted, ["/redfish/v1/SessionService/Sessions/1"]);
      assert.equal(b.tokens.size, 0);
      await device.close();
      assert.equal(b.deleted.length, 1);
      assert.equal(await device.powerState(signal()), "On");
      assert.equal(b.issued.length, 2);
    });
  });

  describe("Basic auth", () => {
    it("sends Basic on every request but the service root, and no session", async () => {
      const b = await bmc();
      const device = createRedfishDevice(b.target({ authMethod: "Basic" }));
      await device.setPower("Off", signal());
      assert.equal(b.issued.length, 0);
      for (const r of b.requests) assert.equal(r.basic, r.path !== "/redfish/v1/", `${r.method} ${r.path}`);
      await device.close();
      assert.equal(b.deleted.length, 0);
    });
  });

  describe("reset types", () => {
    it("refuses to fence when the BMC does not allow ForceOff: Config, nothing posted", async () => {
      const b = await bmc({ allowableValues: ["On", "GracefulShutdown", "PowerCycle"] });
      const e = await expectFenceError(createRedfishDevice(b.target()).setPower("Off", signal()), "no ForceOff");
      assert.equal(e.reason, "Config");
      assert.match(e.message, /allows ResetType On, GracefulShutdown, PowerCycle, not ForceOff/);
      assert.equal(b.count("POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"), 0);
    });

    it("powers on with ForceOn or PushPowerButton when On is not allowed", async () => {
      const b = await bmc({ powerState: "Off", allowableValues: ["ForceOff", "PushPowerButton"] });
      await createRedfishDevice(b.target()).setPower("On", signal());
      assert.equal(b.powerState, "On");
      const posted = b.requests.find((r) => r.path.endsWith("ComputerSystem.Reset"));
      assert.deepEqual(JSON.parse(posted?.body ?? "{}"), { ResetType: "PushPowerButton" });
    });

    it("reads the allowable values from @Redfish.ActionInfo when they are not inline", async () => {
      const b = await bmc({ actionInfoValues: ["On", "GracefulShutdown"] });
      const e = await expectFenceError(createRedfishDevice(b.target()).setPower("Off", signal()), "ActionInfo without ForceOff");
      assert.equal(e.reason, "Config");
      assert.equal(b.count("GET", "/redfish/v1/Systems/1/ResetActionInfo"), 1);
    });

    it("accepts a 409 'already off' as done", async () => {
      const b = await bmc({ powerState: "Off", noopResetStatus: 409 });
      await createRedfishDevice(b.target()).setPower("Off", signal());
      assert.equal(b.powerState, "Off");
    });

    it("a refused reset is Protocol with the BMC's own message", async () => {
      const b = await bmc();
      b.resetOverride = { status: 400, body: JSON.stringify({ error: { "@Message.ExtendedInfo": [{ Message: "Power control is locked by policy." }] } }) };
      const e = await expectFenceError(createRedfishDevice(b.target()).setPower("Off", signal()), "refused");
      assert.equal(e.reason, "Protocol");
      assert.match(e.message, /HTTP 400 on POST \/redfish\/v1\/Systems\/1\/Actions\/ComputerSystem\.Reset: Power control is locked by policy\./);
    });

    it("posts to the action target's path on the configured BMC, whatever host the target names", async () => {
      const b = await bmc({ resetTarget: "https://elsewhere.invalid:8443/redfish/v1/Systems/1/Actions/ComputerSystem.Reset" });
      await createRedfishDevice(b.target()).setPower("Off", signal());
      assert.equal(b.powerState, "Off");
    });

    it("reports a system without a Reset action as Config", async () => {
      const b = await bmc();
      b.systemOverride = { status: 200, body: JSON.stringify({ Id: "1", PowerState: "On" }) };
      const e = await expectFenceError(createRedfishDevice(b.target()).setPower("Off", signal()), "no action");
      assert.equal(e.reason, "Config");
      assert.match(e.message, /offers no ComputerSystem\.Reset action/);
    });
  });

  describe("power states and answers", () => {
    for (const [raw, want] of [["PoweringOff", "On"], ["PoweringOn", "On"], ["Off", "Off"], [undefined, "Unknown"], ["Weird", "Unknown"]] as const) {
      it(`reads PowerState ${raw ?? "(absent)"} as ${want}`, async () => {
        const b = await bmc({ powerState: raw });
        assert.equal(await createRedfishDevice(b.target()).powerState(signal()), want);
      });
    }

    it("a body that is not JSON is Protocol", async () => {
      const b = await bmc();
      b.systemOverride = { status: 200, body: "<html>login</html>" };
      const e = await expectFenceError(createRedfishDevice(b.target()).powerState(signal()), "html");
      assert.equal(e.reason, "Protocol");
      assert.match(e.message, /GET \/redfish\/v1\/Systems\/1: answer is not JSON/);
    });

    it("an answer over 1 MiB is Protocol", async () => {
      const b = await bmc();
      b.systemOverride = { status: 200, body: JSON.stringify({ PowerState: "On", Pad: "x".repeat(1024 * 1024 + 10) }) };
      const e = await expectFenceError(createRedfishDevice(b.target()).powerState(signal()), "too large");
      assert.equal(e.reason, "Protocol");
      assert.match(e.message, /exceeds the size limit/);
    });

    it("an unexpected status is Protocol; a 404 for a cached system is Config and is rediscovered next time", async () => {
      const b = await bmc();
      const device = createRedfishDevice(b.target());
      await device.powerState(signal());
      b.systemOverride = { status: 500, body: JSON.stringify({ error: { message: "internal error" } }) };
      assert.equal((await expectFenceError(device.powerState(signal()), "500")).reason, "Protocol");
      b.systemOverride = { status: 404, body: "{}" };
      assert.equal((await expectFenceError(device.powerState(signal()), "404")).reason, "Config");
      b.systemOverride = undefined;
      const roots = b.count("GET", "/redfish/v1/");
      assert.equal(await device.powerState(signal()), "On");
      assert.equal(b.count("GET", "/redfish/v1/"), roots + 1);
    });
  });

  describe("secrets", () => {
    it("never puts the password or a session token into any message, even when the BMC echoes them", async () => {
      const b = await bmc();
      const device = createRedfishDevice(b.target());
      await device.powerState(signal());
      const token = b.issued[0] ?? "";
      const messages: string[] = [];
      const collect = async (p: Promise<unknown>): Promise<void> => {
        try {
          await p;
        } catch (e: unknown) {
          assert.ok(e instanceof FenceDeviceError);
          messages.push(e.message);
        }
      };
      b.resetOverride = { status: 400, body: JSON.stringify({ error: { message: `bad request from ${b.username}:${b.password} session ${token}` } }) };
      await collect(device.setPower("Off", signal()));
      b.systemOverride = { status: 500, body: JSON.stringify({ error: { message: `token ${token} password ${b.password}` } }) };
      await collect(device.powerState(signal()));
      b.systemOverride = undefined;
      b.rejectTokens = true;
      await collect(device.powerState(signal()));
      const basic = createRedfishDevice(b.target({ authMethod: "Basic", credentials: { username: b.username, password: "Other-Secret-9" } }));
      await collect(basic.powerState(signal()));
      const wrongLogin = createRedfishDevice(b.target({ credentials: { username: b.username, password: "Other-Secret-9" } }));
      await collect(wrongLogin.setPower("Off", signal()));
      assert.equal(messages.length, 5, messages.join("\n"));
      assert.ok(messages.some((m) => m.includes("***")), "the echoed secrets were scrubbed, not dropped silently");
      for (const m of messages) assertNoSecrets(m, [b.password, "Other-Secret-9", ...b.issued], "error message");
      assertNoSecrets(device.description, [b.password, ...b.issued], "description");
    });
  });

  describe("network", () => {
    it("a connection reset before any answer is Unreachable", async () => {
      const server = http.createServer((req) => req.socket.destroy());
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const port = (server.address() as AddressInfo).port;
        const e = await expectFenceError(createRedfishDevice(new FakeBmc().target({ port })).powerState(signal()), "reset");
        assert.equal(e.reason, "Unreachable");
        assert.match(e.message, /unreachable: connection reset \(ECONNRESET\)/);
      } finally {
        server.close();
      }
    });

    it("brackets an IPv6 address in the URL and the description", () => {
      const device = createRedfishDevice({ ...new FakeBmc().target({ address: "fd00::5", port: 443, scheme: "HTTPS", systemId: "System.Embedded.1" }) });
      assert.equal(device.description, "redfish https://[fd00::5]:443/redfish/v1/Systems/System.Embedded.1");
    });
  });
});
