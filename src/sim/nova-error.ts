/**
 * An error answered the way Nova answers it: `{"<faultName>": {"code": N, "message": "..."}}`.
 * Handlers throw it; the HTTP layer renders it.
 */
export class NovaError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "NovaError";
  }
}

const FAULT_NAMES: Record<number, string> = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "badMethod",
  409: "conflictingRequest",
  413: "overLimit",
  415: "badMediaType",
  429: "overLimit",
  501: "notImplemented",
  503: "serviceUnavailable",
};

/** Nova's fault wrapper name for a status (anything unlisted is a `computeFault`). */
export function novaFaultName(status: number): string {
  return FAULT_NAMES[status] ?? "computeFault";
}

export function novaErrorBody(status: number, message: string): Record<string, { code: number; message: string }> {
  return { [novaFaultName(status)]: { code: status, message } };
}

export const badRequest = (message: string): NovaError => new NovaError(400, message);
export const notFound = (message: string): NovaError => new NovaError(404, message);
export const conflict = (message: string): NovaError => new NovaError(409, message);
export const forbidden = (message: string): NovaError => new NovaError(403, message);

/** Nova's message for an action refused by the instance state guard (409). */
export function invalidStateConflict(action: string, serverId: string, attr: "vm_state" | "task_state", state: string | null): NovaError {
  return conflict(`Cannot '${action}' instance ${serverId} while it is in ${attr} ${state ?? "None"}`);
}
