import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PowerState } from "../../src/fencing/fence-device.js";
import { sleep } from "./eventually.js";
import { freeUdpPort } from "./free-udp-port.js";
import { ManagedProcess } from "./managed-process.js";
import { runCommand } from "./run-command.js";
import { REPO_ROOT } from "./test-assets.js";

export interface IpmiSimOptions {
  username?: string;
  /** At most 16 characters (IPMI 1.5 limit), letters, digits, `.`, `_`, `-`; random by default. */
  password?: string;
  initialPower?: "On" | "Off";
  ipmiSimPath?: string;
  ipmitoolPath?: string;
  /**
   * A shell command the BMC runs when it really cuts the power (not when lying), before the
   * power reads Off: what "the host's power is gone" means for the host it stands in for
   * (the Nova lab test kills a compute's processes with it).
   */
  onPowerOff?: string;
}

/** A real IPMI-over-LAN BMC (OpenIPMI's ipmi_sim) on 127.0.0.1 whose chassis power is a file. */
export interface IpmiSim {
  address: string;
  port: number;
  username: string;
  password: string;
  /** The simulated chassis power, as the BMC will report it. */
  powerState(): Promise<PowerState>;
  /** Someone pressed the power button (or the host came back by itself). */
  setPowerState(state: "On" | "Off"): Promise<void>;
  /** The "lying BMC": acknowledges power off but leaves the power on. */
  setLying(lying: boolean): Promise<void>;
  /** The power requests the BMC received, oldest first: `"off"` / `"on"`. */
  powerRequests(): Promise<string[]>;
  /** When the power was really cut (ms since the epoch), each time, oldest first. */
  powerOffTimes(): Promise<number[]>;
  /** Kills the ipmi_sim this call started (by its PID) and removes its folder. */
  stop(): Promise<void>;
  logTail(): string;
}

let peersInstalled: Promise<void> | undefined;

/**
 * ipmi_sim, ipmitool and the fence agents, installed by hack/install-fencing-peers.sh when
 * missing (it returns at once when all are there). Once per test process.
 */
export function ensureFencingPeers(): Promise<void> {
  peersInstalled ??= (async () => {
    const res = await runCommand("bash", [join(REPO_ROOT, "hack/install-fencing-peers.sh")], { timeoutMs: 10 * 60_000 });
    if (res.code !== 0) throw new Error(`hack/install-fencing-peers.sh failed (${res.code}):\n${res.stderr.slice(-4000)}`);
  })();
  return peersInstalled;
}

const CREDENTIAL = /^[A-Za-z0-9._-]{1,16}$/;

/**
 * OpenIPMI's chassis_control program (lanserv/ipmi_sim_chassiscontrol protocol): ipmi_sim runs
 * `<prog> <mc> get power` for Get Chassis Status (answer `power:1|0`) and
 * `<prog> <mc> set power 1|0` for Chassis Control. The state lives in `power` beside it; a
 * `lying` file makes it ignore power off.
 */
const CHASSIS_CONTROL = `#!/bin/sh
dir=$(dirname "$0")
shift
op=$1
shift
case "$op" in
  get)
    for parm in "$@"; do
      case "$parm" in
        power) echo "power:$(cat "$dir/power")" ;;
        boot) echo "boot:default" ;;
        *) echo "Invalid parameter: $parm"; exit 1 ;;
      esac
    done ;;
  set)
    while [ $# -ge 2 ]; do
      parm=$1; val=$2; shift 2
      case "$parm" in
        power)
          if [ "$val" = 0 ]; then echo off >>"$dir/requests"; else echo on >>"$dir/requests"; fi
          if [ "$val" = 0 ] && [ -e "$dir/lying" ]; then continue; fi
          if [ "$val" = 0 ] && [ "$(cat "$dir/power")" != 0 ]; then
            if [ -x "$dir/on-power-off" ]; then "$dir/on-power-off" >>"$dir/on-power-off.log" 2>&1; fi
            date +%s%3N >>"$dir/power-off-times"
          fi
          echo "$val" >"$dir/power.tmp" && mv "$dir/power.tmp" "$dir/power" ;;
        reset|boot|shutdown|identify) ;;
        *) echo "Invalid parameter: $parm"; exit 1 ;;
      esac
    done ;;
  *) echo "Unknown operation: $op"; exit 1 ;;
esac
`;

