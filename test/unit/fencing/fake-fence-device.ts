import { FenceDeviceError, type FenceDevice, type FenceDeviceErrorReason, type PowerState } from "../../../src/fencing/fence-device.js";

/** A scripted device for engine tests: a pretend machine whose BMC can fail, hang or lie. */
export class FakeFenceDevice implements FenceDevice {
  readonly description: string;
  power: PowerState = "On";
  /** Errors thrown by the next setPower calls, in order. */
  failNext: FenceDeviceErrorReason[] = [];
  /** Acknowledge power off but stay On (F5). */
  lying = false;
  /** setPower never answers (until aborted). */
  hang = false;
  calls: string[] = [];

  constructor(readonly name: string) {
    this.description = `fake ${name}`;
  }

  powerState(): Promise<PowerState> {
    this.calls.push("status");
    return Promise.resolve(this.power);
  }

  setPower(target: "Off" | "On", signal: AbortSignal): Promise<void> {
    this.calls.push(target);
    const reason = this.failNext.shift();
    if (reason) return Promise.reject(new FenceDeviceError(reason, `${this.name} ${reason.toLowerCase()}`));
    if (this.hang) return new Promise((_, reject) => signal.addEventListener("abort", () => reject(new FenceDeviceError("Aborted", "aborted")), { once: true }));
    if (!(this.lying && target === "Off")) this.power = target;
    return Promise.resolve();
  }
}
