import { X509Certificate } from "node:crypto";
import { parse } from "yaml";

/** The parts of an OpenStackCloud spec that name its credentials. */
export interface CloudSecretSpec {
  secretRef: { name: string; key?: string };
  cloudName: string;
  caBundleSecretRef?: { name: string; key?: string };
}

/** A Secret as read from the API: data values are base64. */
export interface SecretData {
  data?: Record<string, string>;
}

export type CloudSecretCheck =
  | { valid: true; authUrl: string; message: string }
  | { valid: false; reason: "SecretNotFound" | "SecretKeyMissing" | "InvalidCloudsYaml" | "CloudNotFound" | "AuthMissing" | "CABundleInvalid"; message: string };

/**
 * Checks that the referenced Secret holds a usable clouds.yaml entry, without ever putting
 * a secret value into the result: messages name Secrets, keys and clouds, nothing more.
 */
export function checkCloudSecret(spec: CloudSecretSpec, secret: SecretData | undefined, caSecret: SecretData | undefined): CloudSecretCheck {
  const key = spec.secretRef.key ?? "clouds.yaml";
  if (!secret) return { valid: false, reason: "SecretNotFound", message: `Secret "${spec.secretRef.name}" (spec.secretRef.name) was not found in this namespace` };
  const raw = secret.data?.[key];
  if (raw === undefined) return { valid: false, reason: "SecretKeyMissing", message: `Secret "${spec.secretRef.name}" has no key "${key}" (spec.secretRef.key)` };
  let doc: unknown;
  try {
    doc = parse(Buffer.from(raw, "base64").toString("utf8"));
  } catch {
    return { valid: false, reason: "InvalidCloudsYaml", message: `key "${key}" of Secret "${spec.secretRef.name}" is not valid YAML` };
  }
  const clouds = isRecord(doc) && isRecord(doc.clouds) ? doc.clouds : undefined;
  if (!clouds) return { valid: false, reason: "InvalidCloudsYaml", message: `key "${key}" of Secret "${spec.secretRef.name}" has no top-level "clouds" map` };
  const cloud = clouds[spec.cloudName];
  if (!isRecord(cloud)) {
    const names = Object.keys(clouds).slice(0, 10).join(", ");
    return { valid: false, reason: "CloudNotFound", message: `clouds.yaml has no cloud "${spec.cloudName}" (spec.cloudName); it has: ${names || "none"}` };
  }
  const auth = cloud.auth;
  const authUrl = isRecord(auth) && typeof auth.auth_url === "string" ? auth.auth_url : undefined;
  if (!authUrl || !/^https?:\/\//.test(authUrl)) {
    return { valid: false, reason: "AuthMissing", message: `cloud "${spec.cloudName}" in clouds.yaml has no auth.auth_url (http or https URL)` };
  }
  if (spec.caBundleSecretRef) {
    const caKey = spec.caBundleSecretRef.key ?? "ca.crt";
    const ca = caSecret?.data?.[caKey];
    if (!caSecret) return { valid: false, reason: "CABundleInvalid", message: `CA bundle Secret "${spec.caBundleSecretRef.name}" (spec.caBundleSecretRef.name) was not found` };
    const problem = ca === undefined ? `has no key "${caKey}"` : pemBundleProblem(Buffer.from(ca, "base64").toString("utf8"));
    if (problem) return { valid: false, reason: "CABundleInvalid", message: `CA bundle Secret "${spec.caBundleSecretRef.name}" ${problem} (spec.caBundleSecretRef)` };
  }
  return { valid: true, authUrl: stripUserInfo(authUrl), message: `Secret "${spec.secretRef.name}" holds cloud "${spec.cloudName}"` };
}

/** Every certificate in the bundle must parse; returns what is wrong, or undefined. */
function pemBundleProblem(pem: string): string | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return "holds no PEM certificate";
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return `holds a certificate that does not parse (certificate ${i + 1} of ${blocks.length})`;
    }
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An auth URL could carry user:password@; status must never show it. */
function stripUserInfo(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//");
  }
}
