import type { SecretReader } from "../../fencing/resolve-host-devices.js";
import type { ResourceClient } from "../../kube/resource-client.js";
import type { SecretObject } from "../openstack-cloud/openstack-cloud-reconciler.js";

/** Reads Secrets of one namespace straight from the API (the Secret informer holds metadata only) and decodes their data. */
export function secretReader(secrets: Pick<ResourceClient<SecretObject>, "get">, namespace: string): SecretReader {
  return async (name) => {
    const s = await secrets.get(namespace, name);
    if (!s) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
    return out;
  };
}

/** Secret names a HostFencing refers to, so a change to one of them re-probes its devices. */
export function referencedSecrets(spec: {
  levels: { devices: { redfish?: { credentialsSecretRef: { name: string }; caBundleSecretRef?: { name: string } }; ipmi?: { credentialsSecretRef: { name: string } }; fenceAgent?: { credentialsSecretRef?: { name: string } }; kdump?: { keySecretRef: { name: string } } }[] }[];
  hostOverrides?: { credentialsSecretRef?: { name: string } }[];
}): string[] {
  const names = new Set<string>();
  for (const o of spec.hostOverrides ?? []) if (o.credentialsSecretRef) names.add(o.credentialsSecretRef.name);
  for (const d of spec.levels.flatMap((l) => l.devices)) {
    for (const ref of [d.redfish?.credentialsSecretRef, d.redfish?.caBundleSecretRef, d.ipmi?.credentialsSecretRef, d.fenceAgent?.credentialsSecretRef, d.kdump?.keySecretRef]) if (ref) names.add(ref.name);
  }
  return [...names].sort();
}
