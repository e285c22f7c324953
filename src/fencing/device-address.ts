import { isIP } from "node:net";

/**
 * Why a BMC address must not be used, or undefined when it may. A fencing device that points
 * at the wrong place either fails when it is needed or, worse, talks to something that is not
 * a BMC with administrator credentials. Refused: link-local addresses (169.254.0.0/16,
 * fe80::/10), which include the cloud metadata services (169.254.169.254, fd00:ec2::254 is
 * refused explicitly), unspecified, broadcast and multicast addresses, and anything that is not
 * a plain host name or IP literal. Loopback is allowed: port-forwarded BMCs and the test peers
 * live there.
 */
export function checkDeviceAddress(address: string): string | undefined {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 4) return checkIpv4(bare);
  if (family === 6) return checkIpv6(bare);
  if (!/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(bare)) {
    return `"${address}" is neither an IP address nor a valid DNS host name`;
  }
  if (/^metadata(\.google\.internal)?\.?$/i.test(bare)) return `"${address}" names a cloud metadata service, not a BMC`;
  return undefined;
}

function checkIpv4(ip: string): string | undefined {
  const [a = 0, b = 0] = ip.split(".").map(Number);
  if (a === 169 && b === 254) return `${ip} is link-local (169.254.0.0/16, where cloud metadata services live), not a BMC`;
  if (a === 0) return `${ip} is an unspecified address`;
  if (a >= 224) return `${ip} is a multicast, reserved or broadcast address`;
  return undefined;
}

function checkIpv6(ip: string): string | undefined {
  const lower = ip.toLowerCase();
  const first = parseInt(lower.split(":")[0] || "0", 16);
  if (lower === "::") return `${ip} is the unspecified address`;
  if ((first & 0xffc0) === 0xfe80) return `${ip} is link-local (fe80::/10), not a BMC`;
  if ((first & 0xff00) === 0xff00) return `${ip} is a multicast address`;
  if (/^fd00:ec2:(0*:)*:?0*254$/.test(lower) || lower === "fd00:ec2::254") return `${ip} is a cloud metadata service address`;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1]) return checkIpv4(mapped[1]);
  return undefined;
}

/** `{host}` → the ComputeHost name, `{shortHost}` → the service host's first DNS label. */
export function substituteHost(template: string, host: { name: string; serviceHost: string }): string {
  const short = host.serviceHost.split(".")[0] ?? host.serviceHost;
  return template.replaceAll("{host}", host.serviceHost).replaceAll("{shortHost}", short);
}
