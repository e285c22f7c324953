import { createHash } from "node:crypto";
import type { InstanceHAPolicyNotificationWebhook } from "../api/v1alpha1/index.js";
import { urlProblem } from "./delivery-policy.js";

/** CRD defaults of spec.notification.webhook. */
export const WEBHOOK_DEFAULTS = { timeoutSeconds: 5, maxRetries: 5, queueSize: 1000 } as const;

/** One webhook destination with everything needed to deliver to it, secrets resolved. */
export interface WebhookEndpoint {
  url: string;
  allowHTTP: boolean;
  /** HMAC-SHA256 key bytes; no signature header when absent. */
  hmacKey?: Uint8Array;
  /** PEM CA bundle replacing the default roots. */
  caPem?: string;
  /** Per attempt, connect to last byte. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Events that may wait behind the one in delivery before the oldest is dropped. */
  queueSize: number;
  /** Set when the settings cannot work; every event is then refused (and reported). */
  configError?: string;
}

/** The Secret values the policy references, read by the caller (undefined = Secret or key missing). */
export interface WebhookSecrets {
  hmacKey?: Uint8Array;
  caPem?: string;
}

/**
 * Endpoint from the policy's spec.notification.webhook with CRD defaults. A referenced but
 * missing Secret is a configuration error rather than a silent downgrade: an owner who asked
 * for signed events must not receive unsigned ones.
 */
export function webhookEndpointFromSpec(spec: InstanceHAPolicyNotificationWebhook, secrets: WebhookSecrets): WebhookEndpoint {
  const allowHTTP = spec.allowHTTP ?? false;
  const problems: string[] = [];
  const urlError = urlProblem(spec.url, allowHTTP);
  if (urlError) problems.push(urlError);
  if (spec.hmacSecretRef && (secrets.hmacKey === undefined || secrets.hmacKey.length === 0)) {
    problems.push(`HMAC key not found (Secret ${spec.hmacSecretRef.name}, key ${spec.hmacSecretRef.key ?? "hmac-key"})`);
  }
  if (spec.caBundleSecretRef && !secrets.caPem) {
    problems.push(`CA bundle not found (Secret ${spec.caBundleSecretRef.name}, key ${spec.caBundleSecretRef.key ?? "ca.crt"})`);
  }
  return {
    url: spec.url,
    allowHTTP,
    ...(spec.hmacSecretRef && secrets.hmacKey ? { hmacKey: secrets.hmacKey } : {}),
    ...(spec.caBundleSecretRef && secrets.caPem ? { caPem: secrets.caPem } : {}),
    timeoutMs: (spec.timeoutSeconds ?? WEBHOOK_DEFAULTS.timeoutSeconds) * 1000,
    maxRetries: spec.maxRetries ?? WEBHOOK_DEFAULTS.maxRetries,
    queueSize: spec.queueSize ?? WEBHOOK_DEFAULTS.queueSize,
    ...(problems.length > 0 ? { configError: problems.join("; ") } : {}),
  };
}

/** Why the endpoint cannot be used, checked again by the notifier (CEL already refuses http://). */
export function endpointProblem(e: WebhookEndpoint): string | undefined {
  return e.configError ?? urlProblem(e.url, e.allowHTTP);
}

/**
 * A digest of every setting, secrets included, so a changed key or CA bundle is noticed
 * without keeping the secret itself in a comparable string.
 */
export function endpointFingerprint(e: WebhookEndpoint): string {
  const h = createHash("sha256");
  for (const part of [e.url, String(e.allowHTTP), String(e.timeoutMs), String(e.maxRetries), String(e.queueSize), e.caPem ?? "", e.configError ?? ""]) {
    h.update(part).update("\0");
  }
  h.update(e.hmacKey ? Buffer.from(e.hmacKey) : Buffer.alloc(0));
  return h.digest("hex");
}
