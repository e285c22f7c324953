/**
 * Polls `check` until it stops throwing (or returns a value), or fails with the last error
 * after `timeoutMs`. Integration tests assert the state of the world with it.
 */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await check();
    } catch (err: unknown) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const msg = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(`eventually: timed out after ${timeoutMs} ms: ${msg}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
