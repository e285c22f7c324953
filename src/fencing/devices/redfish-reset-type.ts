/**
 * The ResetType values that do what a fence needs, best first (DMTF Redfish ResetType):
 * - Off: only `ForceOff` (immediate, no OS involvement). `GracefulShutdown` needs a working
 *   OS, `PushPowerButton` is a graceful shutdown on most hosts, `PowerCycle` turns it back on:
 *   none of them fences a hung or split-off host, so we do not fall back to them.
 * - On: `On`, else `ForceOn`, else `PushPowerButton` (from Off it powers on; the engine reads
 *   the state back either way).
 */
export const RESET_TYPE_PREFERENCE: Readonly<Record<"Off" | "On", readonly string[]>> = {
  Off: ["ForceOff"],
  On: ["On", "ForceOn", "PushPowerButton"],
};

/**
 * The ResetType to send for `target`. When the BMC lists no allowable values, the spec's
 * default holds: every value of the schema may be tried, so the first preference is used.
 * Undefined when the BMC lists values and none of them will do.
 */
export function chooseResetType(target: "Off" | "On", allowable: readonly string[] | undefined): string | undefined {
  const preferred = RESET_TYPE_PREFERENCE[target];
  if (allowable === undefined) return preferred[0];
  return preferred.find((t) => allowable.includes(t));
}
