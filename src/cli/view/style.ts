/** ANSI styling for terminal output; a plain Style returns text unchanged. */
export interface Style {
  ok(text: string): string;
  warn(text: string): string;
  bad(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const wrap = (code: string) => (text: string): string => `\u001b[${code}m${text}\u001b[0m`;

export const PLAIN: Style = { ok: (t) => t, warn: (t) => t, bad: (t) => t, dim: (t) => t, bold: (t) => t };
export const ANSI: Style = { ok: wrap("32"), warn: wrap("33"), bad: wrap("31"), dim: wrap("2"), bold: wrap("1") };

/** Colour only for a terminal, and never when NO_COLOR is set to anything non-empty (no-color.org). */
export function styleFor(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): Style {
  const tty = (stream as NodeJS.WritableStream & { isTTY?: boolean }).isTTY === true;
  return tty && !env.NO_COLOR ? ANSI : PLAIN;
}

/** The visible width of a string that may hold ANSI escapes. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, "").length;
}

/** Colours a health or phase word by how good it is. */
export function stateColour(style: Style, state: string): string {
  if (["Healthy", "Recovered", "Ready", "True", "Enabled", "Up", "open"].includes(state)) return style.ok(state);
  if (["Failed", "FencingFailed", "NotReady", "Conflict", "False", "Down", "Suppressed", "blocked"].includes(state)) return style.bad(state);
  return style.warn(state);
}
