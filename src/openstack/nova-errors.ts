import { formatMicroversion, type MicroversionRange } from "./microversion.js";

export type NovaErrorCode =
  | "NotFound"
  | "Conflict"
  | "ServiceStillUp"
  | "BadRequest"
  | "Forbidden"
  | "Unauthorized"
  | "RateLimited"
  | "Unavailable"
  | "UnsupportedMicroversion"
  | "ServerError"
  | "InvalidResponse"
  | "UnexpectedStatus";

export interface NovaErrorDetails {
  operation: string;
  /** HTTP status; undefined when no response came back (timeout, connection). */
  status?: number;
  /** Nova's own message (already free of secrets). */
  novaMessage: string;
  requestId?: string;
  /**
   * True when a state-changing request may have been carried out although it failed
   * (timeout, 5xx, lost connection): re-read the state before acting again.
   */
  outcomeUnknown?: boolean;
}

/** Base of every typed Nova failure. `code` lets callers switch without instanceof. */
export class NovaError extends Error {
  override readonly name: string = "NovaError";
  readonly code: NovaErrorCode = "UnexpectedStatus";
  readonly operation: string;
  readonly status: number | undefined;
  readonly novaMessage: string;
  readonly requestId: string | undefined;
  readonly outcomeUnknown: boolean;

  constructor(d: NovaErrorDetails) {
    super(`${d.operation}: ${d.status !== undefined ? `HTTP ${d.status}` : "no response"}: ${d.novaMessage}${d.requestId ? ` (request ${d.requestId})` : ""}`);
    this.operation = d.operation;
    this.status = d.status;
    this.novaMessage = d.novaMessage;
    this.requestId = d.requestId;
    this.outcomeUnknown = d.outcomeUnknown ?? false;
  }
}

export class NovaNotFoundError extends NovaError {
  override readonly name = "NovaNotFoundError";
  override readonly code = "NotFound";
}

/** 409: the server is busy (task_state set) or in a vm_state the action does not allow. */
export class NovaConflictError extends NovaError {
  override readonly name = "NovaConflictError";
  override readonly code = "Conflict";
  /** From Nova's message "... while it is in vm_state X" / "task_state Y", when present. */
  readonly vmState: string | undefined;
  readonly taskState: string | undefined;

  constructor(d: NovaErrorDetails) {
    super(d);
    this.vmState = /\bvm_state (\w+)/.exec(d.novaMessage)?.[1];
    this.taskState = /\btask_state (\w+)/.exec(d.novaMessage)?.[1];
  }
}

/** 400 from evacuate because the source nova-compute is still up: fence and force down first. */
export class NovaServiceStillUpError extends NovaError {
  override readonly name = "NovaServiceStillUpError";
  override readonly code = "ServiceStillUp";
  readonly host: string | undefined;

  constructor(d: NovaErrorDetails) {
    super(d);
    this.host = SERVICE_STILL_UP.exec(d.novaMessage)?.[1];
  }
}

export class NovaBadRequestError extends NovaError {
  override readonly name = "NovaBadRequestError";
  override readonly code = "BadRequest";
}

export class NovaForbiddenError extends NovaError {
  override readonly name = "NovaForbiddenError";
  override readonly code = "Forbidden";
}

/** 401 even after one re-authentication. */
export class NovaUnauthorizedError extends NovaError {
  override readonly name = "NovaUnauthorizedError";
  override readonly code = "Unauthorized";
}

export class NovaRateLimitedError extends NovaError {
  override readonly name = "NovaRateLimitedError";
  override readonly code = "RateLimited";

  constructor(d: NovaErrorDetails, readonly retryAfterMs: number | undefined) {
    super(d);
  }
}

/** 502/503/504, a timeout or a lost connection. */
export class NovaUnavailableError extends NovaError {
  override readonly name = "NovaUnavailableError";
  override readonly code = "Unavailable";
}

/** 406 from Nova, or a cloud whose microversion range vmkeeper cannot use. */
export class NovaUnsupportedMicroversionError extends NovaError {
  override readonly name = "NovaUnsupportedMicroversionError";
  override readonly code = "UnsupportedMicroversion";

  constructor(d: NovaErrorDetails, readonly serverRange?: MicroversionRange) {
    super(d);
  }

  get serverRangeText(): string | undefined {
    return this.serverRange ? `${formatMicroversion(this.serverRange.min)}-${formatMicroversion(this.serverRange.max)}` : undefined;
  }
}

export class NovaServerError extends NovaError {
  override readonly name = "NovaServerError";
  override readonly code = "ServerError";
}

/** A 2xx response without the fields vmkeeper needs. */
export class NovaInvalidResponseError extends NovaError {
  override readonly name = "NovaInvalidResponseError";
  override readonly code = "InvalidResponse";
}

export class NovaUnexpectedStatusError extends NovaError {
  override readonly name = "NovaUnexpectedStatusError";
}

const SERVICE_STILL_UP = /Compute service of (\S+?) is still in use/i;

/** Maps an HTTP error response to its typed error. `outcomeUnknown` applies to 5xx of state-changing calls. */
export function novaErrorFor(d: NovaErrorDetails & { status: number }, retryAfterMs?: number): NovaError {
  const s = d.status;
  if (s === 400) return SERVICE_STILL_UP.test(d.novaMessage) ? new NovaServiceStillUpError(d) : new NovaBadRequestError(d);
  if (s === 401) return new NovaUnauthorizedError(d);
  if (s === 403) return new NovaForbiddenError(d);
  if (s === 404) return new NovaNotFoundError(d);
  if (s === 406) return new NovaUnsupportedMicroversionError(d);
  if (s === 409) return new NovaConflictError(d);
  if (s === 413 || s === 429) return new NovaRateLimitedError(d, retryAfterMs);
  if (s === 500) return new NovaServerError(d);
  if (s === 502 || s === 503 || s === 504) return new NovaUnavailableError(d);
  return new NovaUnexpectedStatusError(d);
}

export function isNovaError(e: unknown): e is NovaError {
  return e instanceof NovaError;
}
