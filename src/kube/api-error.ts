/** A Kubernetes API error with the Status fields that callers branch on. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${statusCode} ${reason}: ${message}`);
    this.name = "KubeApiError";
  }
}

/** A request that never got an HTTP answer (refused, reset, timed out). */
export class KubeTransportError extends Error {
  constructor(message: string, readonly method: string, readonly path: string) {
    super(`${method} ${path}: ${message}`);
    this.name = "KubeTransportError";
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409 && err.reason === "AlreadyExists";
}

export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 410;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
