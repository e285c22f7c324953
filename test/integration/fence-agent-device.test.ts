import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FenceAgentTarget } from "../../src/fencing/device-targets.js";
import { FenceDeviceError } from "../../src/fencing/fence-device.js";
import { createFenceAgentDevice } from "../../src/fencing/devices/fence-agent-device.js";
import { fenceDeviceContract } from "../contract/fence-device-contract.js";
import { eventually } from "../support/eventually.js";
import { startIpmiSim, type IpmiSim } from "../support/ipmi-sim.js";

const signal = (): AbortSignal => new AbortController().signal;

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

/**
 * fence_ipmilan over lanplus. `cipher=3` because ipmi_sim does not answer ipmitool's cipher
 * suite probe (each ipmitool run would first wait out its timeout); power_timeout is short so
 * the lying-BMC case ends soon.
 */
function ipmilanTarget(sim: IpmiSim, password = sim.password, extra: FenceAgentTarget["options"] = []): FenceAgentTarget {
  return {
    kind: "FenceAgent",
    agent: "fence_ipmilan",
    options: [{ name: "ip", value: sim.address }, { name: "ipport", value: String(sim.port) }, { name: "lanplus" }, { name: "cipher", value: "3" }, { name: "power_timeout", value: "4" }, ...extra],
    credentials: { username: sim.username, password },
  };
}

/**
 * With `verbose_level=2` fence_ipmilan passes `-v` to ipmitool and logs its output, so a refused
 * login shows as `RAKP 2 HMAC is invalid` and is AuthFailed; without it fence_ipmilan says only
 * "Unable to obtain correct plug status" (see the wrong-password test below).
 */
fenceDeviceContract("FenceAgent, fence_ipmilan lanplus against OpenIPMI ipmi_sim", async () => {
  const sim = await startIpmiSim();
  const wrong = "not-the-pw-42";
  const verbose = [{ name: "verbose_level", value: "2" }];
  return {
    device: createFenceAgentDevice(ipmilanTarget(sim, sim.password, verbose)),
    wrongPasswordDevice: createFenceAgentDevice(ipmilanTarget(sim, wrong, verbose)),
    secrets: [sim.password, wrong],
    username: sim.username,
    peerPowerState: () => sim.powerState(),
    powerChangeTimeoutMs: 10_000,
    close: () => sim.stop(),
  };
});

describe("fence agent device: fence_ipmilan (fence-agents 4.12) against a real IPMI BMC (ipmi_sim)", function () {
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

  it("reads status (exit 0 = On, 2 = Off) and switches power off and on", async () => {
    const device = createFenceAgentDevice(ipmilanTarget(sim));
    assert.equal(await device.powerState(signal()), "On");
    await device.setPower("Off", signal());
    assert.equal(await sim.powerState(), "Off");
    assert.equal(await device.powerState(signal()), "Off");
    await device.setPower("On", signal());
    assert.equal(await sim.powerState(), "On");
    assert.equal(await device.powerState(signal()), "On");
  });

  it("reads the spec's options, privilege level included, from standard input", async () => {
    const device = createFenceAgentDevice(ipmilanTarget(sim, sim.password, [{ name: "privlvl", value: "operator" }]));
    await sim.setPowerState("Off");
    assert.equal(await device.powerState(signal()), "Off");
  });

  it("fails with a wrong password without showing it", async () => {
    const wrong = "WrongPass-7zk";
    const device = createFenceAgentDevice(ipmilanTarget(sim, wrong));
    const requests = (await sim.powerRequests()).length;
    const err = await failure(device.setPower("Off", signal()));
    // fence_ipmilan reports a refused login as "Unable to obtain correct plug status" (its
    // EC_STATUS), the same words as for a BMC that answers nonsense: Protocol, not AuthFailed.
    assert.ok(["AuthFailed", "Protocol"].includes(err.reason), `${err.reason}: ${err.message}`);
    assert.match(err.message, /fence_ipmilan/);
    assertNoSecret(err, wrong, sim.password);
    assert.equal((await sim.powerRequests()).length, requests);
    assert.equal(await sim.powerState(), "On");
  });

  it("the lying BMC: the agent waits for Off, gives up, and says PowerStillOn", async () => {
    await sim.setLying(true);
    const device = createFenceAgentDevice(ipmilanTarget(sim));
    const err = await failure(device.setPower("Off", signal()));
    assert.equal(err.reason, "PowerStillOn", err.message);
    assert.equal(await sim.powerState(), "On");
    assert.ok((await sim.powerRequests()).includes("off"));
  });
});

