import { GROUP, KINDS, VERSION } from "../api/v1alpha1/index.js";
import type { ResourceType } from "../kube/resource-type.js";

type KindName = "OpenStackCloud" | "InstanceHAPolicy" | "HostFencing" | "ServerGroupMessaging" | "ComputeHost" | "Incident";

function resource(kind: KindName): ResourceType {
  const info = KINDS.find((k) => k.kind === kind);
  if (!info) throw new Error(`kind ${kind} is missing from the generated API table`);
  return { group: GROUP, version: VERSION, kind, plural: info.plural, namespaced: true };
}

/** REST coordinates of vmkeeper's own kinds, from the table generated from crds/. */
export const VMKEEPER_RESOURCES = {
  OpenStackCloud: resource("OpenStackCloud"),
  InstanceHAPolicy: resource("InstanceHAPolicy"),
  HostFencing: resource("HostFencing"),
  ServerGroupMessaging: resource("ServerGroupMessaging"),
  ComputeHost: resource("ComputeHost"),
  Incident: resource("Incident"),
} as const;
