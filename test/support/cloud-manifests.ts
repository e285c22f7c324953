/** A clouds.yaml Secret and the OpenStackCloud that uses it, as one YAML stream for `kubectl apply -f -`. */
export function cloudManifests(o: { name: string; secretName: string; cloudsYaml: string; cloudName: string; recheckIntervalSeconds?: number }): string {
  const indented = o.cloudsYaml.split("\n").map((l) => `    ${l}`).join("\n");
  return `apiVersion: v1
kind: Secret
metadata: {name: ${o.secretName}}
stringData:
  clouds.yaml: |
${indented}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: OpenStackCloud
metadata: {name: ${o.name}}
spec: {secretRef: {name: ${o.secretName}}, cloudName: ${o.cloudName}${o.recheckIntervalSeconds ? `, recheckIntervalSeconds: ${o.recheckIntervalSeconds}` : ""}}
`;
}
