import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { createRedfishDevice } from "../../src/fencing/devices/redfish-device.js";
import { assertNoSecrets, expectFenceError, fenceDeviceContract } from "../contract/fence-device-contract.js";
import { eventually, sleep } from "../support/eventually.js";
import { freePort } from "../support/free-port.js";
import { startRedfishEmulator, type RedfishEmulator } from "../support/redfish-emulator.js";

const signal = (): AbortSignal => AbortSignal.timeout(30_000);

// sushy-tools applies a power change 1 to 11 s after the Reset request.
const POWER_CHANGE_MS = 20_000;

fenceDeviceContract("Redfish, sushy-tools, Basic auth over HTTPS with a CA bundle", async () => {
  const emu = await startRedfishEmulator();
  const [id] = emu.systemIds;
  if (id === undefined) throw new Error("no system");
  const wrong = "not-the-password-42";
  return {
    device: createRedfishDevice(emu.target()),
    wrongPasswordDevice: createRedfishDevice(emu.target({ credentials: { username: emu.username, password: wrong } })),
    secrets: [emu.password, wrong],
    username: emu.username,
    peerPowerState: () => emu.powerState(id),
    powerChangeTimeoutMs: POWER_CHANGE_MS,
    close: () => emu.stop(),
  };
});

describe("Redfish device against sushy-tools", function () {
  this.timeout(120_000);
  let emu: RedfishEmulator;
  let plain: RedfishEmulator;
  let id: string;

  before(async function () {
    this.timeout(10 * 60_000);
    emu = await startRedfishEmulator({ systems: [{ powerState: "On" }] });
    plain = await startRedfishEmulator({ tls: false, systems: [{ name: "node-a", powerState: "On" }, { name: "node-b", powerState: "Off" }] });
    id = emu.systemIds[0] ?? "";
  });

  after(async () => {
    await emu?.stop();
    await plain?.stop();
  });

  describe("finding the system", () => {
    it("takes the only member of the Systems collection and names it in the description", async () => {
      const device = createRedfishDevice(emu.target());
      assert.equal(device.description, `redfish https://127.0.0.1:${emu.port}/redfish/v1/Systems`);
      assert.equal(await device.powerState(signal()), "On");
      assert.equal(device.description, `redfish https://127.0.0.1:${emu.port}/redfish/v1/Systems/${id}`);
      assertNoSecrets(device.description, [emu.password], "description");
    });

    it("uses systemId when given, over plain HTTP", async () => {
      const [a, b] = plain.systemIds;
      assert.equal(await createRedfishDevice(plain.target({ systemId: a })).powerState(signal()), "On");
      assert.equal(await createRedfishDevice(plain.target({ systemId: b })).powerState(signal()), "Off");
    });

    it("refuses to guess among two systems: Config, naming the count and the ids", async () => {
      const e = await expectFenceError(createRedfishDevice(plain.target()).powerState(signal()), "two systems");
      assert.equal(e.reason, "Config");
      assert.match(e.message, /has 2 systems in \/redfish\/v1\/Systems/);
      for (const sid of plain.systemIds) assert.ok(e.message.includes(sid), e.message);
      assert.match(e.message, /set systemId/);
    });

    it("reports a systemId the BMC does not have as Config", async () => {
      const e = await expectFenceError(createRedfishDevice(emu.target({ systemId: "no-such-system" })).setPower("Off", signal()), "unknown system");
      assert.equal(e.reason, "Config");
      assert.match(e.message, /no system "no-such-system"/);
      assert.equal(await emu.powerState(id), "On");
    });
  });

  describe("power", () => {
    it("sees power switched by hand, without a Redfish call", async () => {
      const device = createRedfishDevice(emu.target());
      await emu.setPowerState(id, "Off");
      assert.equal(await device.powerState(signal()), "Off");
      await emu.setPowerState(id, "On");
      assert.equal(await device.powerState(signal()), "On");
    });

    it("ForceOff, then On, through the action target, read back by the device and the emulator", async () => {
      const device = createRedfishDevice(emu.target({ systemId: id }));
      await device.setPower("Off", signal());
      await eventually(async () => assert.equal(await device.powerState(signal()), "Off"), POWER_CHANGE_MS, 250);
      assert.equal(await emu.powerState(id), "Off");
      await device.setPower("On", signal());
      await eventually(async () => assert.equal(await emu.powerState(id), "On"), POWER_CHANGE_MS, 250);
      assert.equal(await device.powerState(signal()), "On");
    });

    it("a lying BMC accepts ForceOff and nothing happens: power still reads On", async () => {
      const proxy = await emu.startLyingProxy();
      try {
        const device = createRedfishDevice(emu.target({ port: proxy.port }));
        await device.setPower("Off", signal());
        await sleep(1500);
        assert.equal(await device.powerState(signal()), "On");
        assert.equal(await emu.powerState(id), "On");
      } finally {
        await proxy.stop();
      }
    });
  });

  describe("credentials", () => {
    it("wrong password: AuthFailed naming the user, never the password", async () => {
      const wrong = "Wr0ng-secret-Pa55";
      const device = createRedfishDevice(emu.target({ credentials: { username: emu.username, password: wrong } }));
      for (const op of [() => device.powerState(signal()), () => device.setPower("Off", signal())]) {
        const e = await expectFenceError(op(), "wrong password");
        assert.equal(e.reason, "AuthFailed");
        assert.ok(e.message.includes(`"${emu.username}"`), e.message);
        assert.match(e.message, /HTTP 401/);
        assertNoSecrets(e.message, [wrong, emu.password], "AuthFailed message");
      }
      assert.equal(await emu.powerState(id), "On");
    });

    it("unknown user: AuthFailed", async () => {
      const e = await expectFenceError(createRedfishDevice(emu.target({ credentials: { username: "nobody", password: emu.password } })).powerState(signal()), "unknown user");
      assert.equal(e.reason, "AuthFailed");
      assert.match(e.message, /"nobody"/);
      assertNoSecrets(e.message, [emu.password], "AuthFailed message");
    });

    it("Session auth against a BMC without a SessionService: Config, telling to use Basic", async () => {
      const e = await expectFenceError(createRedfishDevice(emu.target({ authMethod: "Session" })).powerState(signal()), "no sessions");
      assert.equal(e.reason, "Config");
      assert.match(e.message, /offers no sessions .*use authMethod Basic/);
      assertNoSecrets(e.message, [emu.password], "Config message");
    });
  });

  describe("TLS", () => {
    it("verifies the BMC certificate against caBundle", async () => {
      assert.equal(await createRedfishDevice(emu.target({ caBundle: emu.caBundle })).powerState(signal()), "On");
    });

    it("refuses a certificate from another CA: Protocol, saying what to set", async () => {
      const e = await expectFenceError(createRedfishDevice(emu.target({ caBundle: emu.untrustedCaBundle })).powerState(signal()), "untrusted CA");
      assert.equal(e.reason, "Protocol");
      assert.match(e.message, /TLS handshake failed \([A-Z_]+\).*set caBundle/);
    });

    it("refuses it with the system CAs too", async () => {
      const target = emu.target();
      delete target.caBundle;
      const e = await expectFenceError(createRedfishDevice(target).powerState(signal()), "system CAs");
      assert.equal(e.reason, "Protocol");
      assert.match(e.message, /TLS handshake failed/);
    });

    it("insecureSkipTLSVerify accepts any certificate", async () => {
      const target = emu.target({ insecureSkipTLSVerify: true });
      delete target.caBundle;
      assert.equal(await createRedfishDevice(target).powerState(signal()), "On");
      assert.equal(await createRedfishDevice(emu.target({ insecureSkipTLSVerify: true, caBundle: emu.untrustedCaBundle })).powerState(signal()), "On");
    });

    it("HTTPS to a plain HTTP port: Protocol, saying so", async () => {
      const e = await expectFenceError(createRedfishDevice(plain.target({ scheme: "HTTPS", systemId: plain.systemIds[0] ?? "" })).powerState(signal()), "https to http");
      assert.equal(e.reason, "Protocol");
      assert.match(e.message, /does not speak HTTPS/);
    });
  });

  describe("network failures", () => {
    let blackHole: Server;
    let blackHolePort: number;
    const sockets = new Set<Socket>();

    before(async () => {
      // Accepts connections and never answers.
      blackHole = createServer((s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
      });
      await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
      const addr = blackHole.address();
      blackHolePort = typeof addr === "object" && addr ? addr.port : 0;
    });

    after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    });

    it("nothing listening: Unreachable", async () => {
      const port = await freePort();
      const e = await expectFenceError(createRedfishDevice(emu.target({ port })).powerState(signal()), "closed port");
      assert.equal(e.reason, "Unreachable");
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port} unreachable: connection refused \\(ECONNREFUSED\\)`));
    });

    it("a host name that does not resolve: Unreachable", async () => {
      const e = await expectFenceError(createRedfishDevice(emu.target({ address: "bmc.does-not-exist.invalid" })).powerState(signal()), "bad name");
      assert.equal(e.reason, "Unreachable");
      assert.match(e.message, /host name/);
    });

    it("no answer within requestTimeoutMs: Timeout", async () => {
      const started = Date.now();
      const e = await expectFenceError(createRedfishDevice(emu.target({ port: blackHolePort }), { requestTimeoutMs: 300 }).powerState(signal()), "black hole");
      assert.equal(e.reason, "Timeout");
      assert.ok(Date.now() - started < 5000);
    });

    it("the caller's signal aborts a request in flight: Aborted", async () => {
      const ctl = new AbortController();
      const pending = createRedfishDevice(emu.target({ port: blackHolePort })).setPower("Off", ctl.signal);
      setTimeout(() => ctl.abort(), 200);
      const e = await expectFenceError(pending, "abort in flight");
      assert.equal(e.reason, "Aborted");
    });
  });
});
