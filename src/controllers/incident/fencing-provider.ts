import type { FencingOutcome } from "../../recovery/workflow/workflow-model.js";

/**
 * Powers a failed host off for sure, or says why it could not. The HostFencing issue
 * brings the real devices (Redfish, IPMI, fence agents, kdump); this interface is where
 * they plug in.
 */
export interface FencingProvider {
  fence(req: { namespace: string; hostName: string; serviceHost: string; epoch: number; signal: AbortSignal }): Promise<FencingOutcome>;
}

/**
 * The provider while no fencing device kind exists: it never claims a host is powered
 * off. Policies that accept the risk set `recovery.unsafeSkipPowerFencing`; every other
 * incident stops at FencingFailed and nothing is evacuated (safety rule 2).
 */
export class NoDeviceFencingProvider implements FencingProvider {
  fence(req: { hostName: string }): Promise<FencingOutcome> {
    return Promise.resolve({
      kind: "NotConfigured",
      message: `no fencing device can power off ${req.hostName}: power fencing devices (HostFencing) are not available in this release; set recovery.unsafeSkipPowerFencing on the policy to accept evacuation after a Nova force-down alone`,
    });
  }
}
