import { setCondition, type Condition } from "../../kube/conditions.js";
import type { CloudSecretCheck } from "./cloud-secret-check.js";

export interface CloudStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  authUrl?: string;
  [field: string]: unknown;
}

export const CONDITION_SECRET_VALID = "SecretValid";
export const CONDITION_READY = "Ready";
export const REASON_SECRET_INVALID = "SecretInvalid";
export const REASON_CONNECTION_NOT_CHECKED = "ConnectionNotChecked";

/**
 * The status an OpenStackCloud should have given the result of its Secret check. Pure:
 * the reconciler writes the result only when it differs from what is stored.
 * Fields this controller does not own (set by the connection check) are carried over.
 */
export function planCloudStatus(current: CloudStatus | undefined, generation: number | undefined, check: CloudSecretCheck, now: Date): CloudStatus {
  let conditions = current?.conditions ?? [];
  if (check.valid) {
    conditions = setCondition(conditions, { type: CONDITION_SECRET_VALID, status: "True", reason: "SecretValid", message: check.message }, now, generation);
    const ready = conditions.find((c) => c.type === CONDITION_READY);
    // Ready belongs to the connection check; only clear a verdict that came from a bad Secret.
    if (!ready || ready.reason === REASON_SECRET_INVALID) {
      conditions = setCondition(conditions, { type: CONDITION_READY, status: "Unknown", reason: REASON_CONNECTION_NOT_CHECKED, message: "credentials are well-formed; the Keystone and Nova connection has not been checked yet" }, now, generation);
    }
  } else {
    conditions = setCondition(conditions, { type: CONDITION_SECRET_VALID, status: "False", reason: check.reason, message: check.message }, now, generation);
    conditions = setCondition(conditions, { type: CONDITION_READY, status: "False", reason: REASON_SECRET_INVALID, message: check.message }, now, generation);
  }
  const next: CloudStatus = { ...current, conditions, observedGeneration: generation };
  if (check.valid) next.authUrl = check.authUrl;
  else delete next.authUrl;
  return next;
}
