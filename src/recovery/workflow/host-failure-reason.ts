/**
 * The disabled reason vmkeeper gives a failed host's nova-compute service starts with this
 * (`vmkeeper: host failure, incident <name>`, see planIncidentStep). A service disabled with
 * any other reason was disabled by someone else, and vmkeeper never enables it.
 */
export const HOST_FAILURE_REASON_PREFIX = "vmkeeper: host failure";

export function isHostFailureReason(reason: string | null | undefined): boolean {
  return reason?.startsWith(HOST_FAILURE_REASON_PREFIX) ?? false;
}
