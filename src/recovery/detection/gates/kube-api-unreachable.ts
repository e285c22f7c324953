import type { GateResult } from "../../model.js";
import type { GateContext } from "./gate-context.js";
import { GateReason } from "./gate-reasons.js";

/**
 * Cloud-wide. Closed while the controller's last Kubernetes API write/renew did not succeed
 * within the renew deadline. Fails closed: every side effect must first record its intent in
 * the Incident with a compare-and-swap write, which is impossible now, and a controller cut
 * from the API server may be the partitioned side whose lease another replica already holds.
 * (Suppressed entries produced under this gate are advisory: nothing can be written; the next
 * pass decides again with the same epoch.)
 */
export function kubeApiUnreachableGate(ctx: GateContext): GateResult {
  return ctx.observer.kubeApiOk
    ? { gate: "KubeApiUnreachable", blocked: false, reason: GateReason.KubeApiReachable, message: "Kubernetes API reachable" }
    : { gate: "KubeApiUnreachable", blocked: true, reason: GateReason.KubeApiWriteFailed, message: "last Kubernetes API write/renew failed: intent cannot be recorded" };
}
