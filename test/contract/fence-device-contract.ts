import assert from "node:assert/strict";
import { FenceDeviceError, type FenceDevice, type PowerState } from "../../src/fencing/fence-device.js";
import { eventually } from "../support/eventually.js";

/**
 * What the fence device contract needs from one device kind and its real peer (sushy-tools
 * for Redfish, an IPMI simulator for ipmitool, a fence agent against either).
 */
export interface FenceDeviceContractTarget {
  /** A device with the right credentials for a host that is powered On when the suite starts. */
  device: FenceDevice;
  /** The same device with a wrong password. */
  wrongPasswordDevice: FenceDevice;
  /** Strings that must never appear in a message or description: passwords (right and wrong), keys. */
  secrets: string[];
  /** The username the AuthFailed message should name; omit when the kind cannot know it. */
  username?: string;
  /** The peer's own view of the power state, read without the device; optional. */
  peerPowerState?(): Promise<PowerState>;
  /** How long a power change may take to show in the read-back (default 30 s). */
  powerChangeTimeoutMs?: number;
  close(): Promise<void>;
}

/** Rejects unless `p` throws a FenceDeviceError; returns it. */
export async function expectFenceError(p: Promise<unknown>, what: string): Promise<FenceDeviceError> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof FenceDeviceError) return e;
    throw new assert.AssertionError({ message: `${what}: expected FenceDeviceError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` });
  }
  throw new assert.AssertionError({ message: `${what}: expected FenceDeviceError, but it succeeded` });
}

/** Fails when any secret occurs in `text`. */
export function assertNoSecrets(text: string, secrets: readonly string[], what: string): void {
  for (const s of secrets) assert.ok(!text.includes(s), `${what} contains a secret: ${text}`);
}

/**
 * The device-kind-agnostic contract of FenceDevice (src/fencing/fence-device.ts), run unchanged
 * against every implementation and its real peer. The checks run in order on one host: it is
 * read, powered off (twice: a fence is retried), powered on again; then wrong credentials and
 * an aborted signal must fail with the right reason and a message free of secrets.
 */
export function fenceDeviceContract(name: string, setup: () => Promise<FenceDeviceContractTarget>): void {
  describe(`FenceDevice contract (${name})`, function () {
    this.timeout(120_000);
    let t: FenceDeviceContractTarget;
    const signal = (): AbortSignal => AbortSignal.timeout(60_000);
    const readBack = async (want: "On" | "Off"): Promise<void> => {
      await eventually(
        async () => {
          const seen = await t.device.powerState(signal());
          assert.equal(seen, want);
        },
        t.powerChangeTimeoutMs ?? 30_000,
        250,
      );
      if (t.peerPowerState) assert.equal(await t.peerPowerState(), want, "the peer's own power state");
    };

    before(async function () {
      this.timeout(10 * 60_000);
      t = await setup();
    });

    after(async () => {
      await t?.close();
    });

    it("describes itself without secrets", () => {
      assert.ok(t.device.description.length > 0);
      assertNoSecrets(t.device.description, t.secrets, "description");
    });

    it("reads the power state (On at the start)", async () => {
      assert.equal(await t.device.powerState(signal()), "On");
      if (t.peerPowerState) assert.equal(await t.peerPowerState(), "On");
    });

    it("powers off; the read-back turns Off", async () => {
      await t.device.setPower("Off", signal());
      await readBack("Off");
    });

    it("accepts power off when the host is already Off", async () => {
      await t.device.setPower("Off", signal());
      assert.equal(await t.device.powerState(signal()), "Off");
    });

    it("powers on; the read-back turns On", async () => {
      await t.device.setPower("On", signal());
      await readBack("On");
    });

    it("fails with AuthFailed on a wrong password, reading or switching, and says nothing secret", async () => {
      const read = await expectFenceError(t.wrongPasswordDevice.powerState(signal()), "powerState with a wrong password");
      const off = await expectFenceError(t.wrongPasswordDevice.setPower("Off", signal()), "setPower with a wrong password");
      for (const e of [read, off]) {
        assert.equal(e.reason, "AuthFailed", e.message);
        assertNoSecrets(e.message, t.secrets, "AuthFailed message");
        if (t.username !== undefined) assert.ok(e.message.includes(t.username), `message names the user: ${e.message}`);
      }
      assert.equal(await t.device.powerState(signal()), "On", "a failed attempt changed nothing");
    });

    it("fails with Aborted when the signal is already aborted", async () => {
      const aborted = AbortSignal.abort();
      const read = await expectFenceError(t.device.powerState(aborted), "powerState with an aborted signal");
      const off = await expectFenceError(t.device.setPower("Off", aborted), "setPower with an aborted signal");
      assert.equal(read.reason, "Aborted", read.message);
      assert.equal(off.reason, "Aborted", off.message);
      assert.equal(await t.device.powerState(signal()), "On", "an aborted power off did nothing");
    });
  });
}
