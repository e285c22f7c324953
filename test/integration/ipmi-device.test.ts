import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IpmiTarget } from "../../src/fencing/device-targets.js";
import { FenceDeviceError, type FenceDevice } from "../../src/fencing/fence-device.js";
import { createIpmiDevice } from "../../src/fencing/devices/ipmi-device.js";
import { fenceDeviceContract } from "../contract/fence-device-contract.js";
import { eventually } from "../support/eventually.js";
import { freeUdpPort } from "../support/free-udp-port.js";
import { startIpmiSim, type IpmiSim } from "../support/ipmi-sim.js";

const signal = (): AbortSignal => new AbortController().signal;

/**
 * Cipher suite 3 by default: ipmi_sim 2.0.33 does not answer Get Channel Cipher Suites, so
 * ipmitool 1.8.19 without -C waits its -N timeout before it falls back to suite 3 (real BMCs
 * answer at once). One test below keeps the negotiation.
 */
function simTarget(sim: IpmiSim, over: Partial<IpmiTarget> = {}): IpmiTarget {
  return {
    kind: "IPMI",
    address: sim.address,
    port: sim.port,
    interface: "Lanplus",
    privilegeLevel: "Administrator",
    cipherSuite: 3,
    credentials: { username: sim.username, password: sim.password },
    ...over,
  };
}

async function failure(p: Promise<unknown>): Promise<FenceDeviceError> {
  try {
    await p;
  } catch (err: unknown) {
    if (err instanceof FenceDeviceError) return err;
    throw err;
  }
  assert.fail("expected a FenceDeviceError");
}

function assertNoSecret(err: FenceDeviceError, ...secrets: string[]): void {
  const everything = `${err.message}\n${err.stack ?? ""}\n${JSON.stringify(err)}`;
  for (const s of secrets) assert.ok(!everything.includes(s), `secret in error: ${err.message}`);
}

for (const iface of ["Lanplus", "Lan"] as const) {
  fenceDeviceContract(`IPMI, ipmitool ${iface.toLowerCase()} against OpenIPMI ipmi_sim`, async () => {
    const sim = await startIpmiSim();
    const wrong = "not-the-pw-42";
    return {
      device: createIpmiDevice(simTarget(sim, { interface: iface })),
      // IPMI 1.5 BMCs drop a wrongly signed Activate Session: ipmitool waits out -N, so keep it short.
      wrongPasswordDevice: createIpmiDevice(simTarget(sim, { interface: iface, credentials: { username: sim.username, password: wrong } }), { commandTimeoutMs: 6_000 }),
      secrets: [sim.password, wrong],
      username: sim.username,
      peerPowerState: () => sim.powerState(),
      powerChangeTimeoutMs: 10_000,
      close: () => sim.stop(),
    };
  });
}

describe("ipmi device: ipmitool against a real IPMI-over-LAN BMC (OpenIPMI ipmi_sim)", function () {
  this.timeout(120_000);
  let sim: IpmiSim;

  before(async function () {
    this.timeout(600_000); // a fresh machine installs openipmi, ipmitool and fence-agents first
    sim = await startIpmiSim();
  });
  after(async () => sim?.stop());
  beforeEach(async () => {
    await sim.setLying(false);
    await sim.setPowerState("On");
  });

  for (const iface of ["Lanplus", "Lan"] as const) {
    it(`reads status and switches power off and on (${iface})`, async () => {
      const device = createIpmiDevice(simTarget(sim, { interface: iface }));
      assert.equal(await device.powerState(signal()), "On");
      await device.setPower("Off", signal());
      assert.equal(await sim.powerState(), "Off");
      assert.equal(await device.powerState(signal()), "Off");
      await device.setPower("On", signal());
      assert.equal(await sim.powerState(), "On");
      assert.equal(await device.powerState(signal()), "On");
    });
  }

  it("sees power changed behind its back (someone pressed the button)", async () => {
    const device = createIpmiDevice(simTarget(sim));
    await sim.setPowerState("Off");
    assert.equal(await device.powerState(signal()), "Off");
  });

  it("works at the Operator privilege level", async () => {
    const device = createIpmiDevice(simTarget(sim, { privilegeLevel: "Operator" }));
    await device.setPower("Off", signal());
    assert.equal(await sim.powerState(), "Off");
  });

  it("lets ipmitool pick the cipher suite when none is set", async () => {
    const device = createIpmiDevice(simTarget(sim, { cipherSuite: undefined }), { commandTimeoutMs: 6_000 });
    assert.equal(await device.powerState(signal()), "On");
  });

  it("reports a cipher suite the BMC does not support as Config", async () => {
    const device = createIpmiDevice(simTarget(sim, { cipherSuite: 17 }));
    const err = await failure(device.powerState(signal()));
    assert.equal(err.reason, "Config", err.message);
    assert.match(err.message, /cipher suite/);
  });

  for (const iface of ["Lanplus", "Lan"] as const) {
    it(`reports a wrong password as AuthFailed without showing it (${iface})`, async () => {
      const wrong = "WrongPass-9xq";
      const device = createIpmiDevice(simTarget(sim, { interface: iface, credentials: { username: sim.username, password: wrong } }), { commandTimeoutMs: 6_000 });
      const requests = (await sim.powerRequests()).length;
      const err = await failure(device.setPower("Off", signal()));
      assert.equal(err.reason, "AuthFailed", err.message);
      assert.match(err.message, new RegExp(sim.username));
      assertNoSecret(err, wrong, sim.password);
      assert.equal((await sim.powerRequests()).length, requests, "the BMC must not have switched anything");
      assert.equal(await sim.powerState(), "On");
    });
  }

  it("reports a wrong user name as AuthFailed", async () => {
    const device = createIpmiDevice(simTarget(sim, { credentials: { username: "nobody", password: sim.password } }), { commandTimeoutMs: 6_000 });
    const err = await failure(device.setPower("Off", signal()));
    assert.equal(err.reason, "AuthFailed", err.message);
    assertNoSecret(err, sim.password);
    assert.equal(await sim.powerState(), "On");
  });

  it("reports a port nobody answers on as Unreachable, within the command timeout", async () => {
    const port = await freeUdpPort();
    const device = createIpmiDevice(simTarget(sim, { port }), { commandTimeoutMs: 6_000 });
    const started = Date.now();
    const err = await failure(device.powerState(signal()));
    const took = Date.now() - started;
    assert.equal(err.reason, "Unreachable", err.message);
    assert.ok(took < 6_000, `took ${took} ms`);
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assertNoSecret(err, sim.password);
  });

  it("the lying BMC: acknowledges power off, but power stays on", async () => {
    await sim.setLying(true);
    const device = createIpmiDevice(simTarget(sim));
    const before = (await sim.powerRequests()).length;
    await device.setPower("Off", signal());
    assert.deepEqual((await sim.powerRequests()).slice(before), ["off"]);
    assert.equal(await device.powerState(signal()), "On");
  });
});

