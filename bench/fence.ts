// npm run bench:fence — time to fenced per device kind, against the local BMC peers.
//
// For each device kind, RUNS times: the peer's power is switched On by hand, then vmkeeper's
// fencing engine (src/fencing/fence-host.ts, the code the Incident workflow runs, with its
// default 1 s read-back poll) fences the host through one level holding that one device.
// Time to fenced = from the start of the operation until power was read back Off by the
// device. Peers: OpenIPMI ipmi_sim (IPMI over LAN), driven by ipmitool and by fence_ipmilan;
// sushy-tools (Redfish, HTTPS with Basic auth), driven by the native client and by
// fence_redfish. Prints p50 and max per kind, and a JSON line for docs/benchmarks.md.
import { fenceHost } from "../src/fencing/fence-host.js";
import { createDeviceFactory } from "../src/fencing/fence-device-factory.js";
import type { PowerDeviceTarget } from "../src/fencing/device-targets.js";
import type { ResolvedHostFencing } from "../src/fencing/resolved-levels.js";
import type { HostFencingLevelDeviceKind } from "../src/api/v1alpha1/index.js";
import { SystemClock } from "../src/util/clock.js";
import { ensureFencingPeers, startIpmiSim } from "../test/support/ipmi-sim.js";
import { startRedfishEmulator } from "../test/support/redfish-emulator.js";

const RUNS = Number(process.env.FENCE_RUNS ?? 10);

interface Case {
  name: string;
  kind: HostFencingLevelDeviceKind;
  target: PowerDeviceTarget;
  powerOn: () => Promise<void>;
  powerState: () => Promise<"On" | "Off">;
}

function plan(c: Case): ResolvedHostFencing {
  return {
    hostFencing: "bench",
    host: "bench.compute-1",
    serviceHost: "compute-1",
    operationDeadlineMs: 120_000,
    levels: [{ name: "only", devices: [{ level: "only", name: c.name, kind: c.kind, timeoutMs: 60_000, retries: 0, retryIntervalMs: 1000, target: c.target }] }],
  };
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function measure(c: Case): Promise<number[]> {
  const clock = new SystemClock();
  const engine = { clock, deviceFor: createDeviceFactory({ clock }) };
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await c.powerOn();
    const started = performance.now();
    const result = await fenceHost(plan(c), engine, new AbortController().signal);
    const ms = performance.now() - started;
    if (!result.fenced) throw new Error(`${c.name}: not fenced: ${result.message}`);
    if ((await c.powerState()) !== "Off") throw new Error(`${c.name}: fenced, but the peer's power is not Off`);
    times.push(ms);
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  await ensureFencingPeers();
  const ipmi = await startIpmiSim();
  const redfish = await startRedfishEmulator();
  const systemId = redfish.systemIds[0] ?? "";
  const ipmiOn = (): Promise<void> => ipmi.setPowerState("On");
  const redfishOn = (): Promise<void> => redfish.setPowerState(systemId, "On");
  const cases: Case[] = [
    {
      name: "ipmi (ipmitool lanplus → ipmi_sim)",
      kind: "IPMI",
      target: { kind: "IPMI", address: ipmi.address, port: ipmi.port, interface: "Lanplus", privilegeLevel: "Administrator", cipherSuite: 3, credentials: { username: ipmi.username, password: ipmi.password } },
      powerOn: ipmiOn,
      powerState: () => ipmi.powerState().then((s) => (s === "Off" ? "Off" : "On")),
    },
    {
      name: "fenceAgent (fence_ipmilan → ipmi_sim)",
      kind: "FenceAgent",
      target: { kind: "FenceAgent", agent: "fence_ipmilan", options: [{ name: "ip", value: ipmi.address }, { name: "ipport", value: String(ipmi.port) }, { name: "lanplus" }, { name: "cipher", value: "3" }], credentials: { username: ipmi.username, password: ipmi.password } },
      powerOn: ipmiOn,
      powerState: () => ipmi.powerState().then((s) => (s === "Off" ? "Off" : "On")),
    },
    {
      name: "redfish (native HTTPS client → sushy-tools)",
      kind: "Redfish",
      target: redfish.target(),
      powerOn: redfishOn,
      powerState: () => redfish.powerState(systemId),
    },
    {
      name: "fenceAgent (fence_redfish → sushy-tools)",
      kind: "FenceAgent",
      target: {
        kind: "FenceAgent",
        agent: "fence_redfish",
        options: [{ name: "ip", value: redfish.address }, { name: "ipport", value: String(redfish.port) }, { name: "ssl-insecure" }, { name: "systems-uri", value: `/redfish/v1/Systems/${systemId}` }],
        credentials: { username: redfish.username, password: redfish.password },
      },
      powerOn: redfishOn,
      powerState: () => redfish.powerState(systemId),
    },
  ];
  const results: Record<string, { p50Ms: number; maxMs: number; runs: number }> = {};
  try {
    for (const c of cases) {
      const t = await measure(c);
      results[c.name] = { p50Ms: Math.round(pct(t, 50)), maxMs: Math.round(t.at(-1) ?? NaN), runs: t.length };
      console.log(`${c.name.padEnd(48)} time to fenced p50 ${String(results[c.name]?.p50Ms).padStart(5)} ms   max ${String(results[c.name]?.maxMs).padStart(5)} ms   (${t.length} runs)`);
    }
  } finally {
    await ipmi.stop();
    await redfish.stop();
  }
  console.log(JSON.stringify({ bench: "fence", runs: RUNS, results }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
