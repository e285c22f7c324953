import type { OpenStackCloudSpec } from "../../api/v1alpha1/index.js";
import { applyCloudOverrides, parseCloudsYaml, type CloudConfig } from "../../openstack/clouds-config.js";
import type { SecretData } from "./cloud-secret-check.js";

/**
 * The connection settings of an OpenStackCloud: its clouds.yaml entry (and secure.yaml) from
 * the Secret, with the spec's region, interface, CA bundle, TLS and timeout overrides; pure.
 * Shared by the OpenStackCloud controller and the CLI so both reach Nova the same way.
 */
export function cloudConfigFromSecret(spec: OpenStackCloudSpec, secret: SecretData, caSecret: SecretData | undefined): CloudConfig {
  const key = spec.secretRef.key ?? "clouds.yaml";
  const text = decode(secret.data?.[key]) ?? "";
  const secure = decode(secret.data?.["secure.yaml"]);
  const source = `Secret "${spec.secretRef.name}" key "${key}"`;
  const config = parseCloudsYaml(text, { cloudName: spec.cloudName, env: {}, source, ...(secure !== undefined ? { secureYaml: secure, secureSource: `Secret "${spec.secretRef.name}" key "secure.yaml"` } : {}) });
  const caPem = spec.caBundleSecretRef ? decode(caSecret?.data?.[spec.caBundleSecretRef.key ?? "ca.crt"]) : undefined;
  return applyCloudOverrides(config, {
    ...(spec.region ? { region: spec.region } : {}),
    ...(spec.interface ? { interface: spec.interface } : {}),
    ...(caPem ? { caPem } : {}),
    ...(spec.insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
    requestTimeoutMs: (spec.requestTimeoutSeconds ?? 30) * 1000,
  });
}

function decode(b64: string | undefined): string | undefined {
  return b64 === undefined ? undefined : Buffer.from(b64, "base64").toString("utf8");
}