describe("ipmi device: process handling (fake ipmitool)", function () {
  this.timeout(30_000);
  let dir: string;
  const target: IpmiTarget = {
    kind: "IPMI",
    address: "192.0.2.10",
    port: 623,
    interface: "Lanplus",
    privilegeLevel: "Operator",
    credentials: { username: "fencer", password: "pw-only-in-env-7" },
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vmkeeper-fake-ipmitool-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function fakeIpmitool(name: string, body: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, `#!/bin/sh\ndir=$(dirname "$0")\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  }

  /** Running (a zombie waiting for init to reap it counts as gone). */
  async function alive(pid: number): Promise<boolean> {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      return !/^\d+ \(.*\) Z/.test(stat);
    } catch {
      return false;
    }
  }

  it("gives ipmitool the password only in IPMI_PASSWORD, never in argv", async () => {
    const file = await fakeIpmitool("dump", `printf '%s\\n' "$@" >"$dir/argv"\nprintf '%s' "$IPMI_PASSWORD" >"$dir/env"\necho "Chassis Power is off"`);
    const device: FenceDevice = createIpmiDevice(target, { ipmitoolPath: file });
    assert.equal(await device.powerState(signal()), "Off");
    const argv = await readFile(join(dir, "argv"), "utf8");
    assert.ok(!argv.includes(target.credentials.password), argv);
    assert.match(argv, /^-E$/m);
    assert.equal(await readFile(join(dir, "env"), "utf8"), target.credentials.password);
  });

  it("kills a hung ipmitool and whatever it started, and says Timeout", async () => {
    const file = await fakeIpmitool("hang", `echo $$ >"$dir/hang.pid"\nsleep 60 &\necho $! >"$dir/hang-child.pid"\nwait`);
    const device = createIpmiDevice(target, { ipmitoolPath: file, commandTimeoutMs: 1_000 });
    const started = Date.now();
    const err = await failure(device.setPower("Off", signal()));
    assert.equal(err.reason, "Timeout", err.message);
    assert.ok(Date.now() - started < 5_000);
    const pids = [Number(await readFile(join(dir, "hang.pid"), "utf8")), Number(await readFile(join(dir, "hang-child.pid"), "utf8"))];
    await eventually(async () => assert.deepEqual(await Promise.all(pids.map(alive)), [false, false]), 5_000);
  });

  it("stops at once when aborted", async () => {
    const file = await fakeIpmitool("slow", `echo $$ >"$dir/slow.pid"\nexec sleep 60`);
    const device = createIpmiDevice(target, { ipmitoolPath: file, commandTimeoutMs: 30_000 });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 300);
    const err = await failure(device.powerState(ctl.signal));
    assert.equal(err.reason, "Aborted");
    const pid = Number(await readFile(join(dir, "slow.pid"), "utf8"));
    await eventually(async () => assert.equal(await alive(pid), false), 5_000);
    const already = await failure(device.powerState(AbortSignal.abort()));
    assert.equal(already.reason, "Aborted");
  });

  it("says to install ipmitool when it is missing", async () => {
    const device = createIpmiDevice(target, { ipmitoolPath: join(dir, "no-such-ipmitool") });
    const err = await failure(device.powerState(signal()));
    assert.equal(err.reason, "Config");
    assert.match(err.message, /install ipmitool/);
  });

  it("calls an unexpected answer a Protocol error, and scrubs a password it echoes", async () => {
    const file = await fakeIpmitool("odd", `echo "Hello $IPMI_PASSWORD"`);
    const err = await failure(createIpmiDevice(target, { ipmitoolPath: file }).powerState(signal()));
    assert.equal(err.reason, "Protocol");
    assertNoSecret(err, target.credentials.password);
  });
});
