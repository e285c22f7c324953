/** How fast a channel whose socket is missing or closed is dialled again. */
export interface ReconnectPolicy {
  /** Delay before the first retry. */
  initialDelayMs: number;
  /** Upper bound of the doubling delay. */
  maxDelayMs: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = { initialDelayMs: 500, maxDelayMs: 30_000 };

/** Delay before retry number `attempt` (0 for the first): doubles from the initial delay up to the cap. */
export function reconnectDelayMs(attempt: number, policy: ReconnectPolicy): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
}
