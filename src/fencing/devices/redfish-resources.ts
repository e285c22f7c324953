import { isRecord } from "../../openstack/json-read.js";
import { FenceDeviceError, type PowerState } from "../fence-device.js";

/**
 * Readers for the few Redfish resources the device needs (ServiceRoot, a collection,
 * ComputerSystem, ActionInfo). Unknown fields are ignored; a missing required field is a
 * `Protocol` error naming the field, never its value. URIs are reduced to their path (see
 * `redfishPath`), so a BMC can never send our credentials to another host.
 */

export interface ServiceRootLinks {
  systems: string;
  /** `Links.Sessions`, where Session auth logs in. */
  sessions?: string;
  /** Whether the root links a SessionService (older services may omit `Links.Sessions`). */
  sessionService: boolean;
}

export interface ResetAction {
  /** Path of `Actions["#ComputerSystem.Reset"].target`. */
  target: string;
  /** `ResetType@Redfish.AllowableValues`, when the system lists them inline. */
  allowableValues?: string[];
  /** `@Redfish.ActionInfo` path, which lists the allowable values on some BMCs instead. */
  actionInfo?: string;
}

export interface ComputerSystemView {
  /** The PowerState field as the BMC sent it (`On`, `PoweringOff`, ...), or undefined. */
  rawPowerState?: string;
  powerState: PowerState;
  reset?: ResetAction;
}

/** The path (and query) of a URI from the BMC, resolved against the BMC's own address. */
export function redfishPath(uri: string, field: string): string {
  try {
    const u = new URL(uri, "http://bmc.invalid");
    return `${u.pathname}${u.search}`;
  } catch {
    throw new FenceDeviceError("Protocol", `Redfish field ${field} is not a URI`);
  }
}

export function parseJsonBody(body: string, what: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(body) as unknown;
  } catch {
    throw new FenceDeviceError("Protocol", `${what}: answer is not JSON`);
  }
  if (!isRecord(doc)) throw new FenceDeviceError("Protocol", `${what}: answer is not a JSON object`);
  return doc;
}

function odataId(v: unknown, field: string): string {
  if (!isRecord(v) || typeof v["@odata.id"] !== "string") throw new FenceDeviceError("Protocol", `Redfish field ${field} has no @odata.id`);
  return redfishPath(v["@odata.id"], field);
}

export function parseServiceRoot(doc: Record<string, unknown>): ServiceRootLinks {
  if (doc.Systems === undefined) throw new FenceDeviceError("Config", "the Redfish service root lists no Systems collection");
  const systems = odataId(doc.Systems, "ServiceRoot.Systems");
  const links = doc.Links;
  const sessions = isRecord(links) && isRecord(links.Sessions) ? odataId(links.Sessions, "ServiceRoot.Links.Sessions") : undefined;
  const sessionService = isRecord(doc.SessionService);
  return sessions === undefined ? { systems, sessionService } : { systems, sessions, sessionService };
}

export function parseCollectionMembers(doc: Record<string, unknown>, field: string): string[] {
  const members = doc.Members;
  if (!Array.isArray(members)) throw new FenceDeviceError("Protocol", `Redfish field ${field}.Members is missing`);
  return members.map((m, i) => odataId(m, `${field}.Members[${i}]`));
}

/**
 * Redfish PowerState to ours. Only `Off` means off: the engine takes it as proof that a host
 * is fenced. `PoweringOff` and `PoweringOn` mean power is still (or already) applied, so they
 * read as `On`; `Paused` (a halted but powered system) as `On` too. Anything else, or no
 * PowerState at all, is `Unknown`.
 */
export function mapPowerState(raw: unknown): PowerState {
  switch (raw) {
    case "Off":
      return "Off";
    case "On":
    case "PoweringOn":
    case "PoweringOff":
    case "Paused":
      return "On";
    default:
      return "Unknown";
  }
}

export function parseComputerSystem(doc: Record<string, unknown>): ComputerSystemView {
  const raw = typeof doc.PowerState === "string" ? doc.PowerState : undefined;
  const view: ComputerSystemView = { powerState: mapPowerState(raw) };
  if (raw !== undefined) view.rawPowerState = raw;
  const actions = doc.Actions;
  const reset = isRecord(actions) ? actions["#ComputerSystem.Reset"] : undefined;
  if (isRecord(reset) && typeof reset.target === "string") {
    const action: ResetAction = { target: redfishPath(reset.target, "Actions.#ComputerSystem.Reset.target") };
    const allowed = reset["ResetType@Redfish.AllowableValues"];
    if (Array.isArray(allowed)) action.allowableValues = allowed.filter((v): v is string => typeof v === "string");
    if (typeof reset["@Redfish.ActionInfo"] === "string") action.actionInfo = redfishPath(reset["@Redfish.ActionInfo"], "@Redfish.ActionInfo");
    view.reset = action;
  }
  return view;
}

/** `Parameters[Name=ResetType].AllowableValues` of an ActionInfo resource, if it lists them. */
export function parseActionInfoResetTypes(doc: Record<string, unknown>): string[] | undefined {
  const params = doc.Parameters;
  if (!Array.isArray(params)) return undefined;
  for (const p of params) {
    if (isRecord(p) && p.Name === "ResetType" && Array.isArray(p.AllowableValues)) {
      return p.AllowableValues.filter((v): v is string => typeof v === "string");
    }
  }
  return undefined;
}
