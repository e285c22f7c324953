import assert from "node:assert/strict";
import type { IpmiTarget } from "../../../src/fencing/device-targets.js";
import { FenceDeviceError } from "../../../src/fencing/fence-device.js";
import { checkIpmiTarget, ipmiDescription, ipmitoolArgs, ipmitoolTiming } from "../../../src/fencing/devices/ipmi-args.js";
import { classifyIpmitoolFailure, isIpmiPowerAck, parseIpmiPowerStatus } from "../../../src/fencing/devices/ipmi-output.js";

const PASSWORD = "Tr0ub4dor&3";

function target(over: Partial<IpmiTarget> = {}): IpmiTarget {
  return {
    kind: "IPMI",
    address: "10.0.0.5",
    port: 623,
    interface: "Lanplus",
    privilegeLevel: "Operator",
    credentials: { username: "fencer", password: PASSWORD },
    ...over,
  };
}

// What ipmitool 1.8.19 (Debian bookworm) printed against OpenIPMI's ipmi_sim, with -v.
const STDERR = {
  lanplusWrongPassword: "Loading IANA PEN Registry...\nUnable to Get Channel Cipher Suites\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n",
  lanplusWrongUser: "Loading IANA PEN Registry...\nUnable to Get Channel Cipher Suites\nRAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session\n",
  lanWrongPassword: "Loading IANA PEN Registry...\nActivate Session command failed\nError: Unable to establish LAN session\nError: Unable to establish IPMI v1.5 / RMCP session\n",
  lanWrongUser: "Invalid user name\nError: Unable to establish LAN session\nError: Unable to establish IPMI v1.5 / RMCP session\n",
  lanplusSilent: "Loading IANA PEN Registry...\nGet Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session\n",
  lanSilent: "Loading IANA PEN Registry...\nGet Auth Capabilities command failed\nError: Unable to establish LAN session\nError: Unable to establish IPMI v1.5 / RMCP session\n",
};

describe("ipmi device: ipmitool argv", () => {
  it("passes the password through the environment (-E), never in argv", () => {
    const args = ipmitoolArgs(target(), "off", 20_000);
    assert.ok(args.includes("-E"));
    assert.ok(!args.includes("-P"));
    assert.ok(!args.some((a) => a.includes(PASSWORD)));
    assert.deepEqual(args.slice(-2), ["power", "off"]);
  });

  it("maps interface, privilege level and cipher suite", () => {
    const plus = ipmitoolArgs(target({ cipherSuite: 17, privilegeLevel: "Administrator" }), "status", 20_000);
    assert.deepEqual(plus.slice(0, 10), ["-I", "lanplus", "-H", "10.0.0.5", "-p", "623", "-U", "fencer", "-L", "ADMINISTRATOR"]);
    assert.deepEqual(plus.slice(10, 12), ["-C", "17"]);
    const lan = ipmitoolArgs(target({ interface: "Lan", cipherSuite: 3, privilegeLevel: "User" }), "on", 20_000);
    assert.equal(lan[1], "lan");
    assert.ok(lan.includes("USER"));
    assert.ok(!lan.includes("-C"), "lan has no cipher suites");
  });

  it("leaves -U out for the anonymous (empty) user", () => {
    assert.ok(!ipmitoolArgs(target({ credentials: { username: "", password: "x" } }), "status", 20_000).includes("-U"));
  });

  it("sizes ipmitool's own timeout so it gives up within the command budget", () => {
    for (const budget of [1_000, 3_000, 6_000, 20_000, 60_000, 600_000]) {
      const t = ipmitoolTiming(budget);
      assert.ok(t.timeoutSeconds >= 1 && t.timeoutSeconds <= 10);
      if (budget >= 3_000) assert.ok(t.timeoutSeconds * (t.retries + 1) * 1000 < budget, `budget ${budget}`);
    }
  });

  it("refuses targets ipmitool would misread", () => {
    const bad: Partial<IpmiTarget>[] = [{ address: "" }, { address: "-oProxy" }, { address: "a b" }, { port: 0 }, { port: 70000 }, { cipherSuite: -1 }, { credentials: { username: "a\nb", password: "x" } }];
    for (const b of bad) assert.throws(() => checkIpmiTarget(target(b)), (e: unknown) => e instanceof FenceDeviceError && e.reason === "Config", JSON.stringify(b));
  });

  it("describes the BMC without credentials, IPv6 in brackets", () => {
    assert.equal(ipmiDescription(target()), "ipmi lanplus 10.0.0.5:623");
    assert.equal(ipmiDescription(target({ address: "fd00::5", interface: "Lan" })), "ipmi lan [fd00::5]:623");
  });
});

describe("ipmi device: ipmitool output", () => {
  it("reads Chassis Power is on|off", () => {
    assert.equal(parseIpmiPowerStatus("Chassis Power is on\n"), "On");
    assert.equal(parseIpmiPowerStatus("Chassis Power is off\n"), "Off");
    assert.equal(parseIpmiPowerStatus("Chassis Power is   OFF"), "Off");
    assert.equal(parseIpmiPowerStatus("Chassis Power is onward"), undefined);
    assert.equal(parseIpmiPowerStatus(""), undefined);
  });

  it("recognises power control acknowledgements", () => {
    assert.ok(isIpmiPowerAck("Chassis Power Control: Down/Off\n", "Off"));
    assert.ok(isIpmiPowerAck("Chassis Power Control: Up/On\n", "On"));
    assert.ok(!isIpmiPowerAck("Chassis Power Control: Up/On\n", "Off"));
    assert.ok(!isIpmiPowerAck("", "On"));
  });

  it("tells a refused login from a silent BMC, though both end in 'Unable to establish'", () => {
    for (const k of ["lanplusWrongPassword", "lanplusWrongUser", "lanWrongPassword", "lanWrongUser"] as const) {
      assert.equal(classifyIpmitoolFailure(STDERR[k], "", PASSWORD).reason, "AuthFailed", k);
    }
    for (const k of ["lanplusSilent", "lanSilent"] as const) assert.equal(classifyIpmitoolFailure(STDERR[k], "", PASSWORD).reason, "Unreachable", k);
    assert.equal(classifyIpmitoolFailure("Address lookup for bmc.example failed\n", "", PASSWORD).reason, "Unreachable");
    const suite17 = "Error in open session response message : invalid authentication algorithm\nError: Unable to establish IPMI v2 / RMCP+ session\n";
    assert.equal(classifyIpmitoolFailure(suite17, "", PASSWORD).reason, "Config");
    assert.equal(classifyIpmitoolFailure("Error in open session response message : unauthorized role or privilege level requested\n", "", PASSWORD).reason, "AuthFailed");
    assert.equal(classifyIpmitoolFailure("Set Chassis Power Control to Down/Off failed: Unknown (0xff)\n", "", PASSWORD).reason, "Protocol");
  });

  it("keeps ipmitool's words but not its noise, and never the password", () => {
    const f = classifyIpmitoolFailure(STDERR.lanplusWrongPassword, "", PASSWORD);
    assert.equal(f.detail, "RAKP 2 HMAC is invalid; Unable to establish IPMI v2 / RMCP+ session");
    const echoed = classifyIpmitoolFailure(`Error: bad password ${PASSWORD}\n`, "", PASSWORD);
    assert.ok(!echoed.detail.includes(PASSWORD));
    assert.match(echoed.detail, /\*\*\*/);
  });
});
