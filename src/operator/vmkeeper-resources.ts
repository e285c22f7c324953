import type { ResourceType } from "../kube/resource-type.js";

const GROUP = "ha.vmkeeper.dev";
const VERSION = "v1alpha1";

function vk(kind: string, plural: string): ResourceType {
  return { group: GROUP, version: VERSION, kind, plural, namespaced: true };
}

/** REST coordinates of vmkeeper's own kinds. */
export const VMKEEPER_RESOURCES = {
  OpenStackCloud: vk("OpenStackCloud", "openstackclouds"),
  InstanceHAPolicy: vk("InstanceHAPolicy", "instancehapolicies"),
  HostFencing: vk("HostFencing", "hostfencings"),
  ServerGroupMessaging: vk("ServerGroupMessaging", "servergroupmessagings"),
  ComputeHost: vk("ComputeHost", "computehosts"),
  Incident: vk("Incident", "incidents"),
} as const;
