import { rfc3339, setCondition, type Condition, type ConditionInput } from "../../kube/conditions.js";
import type { ConnectionFailure } from "./classify-connection-error.js";
import type { CloudSecretCheck } from "./cloud-secret-check.js";

export interface CloudStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  authUrl?: string;
  computeEndpoint?: string;
  novaMicroversion?: { min?: string; max?: string; negotiated?: string };
  hostCount?: number;
  lastCheckTime?: string;
  [field: string]: unknown;
}

export const CONDITION_READY = "Ready";
export const CONDITION_SECRET_VALID = "SecretValid";
export const CONDITION_AUTH_FAILED = "AuthFailed";
export const CONDITION_ENDPOINT_UNREACHABLE = "EndpointUnreachable";
export const REASON_SECRET_INVALID = "SecretInvalid";

export interface Connected {
  kind: "Connected";
  computeEndpoint: string;
  microversion: { min: string; max: string; negotiated: string };
  hostCount: number;
}

/** The outcome of one connection check, or undefined when the Secret was already invalid. */
export type ConnectionOutcome = Connected | ConnectionFailure;

/**
 * The status an OpenStackCloud should have, from its Secret check and connection outcome.
 * Pure; the reconciler writes the result only when it differs from what is stored.
 */
export function planCloudStatus(current: CloudStatus | undefined, generation: number | undefined, check: CloudSecretCheck, outcome: ConnectionOutcome | undefined, now: Date): CloudStatus {
  const next: CloudStatus = { ...current, observedGeneration: generation };
  const set = (c: ConditionInput): void => {
    next.conditions = setCondition(next.conditions, c, now, generation);
  };
  if (!check.valid || outcome?.kind === "InvalidConfig") {
    const bad = !check.valid ? check : outcome?.kind === "InvalidConfig" ? outcome : { reason: "SecretInvalid", message: "" };
    const { reason, message } = bad;
    set({ type: CONDITION_SECRET_VALID, status: "False", reason, message });
    set({ type: CONDITION_READY, status: "False", reason: REASON_SECRET_INVALID, message });
    delete next.authUrl;
    return next;
  }
  next.authUrl = check.authUrl;
  set({ type: CONDITION_SECRET_VALID, status: "True", reason: "SecretValid", message: check.message });
  if (!outcome) return next;
  next.lastCheckTime = rfc3339(now);
  switch (outcome.kind) {
    case "Connected":
      set({ type: CONDITION_AUTH_FAILED, status: "False", reason: "Authenticated", message: "Keystone accepted the credentials" });
      set({ type: CONDITION_ENDPOINT_UNREACHABLE, status: "False", reason: "Reachable", message: "Keystone and Nova answered" });
      set({ type: CONDITION_READY, status: "True", reason: "Connected", message: `Nova ${outcome.microversion.negotiated} at ${outcome.computeEndpoint}; ${outcome.hostCount} compute host(s)` });
      next.computeEndpoint = outcome.computeEndpoint;
      next.novaMicroversion = outcome.microversion;
      next.hostCount = outcome.hostCount;
      break;
    case "AuthFailed":
      set({ type: CONDITION_AUTH_FAILED, status: "True", reason: "AuthFailed", message: outcome.message });
      set({ type: CONDITION_ENDPOINT_UNREACHABLE, status: "False", reason: "Reachable", message: "Keystone answered" });
      set({ type: CONDITION_READY, status: "False", reason: "AuthFailed", message: outcome.message });
      break;
    case "EndpointUnreachable":
      set({ type: CONDITION_ENDPOINT_UNREACHABLE, status: "True", reason: "EndpointUnreachable", message: outcome.message });
      set({ type: CONDITION_READY, status: "False", reason: "EndpointUnreachable", message: outcome.message });
      break;
    case "NotReady":
      set({ type: CONDITION_AUTH_FAILED, status: "False", reason: "Authenticated", message: "Keystone accepted the credentials" });
      set({ type: CONDITION_ENDPOINT_UNREACHABLE, status: "False", reason: "Reachable", message: "Keystone answered" });
      set({ type: CONDITION_READY, status: "False", reason: outcome.reason, message: outcome.message });
      break;
  }
  return next;
}
