import type { GateResult, HostObservation } from "../../model.js";
import { GateReason } from "./gate-reasons.js";

/**
 * Per host. A host whose ComputeHost has spec.maintenance.enabled is skipped: its failure gets
 * no Incident at all and does not count against storm limits — people own the host and
 * stopping it is expected. Fails closed for that host: power-cycling a host someone is working
 * on is never safe. An incident opened before maintenance was set is in flight and is the
 * executor's to park (F24); a Suppressed one stays held under this gate.
 */
export function maintenanceGate(host: HostObservation): GateResult {
  return host.maintenance
    ? { gate: "Maintenance", blocked: true, reason: GateReason.HostInMaintenance, message: `${host.name} is in maintenance` }
    : { gate: "Maintenance", blocked: false, reason: GateReason.NotInMaintenance, message: `${host.name} is not in maintenance` };
}
