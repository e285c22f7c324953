import { CloudConfigError } from "../../openstack/cloud-config-error.js";
import { TransportError } from "../../openstack/http-transport.js";
import { KeystoneError } from "../../openstack/keystone-errors.js";
import { NovaError, NovaForbiddenError, NovaUnavailableError, NovaUnsupportedMicroversionError } from "../../openstack/nova-errors.js";

/** What went wrong while connecting, in the terms of the OpenStackCloud's conditions. */
export type ConnectionFailure =
  | { kind: "InvalidConfig"; reason: string; message: string }
  | { kind: "AuthFailed"; message: string }
  | { kind: "EndpointUnreachable"; message: string }
  | { kind: "NotReady"; reason: string; message: string };

/**
 * Maps an error from Keystone/Nova to a condition a person can act on, or undefined for
 * errors that are not about the connection (those are retried with backoff).
 */
export function classifyConnectionError(err: unknown): ConnectionFailure | undefined {
  if (err instanceof CloudConfigError) return { kind: "InvalidConfig", reason: `CloudsYaml${err.reason}`, message: err.message };
  if (err instanceof KeystoneError) {
    switch (err.reason) {
      case "AuthFailed":
        return { kind: "AuthFailed", message: `Keystone refused the credentials: ${err.message}. Check the user/application credential in the Secret.` };
      case "Unreachable":
      case "Unavailable":
        return { kind: "EndpointUnreachable", message: `Keystone is unreachable: ${err.message}` };
      case "EndpointNotFound":
        return { kind: "NotReady", reason: "EndpointNotFound", message: `${err.message}. Check spec.region and spec.interface against the service catalog.` };
      case "Forbidden":
        return { kind: "NotReady", reason: "Forbidden", message: `Keystone refused the scope: ${err.message}` };
      default:
        return { kind: "NotReady", reason: `Keystone${err.reason}`, message: err.message };
    }
  }
  if (err instanceof NovaUnsupportedMicroversionError) {
    return { kind: "NotReady", reason: "UnsupportedMicroversion", message: `${err.message}. vmkeeper needs Nova microversion 2.53 or newer.` };
  }
  if (err instanceof NovaForbiddenError) {
    return { kind: "NotReady", reason: "Forbidden", message: `Nova refused ${err.operation}: ${err.novaMessage}. vmkeeper's credentials need an admin role (see docs/connecting-a-cloud.md).` };
  }
  if (err instanceof NovaUnavailableError) return { kind: "EndpointUnreachable", message: `Nova is unreachable: ${err.message}` };
  if (err instanceof TransportError) return { kind: "EndpointUnreachable", message: err.message };
  if (err instanceof NovaError) return { kind: "NotReady", reason: "NovaError", message: err.message };
  return undefined;
}
