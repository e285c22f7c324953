/** A status line on stderr while something slow runs. */
export interface Progress {
  /** What is being done now. */
  update(text: string): void;
  done(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * A spinner with a status line on `stream`, shown only when it is a terminal and only once
 * the work has taken more than `delayMs` (default 1 s); silent otherwise. The line is erased
 * when done, so the command's own output is never mixed with it.
 */
export function startProgress(stream: NodeJS.WritableStream, opts: { delayMs?: number; intervalMs?: number } = {}): Progress {
  const tty = (stream as NodeJS.WritableStream & { isTTY?: boolean }).isTTY === true;
  if (!tty) return { update: () => undefined, done: () => undefined };
  let text = "";
  let frame = 0;
  let shown = false;
  const draw = (): void => {
    shown = true;
    stream.write(`\r\u001b[2K${FRAMES[frame++ % FRAMES.length] ?? ""} ${text}`);
  };
  let timer: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    draw();
    timer = setInterval(draw, opts.intervalMs ?? 100);
    timer.unref();
  }, opts.delayMs ?? 1000);
  delay.unref();
  return {
    update: (t) => {
      text = t;
      if (shown) draw();
    },
    done: () => {
      clearTimeout(delay);
      if (timer) clearInterval(timer);
      if (shown) stream.write("\r\u001b[2K");
    },
  };
}
