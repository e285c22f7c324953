export type PowerState = "On" | "Off" | "Unknown";

/**
 * Why a device operation failed. The engine uses the reason for the status message and the
 * metric label; it never retries `Config` or `AuthFailed` within one operation (they will not
 * heal by themselves), every other reason is retried up to the device's retry budget.
 */
export type FenceDeviceErrorReason = "Unreachable" | "AuthFailed" | "Timeout" | "Protocol" | "PowerStillOn" | "Config" | "Aborted";

/**
 * A device failure with a message safe to show users: device implementations must never put
 * a password, a session token or a secret key into `message` (status, Events and logs carry it).
 */
export class FenceDeviceError extends Error {
  constructor(
    readonly reason: FenceDeviceErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "FenceDeviceError";
  }
}

/**
 * One power device of one host (a BMC over Redfish, IPMI through ipmitool, a ClusterLabs fence
 * agent). Implementations talk the protocol and nothing else: retries, timeouts across attempts,
 * read-back polling and level escalation are the fencing engine's job.
 */
export interface FenceDevice {
  /** Where the device points, for messages (`redfish https://10.0.0.5:443/Systems/1`); never credentials. */
  readonly description: string;
  /** Reads the power state without changing it. Throws FenceDeviceError. */
  powerState(signal: AbortSignal): Promise<PowerState>;
  /**
   * Asks the device to switch power hard (Redfish ForceOff / On, `ipmitool power off|on`,
   * `fence_* -o off|on`). Resolves once the device accepted the request; it does NOT mean power
   * is already Off: the engine reads it back with `powerState` until it is. Throws FenceDeviceError.
   */
  setPower(target: "Off" | "On", signal: AbortSignal): Promise<void>;
}
