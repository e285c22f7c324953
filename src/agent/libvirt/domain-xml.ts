import { childNamed, childrenNamed, parseXml, type XmlElement } from "./xml-tree.js";

/** Name of the virtio-serial port whose host-side unix socket carries the guest heartbeat. */
export const HEARTBEAT_CHANNEL_NAME = "org.vmkeeper.heartbeat.0";

/** Nova writes its metadata in this namespace (`.../nova/1.1` today; any version accepted). */
const NOVA_NAMESPACE_PREFIX = "http://openstack.org/xmlns/libvirt/nova/";

/** What Nova wrote into `<metadata><nova:instance>`. */
export interface NovaInstanceMetadata {
  /** Display name of the server (`<nova:name>`). */
  name?: string;
  projectId?: string;
  projectName?: string;
  userId?: string;
  userName?: string;
  flavorName?: string;
}

/** What the agent needs from one libvirt domain's XML. */
export interface DomainInfo {
  /** libvirt domain name (`instance-0000002a`). */
  name: string;
  /** Domain UUID, lower case; Nova sets it to the instance UUID. */
  uuid: string;
  /** Present when the domain carries Nova's metadata. */
  nova?: NovaInstanceMetadata;
  /** Host-side unix socket of the `org.vmkeeper.heartbeat.0` channel, when the domain has one. */
  heartbeatSocketPath?: string;
  /** The domain has a virtio-serial controller, so a channel can be plugged in while it runs. */
  virtioSerial?: boolean;
  /** libvirt's id of the running domain (`<domain id='7'>`): a new one each time it starts. */
  runId?: string;
}

export class DomainXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DomainXmlError";
  }
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/;
const isNova = (uri: string): boolean => uri.startsWith(NOVA_NAMESPACE_PREFIX);

/** libvirt accepts UUIDs with or without dashes and in either case; reports carry the dashed lower-case form. */
export function normaliseUuid(raw: string): string | undefined {
  const s = raw.trim().toLowerCase();
  if (!UUID.test(s)) return undefined;
  const hex = s.replace(/-/g, "");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function requiredText(domain: XmlElement, name: string): string {
  const value = childNamed(domain, name)?.text.trim();
  if (!value) throw new DomainXmlError(`domain XML has no <${name}>`);
  return value;
}

function novaMetadata(domain: XmlElement): NovaInstanceMetadata | undefined {
  const metadata = childNamed(domain, "metadata");
  const instance = metadata && childNamed(metadata, "instance", isNova);
  if (!instance) return undefined;
  const out: NovaInstanceMetadata = {};
  const text = (el: XmlElement | undefined): string | undefined => {
    const t = el?.text.trim();
    return t ? t : undefined;
  };
  const attr = (el: XmlElement | undefined, key: string): string | undefined => el?.attributes.get(key) || undefined;
  const name = text(childNamed(instance, "name", isNova));
  if (name !== undefined) out.name = name;
  const owner = childNamed(instance, "owner", isNova);
  const project = owner && childNamed(owner, "project", isNova);
  const user = owner && childNamed(owner, "user", isNova);
  const flavor = childNamed(instance, "flavor", isNova);
  const fields: [keyof NovaInstanceMetadata, string | undefined][] = [
    ["projectId", attr(project, "uuid")],
    ["projectName", text(project)],
    ["userId", attr(user, "uuid")],
    ["userName", text(user)],
    ["flavorName", attr(flavor, "name")],
  ];
  for (const [key, value] of fields) if (value !== undefined) out[key] = value;
  return out;
}

function heartbeatSocket(domain: XmlElement): string | undefined {
  const devices = childNamed(domain, "devices");
  if (!devices) return undefined;
  for (const channel of childrenNamed(devices, "channel")) {
    if (channel.attributes.get("type") !== "unix") continue;
    const target = childNamed(channel, "target");
    if (target?.attributes.get("type") !== "virtio" || target.attributes.get("name") !== HEARTBEAT_CHANNEL_NAME) continue;
    const path = childNamed(channel, "source")?.attributes.get("path");
    if (path) return path;
  }
  return undefined;
}

/**
 * Extracts name, UUID, Nova metadata and the heartbeat channel's socket from the output of
 * `virsh dumpxml`. Throws DomainXmlError (or XmlError) on XML that is not a domain.
 */
export function parseDomainXml(xml: string): DomainInfo {
  const domain = parseXml(xml);
  if (domain.name !== "domain") throw new DomainXmlError(`root element is <${domain.name}>, not <domain>`);
  const name = requiredText(domain, "name");
  const uuid = normaliseUuid(requiredText(domain, "uuid"));
  if (uuid === undefined) throw new DomainXmlError(`domain ${name} has an invalid <uuid>`);
  const info: DomainInfo = { name, uuid };
  const runId = domain.attributes.get("id");
  if (runId) info.runId = runId;
  const nova = novaMetadata(domain);
  if (nova) info.nova = nova;
  const socket = heartbeatSocket(domain);
  if (socket !== undefined) info.heartbeatSocketPath = socket;
  const devices = childNamed(domain, "devices");
  if (devices && childrenNamed(devices, "controller").some((c) => c.attributes.get("type") === "virtio-serial")) info.virtioSerial = true;
  return info;
}