describe("fence agent device: what the agent is given (fake agent)", function () {
  this.timeout(30_000);
  let dir: string;
  const password = "pw only on stdin 42";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vmkeeper-fake-agent-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function fakeAgent(name: string, body: string): Promise<void> {
    const file = join(dir, name);
    await writeFile(file, `#!/bin/sh\ndir=$(dirname "$0")\n${body}\n`);
    await chmod(file, 0o755);
  }

  const target = (agent: string, over: Partial<FenceAgentTarget> = {}): FenceAgentTarget => ({
    kind: "FenceAgent",
    agent,
    options: [{ name: "ip", value: "192.0.2.10" }, { name: "lanplus" }],
    credentials: { username: "fencer", password },
    ...over,
  });

  it("runs the agent without arguments and writes everything, the password too, to its stdin", async () => {
    await fakeAgent("fence_dump", `echo "$#" >"$dir/argc"\nprintf '%s\\n' "$0" "$@" >"$dir/argv"\ncat >"$dir/stdin"\nexit 2`);
    const device = createFenceAgentDevice(target("fence_dump"), { agentDir: dir });
    assert.equal(await device.powerState(signal()), "Off");
    assert.equal((await readFile(join(dir, "argc"), "utf8")).trim(), "0");
    assert.ok(!(await readFile(join(dir, "argv"), "utf8")).includes(password));
    assert.equal(await readFile(join(dir, "stdin"), "utf8"), `action=status\nip=192.0.2.10\nlanplus=1\nusername=fencer\npassword=${password}\n`);
    assert.doesNotMatch(device.description, /pw only/);
    assert.equal(device.description, "fence-agent fence_dump ip=192.0.2.10");
  });

  it("maps exit codes: status 0 = On; off 0 = done; off 1 = failure with the agent's ERROR line, scrubbed", async () => {
    await fakeAgent("fence_codes", `read -r first\ncase "$first" in\n  action=status) exit 0 ;;\n  action=on) exit 0 ;;\n  *) echo "2026-01-01 10:00:00,000 ERROR: Connection timed out talking with ${password}" >&2; exit 1 ;;\nesac`);
    const device = createFenceAgentDevice(target("fence_codes"), { agentDir: dir });
    assert.equal(await device.powerState(signal()), "On");
    await device.setPower("On", signal());
    const err = await failure(device.setPower("Off", signal()));
    assert.equal(err.reason, "Unreachable");
    assert.match(err.message, /off failed \(exit 1\): Connection timed out/);
    assertNoSecret(err, password);
  });

  it("kills a hung agent and its children, and says Timeout", async () => {
    await fakeAgent("fence_hang", `echo $$ >"$dir/hang.pid"\nsleep 60 &\necho $! >"$dir/hang-child.pid"\nwait`);
    const device = createFenceAgentDevice(target("fence_hang"), { agentDir: dir, commandTimeoutMs: 1_000 });
    const err = await failure(device.powerState(signal()));
    assert.equal(err.reason, "Timeout");
    const pids = [Number(await readFile(join(dir, "hang.pid"), "utf8")), Number(await readFile(join(dir, "hang-child.pid"), "utf8"))];
    const alive = async (pid: number): Promise<boolean> => {
      try {
        return !/^\d+ \(.*\) Z/.test(await readFile(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    await eventually(async () => assert.deepEqual(await Promise.all(pids.map(alive)), [false, false]), 5_000);
  });

  it("says to install the fence agents when the agent is missing", async () => {
    const err = await failure(createFenceAgentDevice(target("fence_missing"), { agentDir: dir }).powerState(signal()));
    assert.equal(err.reason, "Config");
    assert.match(err.message, /fence_missing not found .*apt-get install fence-agents/);
  });

  it("refuses action or password options and shell metacharacters before running anything", () => {
    for (const options of [[{ name: "action", value: "reboot" }], [{ name: "passwd", value: "x" }], [{ name: "ip", value: "10.0.0.1; reboot" }], [{ name: "ip", value: "10.0.0.1\naction=reboot" }]]) {
      assert.throws(() => createFenceAgentDevice(target("fence_dump", { options }), { agentDir: dir }), (e: unknown) => e instanceof FenceDeviceError && e.reason === "Config", JSON.stringify(options));
    }
  });

  it("stops at once when aborted", async () => {
    await fakeAgent("fence_slow", "exec sleep 60");
    const device = createFenceAgentDevice(target("fence_slow"), { agentDir: dir });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 200);
    const started = Date.now();
    const err = await failure(device.setPower("Off", ctl.signal));
    assert.equal(err.reason, "Aborted");
    assert.ok(Date.now() - started < 3_000);
  });
});
