export type KeystoneErrorReason =
  | "AuthFailed"
  | "Forbidden"
  | "BadRequest"
  | "NotFound"
  | "Unreachable"
  | "Unavailable"
  | "InvalidResponse"
  | "EndpointNotFound";

/**
 * Authentication or catalog failure. Messages name the auth URL, cloud, user/project
 * names and Keystone's own message — never a password, secret or token. A KeystoneError
 * thrown by `KeystoneSession.request` means the service request itself was not sent.
 */
export class KeystoneError extends Error {
  override readonly name = "KeystoneError";

  constructor(
    readonly reason: KeystoneErrorReason,
    message: string,
    readonly status?: number,
    readonly requestId?: string,
  ) {
    super(message);
  }

  /** Worth retrying later without a configuration change. */
  get transient(): boolean {
    return this.reason === "Unreachable" || this.reason === "Unavailable";
  }
}

export function isKeystoneError(e: unknown): e is KeystoneError {
  return e instanceof KeystoneError;
}
