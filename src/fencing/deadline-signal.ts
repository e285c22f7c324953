import type { Clock } from "../util/clock.js";

/**
 * A signal that aborts when `parent` does or when `ms` have passed on `clock` (so deadlines
 * run on the virtual clock in tests). `dispose` stops the timer once the work is done.
 */
export function deadlineSignal(clock: Clock, ms: number, parent: AbortSignal, reason: string): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const stopTimer = new AbortController();
  const onParent = (): void => ctl.abort(parent.reason);
  if (parent.aborted) ctl.abort(parent.reason);
  else parent.addEventListener("abort", onParent, { once: true });
  clock.sleep(ms, stopTimer.signal).then(
    () => ctl.abort(new DeadlineExceeded(reason)),
    () => undefined,
  );
  return {
    signal: ctl.signal,
    dispose: () => {
      stopTimer.abort();
      parent.removeEventListener("abort", onParent);
    },
  };
}

export class DeadlineExceeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeadlineExceeded";
  }
}
