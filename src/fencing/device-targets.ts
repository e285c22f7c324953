/**
 * Device settings after per-host overrides, `{host}` / `{shortHost}` substitution, address
 * checks and Secret resolution: everything a device implementation needs, nothing it must look
 * up. Built by resolve-host-devices.ts; credentials live only in these objects in memory.
 */

export interface DeviceCredentials {
  username: string;
  password: string;
}

export interface RedfishTarget {
  kind: "Redfish";
  /** Host name or IP literal (IPv6 without brackets). */
  address: string;
  port: number;
  scheme: "HTTPS" | "HTTP";
  /** ComputerSystem id; discovered from /redfish/v1/Systems when absent and there is exactly one. */
  systemId?: string;
  authMethod: "Session" | "Basic";
  credentials: DeviceCredentials;
  /** PEM bundle to trust instead of the system CAs. */
  caBundle?: string;
  insecureSkipTLSVerify: boolean;
}

export interface IpmiTarget {
  kind: "IPMI";
  address: string;
  port: number;
  interface: "Lanplus" | "Lan";
  privilegeLevel: "Administrator" | "Operator" | "User";
  cipherSuite?: number;
  credentials: DeviceCredentials;
}

export interface FenceAgentTarget {
  kind: "FenceAgent";
  /** Executable name (`fence_ipmilan`), looked up on PATH; validated as `^fence_[a-z0-9_]+$`. */
  agent: string;
  /** name=value options for standard input, substituted and checked; no `action`, no credentials. */
  options: { name: string; value?: string }[];
  /** Become the `username` and `password` options on standard input. */
  credentials?: DeviceCredentials;
}

export type PowerDeviceTarget = RedfishTarget | IpmiTarget | FenceAgentTarget;
