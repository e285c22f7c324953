import assert from "node:assert/strict";
import { fenceHost, powerOnHost, type FenceHostResult, type KdumpWatch } from "../../../src/fencing/fence-host.js";
import type { ResolvedDevice, ResolvedHostFencing } from "../../../src/fencing/resolved-levels.js";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { FakeFenceDevice } from "./fake-fence-device.js";

function device(level: string, name: string, extra: Partial<ResolvedDevice> = {}): ResolvedDevice {
  return { level, name, kind: "IPMI", timeoutMs: 10_000, retries: 1, retryIntervalMs: 2_000, target: { kind: "IPMI", address: "127.0.0.1", port: 623, interface: "Lanplus", privilegeLevel: "Administrator", credentials: { username: "u", password: "p" } }, ...extra };
}

function plan(levels: ResolvedDevice[][], deadlineMs = 300_000): ResolvedHostFencing {
  return { hostFencing: "rack-a", host: "lab.compute-1", serviceHost: "compute-1", operationDeadlineMs: deadlineMs, levels: levels.map((devices) => ({ name: devices[0]?.level ?? "", devices })) };
}

/** Runs the engine on a virtual clock, advancing time until it settles. */
async function run(p: ResolvedHostFencing, fakes: Map<string, FakeFenceDevice>, kdump?: KdumpWatch): Promise<{ result: FenceHostResult; elapsedMs: number }> {
  const clock = new FakeClock();
  let done: FenceHostResult | undefined;
  const promise = fenceHost(p, { clock, deviceFor: (d) => fakes.get(d.name) ?? assert.fail(`no fake ${d.name}`), ...(kdump ? { kdump } : {}), pollIntervalMs: 500 }, new AbortController().signal).then((r) => (done = r));
  for (let i = 0; i < 10_000 && !done; i++) await clock.advance(100);
  await promise;
  assert.ok(done, "engine did not settle");
  return { result: done, elapsedMs: clock.monotonicMs() };
}

const fakes = (...names: string[]): Map<string, FakeFenceDevice> => new Map(names.map((n) => [n, new FakeFenceDevice(n)]));

