/** One host process the agent watches: running when any process matches any of `anyOf`. */
export interface ProcessCheck {
  /** Name in the report: the alternatives joined by `|` (`libvirtd|virtqemud`). */
  name: string;
  /** Program names, any of which counts (`libvirtd`, `virtqemud`). */
  anyOf: string[];
}

/** nova-compute, and libvirt's QEMU driver as either the monolithic or the modular daemon. */
export const DEFAULT_PROCESS_CHECKS: readonly ProcessCheck[] = [parseProcessCheck("nova-compute"), parseProcessCheck("libvirtd|virtqemud")];

/** Parses `name` or `a|b|c` (any of them counts). Throws on an empty or slash-containing name. */
export function parseProcessCheck(spec: string): ProcessCheck {
  const anyOf = spec.split("|").map((s) => s.trim());
  for (const name of anyOf) {
    if (name === "" || name.includes("/") || /\s/.test(name)) throw new Error(`invalid process name ${JSON.stringify(name)} in ${JSON.stringify(spec)}: expected a program name, or names separated by |`);
  }
  return { name: anyOf.join("|"), anyOf };
}

/** The default checks plus `extra` specs, without duplicates (by name). */
export function processChecks(extra: readonly string[] = [], defaults: readonly ProcessCheck[] = DEFAULT_PROCESS_CHECKS): ProcessCheck[] {
  const out = new Map<string, ProcessCheck>();
  for (const c of [...defaults, ...extra.map(parseProcessCheck)]) out.set(c.name, c);
  return [...out.values()];
}
