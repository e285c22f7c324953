import type { ProcessCheck } from "./process-check.js";
import type { ProcessEntry } from "./scan-processes.js";

/** The kernel keeps at most this many characters of a program name in `comm`. */
const COMM_MAX = 15;

const INTERPRETERS = /^(python[\d.]*|perl|ruby|node|bash|sh)$/;

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * A process is `program` when its `comm` is the (kernel-truncated) name, when its argv[0]
 * ends in that name, or when argv[0] is an interpreter and its first non-option argument ends in it
 * (`/usr/bin/python3 /usr/bin/nova-compute --config-file ...`).
 */
export function isProgram(entry: ProcessEntry, program: string): boolean {
  if (entry.argv.length === 0) return false; // kernel thread or zombie: not a running daemon
  if (entry.comm === program.slice(0, COMM_MAX)) return true;
  const [argv0 = "", ...rest] = entry.argv;
  if (basename(argv0) === program) return true;
  const script = rest.find((a) => !a.startsWith("-"));
  return INTERPRETERS.test(basename(argv0)) && script !== undefined && basename(script) === program;
}

/** Which checks have a matching process, in the order of `checks`. */
export function evaluateProcessHealth(entries: readonly ProcessEntry[], checks: readonly ProcessCheck[]): { name: string; running: boolean }[] {
  return checks.map((c) => ({ name: c.name, running: entries.some((e) => c.anyOf.some((p) => isProgram(e, p))) }));
}