describe("fenceHost (levels, read-back, retries, deadline)", () => {
  it("passes the first level when its device reads back Off", async () => {
    const f = fakes("bmc");
    const { result } = await run(plan([[device("primary", "bmc")]]), f);
    assert.equal(result.fenced, true);
    assert.equal(result.level, "primary");
    assert.deepEqual(result.devices.map((d) => [d.device, d.result, d.powerState]), [["bmc", "Succeeded", "Off"]]);
    assert.deepEqual(f.get("bmc")?.calls, ["Off", "status"]);
  });

  it("escalates to the next level when the first is unreachable (F4), after its retries", async () => {
    const f = fakes("bmc", "pdu");
    f.get("bmc")!.failNext = ["Unreachable", "Unreachable"];
    const { result } = await run(plan([[device("primary", "bmc")], [device("secondary", "pdu")]]), f);
    assert.equal(result.fenced, true);
    assert.equal(result.level, "secondary");
    assert.deepEqual(result.devices.map((d) => [d.level, d.result, d.attempts]), [["primary", "Failed", 2], ["secondary", "Succeeded", 1]]);
  });

  it("needs every device of a level (dual power supplies)", async () => {
    const f = fakes("psu-a", "psu-b");
    f.get("psu-b")!.failNext = ["Protocol", "Protocol"];
    const { result } = await run(plan([[device("pdus", "psu-a"), device("pdus", "psu-b")]]), f);
    assert.equal(result.fenced, false);
    assert.match(result.message, /pdus\/psu-b: psu-b protocol/);
  });

  it("does not count a lying device that acknowledges and stays On (F5)", async () => {
    const f = fakes("bmc");
    f.get("bmc")!.lying = true;
    const { result } = await run(plan([[device("primary", "bmc", { retries: 0, timeoutMs: 5_000 })]]), f);
    assert.equal(result.fenced, false);
    assert.equal(result.devices[0]?.result, "TimedOut");
    assert.equal(result.devices[0]?.powerState, "On");
    assert.match(result.devices[0]?.message ?? "", /accepted power off but power still reads On/);
  });

  it("does not retry an authentication failure within one operation", async () => {
    const f = fakes("bmc");
    f.get("bmc")!.failNext = ["AuthFailed", "AuthFailed", "AuthFailed"];
    const { result } = await run(plan([[device("primary", "bmc", { retries: 3 })]]), f);
    assert.equal(result.devices[0]?.attempts, 1);
    assert.equal(result.fenced, false);
  });

  it("backs off between attempts, doubling the interval", async () => {
    const f = fakes("bmc");
    f.get("bmc")!.failNext = ["Unreachable", "Unreachable"];
    const { result, elapsedMs } = await run(plan([[device("primary", "bmc", { retries: 2, retryIntervalMs: 2_000 })]]), f);
    assert.equal(result.fenced, true);
    assert.ok(elapsedMs >= 6_000, `waited ${elapsedMs} ms, expected 2 s + 4 s of back-off`);
  });

  it("stops at the operation deadline with every device's state", async () => {
    const f = fakes("bmc", "pdu");
    f.get("bmc")!.hang = true;
    f.get("pdu")!.hang = true;
    const { result, elapsedMs } = await run(plan([[device("primary", "bmc", { timeoutMs: 60_000, retries: 5 })], [device("secondary", "pdu")]], 15_000), f);
    assert.equal(result.fenced, false);
    assert.ok(elapsedMs < 20_000, `took ${elapsedMs} ms`);
    assert.match(result.message, /fencing deadline of 15s passed/);
    assert.equal(result.devices[0]?.result, "TimedOut");
  });

  it("fails a device with a configuration error at once and moves on", async () => {
    const f = fakes("pdu");
    const { result } = await run(plan([[device("primary", "bmc", { configError: 'Secret "bmc" not found' })], [device("secondary", "pdu")]]), f);
    assert.equal(result.fenced, true);
    assert.deepEqual(result.devices[0], { level: "primary", device: "bmc", result: "Failed", message: 'Secret "bmc" not found', attempts: 0, time: result.devices[0]?.time });
  });

  it("kdump: no notice means no delay; an authenticated dump in progress delays power-off until it finishes (F21)", async () => {
    const kd = (dumping: boolean): KdumpWatch => ({ state: () => ({ dumping, finished: false }) });
    const kdumpDevice = device("primary", "kdump", { kind: "Kdump", kdump: { waitMs: 30_000, key: Buffer.from("0123456789abcdef") } });
    delete kdumpDevice.target;
    const quiet = await run(plan([[kdumpDevice, device("primary", "bmc")]]), fakes("bmc"), kd(false));
    assert.equal(quiet.result.fenced, true);
    assert.equal(quiet.result.devices[0]?.result, "Skipped");
    assert.ok(quiet.elapsedMs < 5_000);

    let calls = 0;
    const finishing: KdumpWatch = { state: () => ({ dumping: true, finished: ++calls > 5 }) };
    const dumping = await run(plan([[kdumpDevice, device("primary", "bmc")]]), fakes("bmc"), finishing);
    assert.equal(dumping.result.devices[0]?.result, "Succeeded");
    assert.ok(dumping.elapsedMs >= 4_000 && dumping.elapsedMs < 30_000, `waited ${dumping.elapsedMs} ms`);

    const endless = await run(plan([[kdumpDevice, device("primary", "bmc")]]), fakes("bmc"), kd(true));
    assert.equal(endless.result.fenced, true, "a kdump that never finishes only delays power-off");
    assert.equal(endless.result.devices[0]?.result, "TimedOut");
    assert.ok(endless.elapsedMs >= 30_000);
  });
});

describe("powerOnHost (unfence)", () => {
  it("powers the devices of the level that fenced the host back on and reads On", async () => {
    const clock = new FakeClock();
    const f = fakes("bmc");
    f.get("bmc")!.power = "Off";
    const p = plan([[device("primary", "bmc")]]);
    const promise = powerOnHost(p, "primary", { clock, deviceFor: (d) => f.get(d.name) ?? assert.fail(d.name) }, new AbortController().signal);
    for (let i = 0; i < 100; i++) await clock.advance(100);
    const r = await promise;
    assert.equal(r.poweredOn, true);
    assert.equal(f.get("bmc")?.power, "On");
    const missing = await powerOnHost(p, "gone", { clock, deviceFor: () => assert.fail("no device") }, new AbortController().signal);
    assert.equal(missing.poweredOn, false);
    assert.match(missing.message, /level gone no longer exists/);
  });
});
