import type { V1ObjectMeta } from "@kubernetes/client-node";

/** Identifies a REST resource: enough to build its URL paths. */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** Any Kubernetes object as it travels over the API. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
}

export const FIELD_MANAGER = "vmkeeper";

export const LEASES: ResourceType = { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true };
export const SECRETS: ResourceType = { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true };
export const EVENTS: ResourceType = { group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true };
export const NAMESPACES: ResourceType = { group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false };

export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

/** `/api/v1/namespaces/ns/secrets/name/status`-style path; namespace undefined = all namespaces. */
export function resourcePath(rt: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let path = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
  if (rt.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${rt.plural}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}

/** The queue key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
