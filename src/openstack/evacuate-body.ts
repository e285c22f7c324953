import { atLeast, type Microversion } from "./microversion.js";
import type { JsonRecord } from "./json-read.js";

export interface EvacuateOptions {
  /** Target host; without it the scheduler picks one (2.29+ validates the host through the scheduler). */
  host?: string;
  /**
   * Where Nova offers it (2.95+), the server lands stopped on the target and vmkeeper starts
   * it after checks. `false` asks for the older behaviour (request 2.94: it lands in its
   * previous power state). Default true.
   */
  landStopped?: boolean;
  /** Pre-2.14 only: whether the disks are on shared storage. Ignored (and not sent) later. */
  onSharedStorage?: boolean;
}

/**
 * The microversion an evacuate request goes out with: the session's, except that a caller
 * asking not to land stopped on a 2.95+ cloud gets 2.94.
 */
export function evacuateMicroversion(session: Microversion, opts: EvacuateOptions): Microversion {
  if (opts.landStopped === false && atLeast(session, "2.95")) return { major: 2, minor: 94 };
  return session;
}

/**
 * The evacuate action body for a microversion. vmkeeper never sends `adminPass` (a new
 * password would only be something else to keep secret) nor `force` (2.29–2.67; it skips the
 * scheduler's checks and was removed at 2.68). `onSharedStorage` exists only before 2.14.
 * 2.95 changed behaviour, not the body.
 */
export function buildEvacuateBody(version: Microversion, opts: EvacuateOptions): JsonRecord {
  const evacuate: JsonRecord = {};
  if (opts.host !== undefined) evacuate.host = opts.host;
  if (!atLeast(version, "2.14")) evacuate.onSharedStorage = opts.onSharedStorage ? "True" : "False";
  return { evacuate };
}

/** Whether an evacuation requested at `version` leaves the server stopped on the target. */
export function evacuationLandsStopped(version: Microversion): boolean {
  return atLeast(version, "2.95");
}