function lanConf(dir: string, port: number, username: string, password: string): string {
  return `name "vmkeeper-bmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback md2 md5 straight
    allowed_auths_user md2 md5 straight
    allowed_auths_operator md2 md5 straight
    allowed_auths_admin md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${join(dir, "chassis-control")} 0x20"
  user 2 true "${username}" "${password}" admin 10 md2 md5 straight
`;
}

/** One BMC at 0x20, enabled; no sensors or SDRs are needed for chassis power. */
const EMULATOR_COMMANDS = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02
mc_enable 0x20
`;

export async function startIpmiSim(opts: IpmiSimOptions = {}): Promise<IpmiSim> {
  const username = opts.username ?? "vmkeeper";
  const password = opts.password ?? `vk${randomBytes(6).toString("hex")}`;
  if (!CREDENTIAL.test(username) || !CREDENTIAL.test(password)) throw new Error("ipmi-sim: username and password must match ^[A-Za-z0-9._-]{1,16}$");
  if (opts.ipmiSimPath === undefined) await ensureFencingPeers();
  const dir = await mkdtemp(join(tmpdir(), "vmkeeper-ipmi-sim-"));
  const port = await freeUdpPort();
  await writeFile(join(dir, "chassis-control"), CHASSIS_CONTROL);
  await chmod(join(dir, "chassis-control"), 0o755);
  await writeFile(join(dir, "power"), opts.initialPower === "Off" ? "0\n" : "1\n");
  await writeFile(join(dir, "requests"), "");
  await writeFile(join(dir, "power-off-times"), "");
  if (opts.onPowerOff !== undefined) {
    await writeFile(join(dir, "on-power-off"), `#!/bin/sh\n${opts.onPowerOff}\n`);
    await chmod(join(dir, "on-power-off"), 0o755);
  }
  await writeFile(join(dir, "lan.conf"), lanConf(dir, port, username, password));
  await writeFile(join(dir, "bmc.emu"), EMULATOR_COMMANDS);
  await mkdir(join(dir, "state"));
  const proc = new ManagedProcess("ipmi_sim", opts.ipmiSimPath ?? "ipmi_sim", ["-c", join(dir, "lan.conf"), "-f", join(dir, "bmc.emu"), "-s", join(dir, "state"), "-n"], join(dir, "ipmi_sim.log"));
  proc.start();
  const sim: IpmiSim = {
    address: "127.0.0.1",
    port,
    username,
    password,
    powerState: async () => ((await readFile(join(dir, "power"), "utf8")).trim() === "0" ? "Off" : "On"),
    setPowerState: async (state) => {
      await writeFile(join(dir, "power.set"), state === "Off" ? "0\n" : "1\n");
      await rename(join(dir, "power.set"), join(dir, "power"));
    },
    setLying: async (lying) => (lying ? writeFile(join(dir, "lying"), "") : rm(join(dir, "lying"), { force: true })),
    powerRequests: async () => (await readFile(join(dir, "requests"), "utf8")).split("\n").filter((l) => l !== ""),
    powerOffTimes: async () => (await readFile(join(dir, "power-off-times"), "utf8")).split("\n").filter((l) => l !== "").map(Number),
    stop: async () => {
      await proc.stop("SIGTERM", 3000);
      await rm(dir, { recursive: true, force: true });
    },
    logTail: () => proc.logTail(),
  };
  try {
    await waitUntilAnswering(sim, proc, opts.ipmitoolPath ?? "ipmitool");
  } catch (err: unknown) {
    await sim.stop();
    throw err;
  }
  return sim;
}

/** Until `ipmitool power status` gets an answer (ipmi_sim binds in well under a second). */
async function waitUntilAnswering(sim: IpmiSim, proc: ManagedProcess, ipmitool: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  const args = ["-I", "lanplus", "-H", sim.address, "-p", String(sim.port), "-U", sim.username, "-E", "-N", "1", "-R", "1", "power", "status"];
  let last = "";
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(`ipmi_sim exited at start (code ${proc.exitCode()}): ${proc.logTail()}`);
    const res = await runCommand(ipmitool, args, { env: { ...process.env, IPMI_PASSWORD: sim.password }, timeoutMs: 10_000 });
    if (res.code === 0 && /Chassis Power is/.test(res.stdout)) return;
    last = `${res.stdout}${res.stderr}`.trim();
    await sleep(200);
  }
  throw new Error(`ipmi_sim on 127.0.0.1:${sim.port} did not answer: ${last}; log: ${proc.logTail()}`);
}
