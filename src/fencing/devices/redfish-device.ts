import type { HttpResponse, HttpTransport } from "../../openstack/http-transport.js";
import { NodeHttpTransport } from "../../openstack/node-http-transport.js";
import type { RedfishTarget } from "../device-targets.js";
import { FenceDeviceError, type FenceDevice, type PowerState } from "../fence-device.js";
import { DEFAULT_SESSIONS_PATH, RedfishClient, type RedfishRequest } from "./redfish-client.js";
import { redactSecrets, unexpectedStatus } from "./redfish-errors.js";
import { chooseResetType, RESET_TYPE_PREFERENCE } from "./redfish-reset-type.js";
import {
  parseActionInfoResetTypes,
  parseCollectionMembers,
  parseComputerSystem,
  parseJsonBody,
  parseServiceRoot,
  type ComputerSystemView,
  type ResetAction,
  type ServiceRootLinks,
} from "./redfish-resources.js";

/** Per-request deadline (connect to last byte) unless the caller sets one. */
export const DEFAULT_REDFISH_REQUEST_TIMEOUT_MS = 15_000;
/** Larger answers fail with `Protocol`: no resource we read comes near this. */
export const MAX_REDFISH_RESPONSE_BYTES = 1024 * 1024;

export interface RedfishDeviceOptions {
  requestTimeoutMs?: number;
  /** The network, for tests; default node:http/https without keep-alive, answers capped at 1 MiB. */
  transport?: HttpTransport;
}

/** A FenceDevice that can also log out of its Redfish session. */
export interface RedfishDevice extends FenceDevice {
  /** Deletes the Session-auth session, if one is open; never throws. Nothing to do for Basic. */
  close(signal?: AbortSignal): Promise<void>;
}

interface DiscoveredSystem {
  path: string;
  reset?: ResetAction;
}

/**
 * Power fencing through a BMC's Redfish service (DMTF DSP0266): finds the ComputerSystem
 * (`target.systemId`, else the only member of the Systems collection), reads its PowerState,
 * and switches power with `ComputerSystem.Reset` (`ForceOff` / `On`). What it found is kept
 * for later calls; a 404 on the system forgets it. Every error is a FenceDeviceError whose
 * message names the endpoint and the user but never the password or a session token.
 */
export function createRedfishDevice(target: RedfishTarget, opts: RedfishDeviceOptions = {}): RedfishDevice {
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REDFISH_REQUEST_TIMEOUT_MS;
  const transport = opts.transport ?? new NodeHttpTransport({ keepAlive: false, maxResponseBytes: MAX_REDFISH_RESPONSE_BYTES, defaultTimeoutMs: timeoutMs });
  return new RedfishFenceDevice(target, new RedfishClient(target, transport, timeoutMs));
}

class RedfishFenceDevice implements RedfishDevice {
  private system: DiscoveredSystem | undefined;
  private systemsPath = "/redfish/v1/Systems";

  constructor(
    private readonly target: RedfishTarget,
    private readonly client: RedfishClient,
  ) {}

  get description(): string {
    const path = this.system?.path ?? (this.target.systemId !== undefined ? this.systemPath(this.target.systemId) : this.systemsPath);
    return `redfish ${this.client.origin}${path}`;
  }

  powerState(signal: AbortSignal): Promise<PowerState> {
    return this.guard(async () => {
      if (this.system === undefined) return (await this.discover(signal)).view.powerState;
      return (await this.readSystem(this.system.path, signal)).powerState;
    });
  }

  setPower(target: "Off" | "On", signal: AbortSignal): Promise<void> {
    return this.guard(async () => {
      const system = this.system ?? (await this.discover(signal)).system;
      const reset = this.resetFor(system, target);
      const req: RedfishRequest = { method: "POST", path: reset.target, body: { ResetType: reset.type } };
      const res = await this.client.request(req, signal);
      if (res.status >= 200 && res.status < 300) return;
      // Some BMCs refuse to switch to the state the system is already in (iDRAC: 409).
      if (res.status === 400 || res.status === 409) {
        const now = await this.readSystem(system.path, signal);
        if (now.rawPowerState === target) return;
      }
      if (res.status === 404) this.system = undefined;
      throw unexpectedStatus(res.status, res.body, this.context(req));
    });
  }

  close(signal: AbortSignal = AbortSignal.timeout(5000)): Promise<void> {
    return this.client.logout(signal);
  }

  /** The action target and the ResetType to post for `target`, or a Config error. */
  private resetFor(system: DiscoveredSystem, target: "Off" | "On"): { target: string; type: string } {
    const reset = system.reset;
    if (reset === undefined) throw new FenceDeviceError("Config", `Redfish system ${system.path} on ${this.client.endpoint} offers no ComputerSystem.Reset action`);
    const type = chooseResetType(target, reset.allowableValues);
    if (type === undefined) {
      const allowed = (reset.allowableValues ?? []).join(", ") || "none";
      const wanted = RESET_TYPE_PREFERENCE[target].join(" or ");
      throw new FenceDeviceError("Config", `Redfish system ${system.path} on ${this.client.endpoint} allows ResetType ${allowed}, not ${wanted}, so it cannot power ${target === "Off" ? "off hard" : "on"}`);
    }
    return { target: reset.target, type };
  }

  private async discover(signal: AbortSignal): Promise<{ system: DiscoveredSystem; view: ComputerSystemView }> {
    const root = parseServiceRoot(await this.getJson({ method: "GET", path: "/redfish/v1/", auth: false }, signal));
    this.systemsPath = root.systems;
    if (this.target.authMethod === "Session") this.client.sessionsPath = this.sessionsPath(root);
    const path = this.target.systemId !== undefined ? this.systemPath(this.target.systemId) : await this.onlySystem(signal);
    const view = await this.readSystem(path, signal);
    const system: DiscoveredSystem = { path };
    if (view.reset !== undefined) system.reset = await this.withActionInfo(view.reset, signal);
    this.system = system;
    return { system, view };
  }

  /** Where to log in: `Links.Sessions`, else the standard path when a SessionService exists at all. */
  private sessionsPath(root: ServiceRootLinks): string {
    if (root.sessions !== undefined) return root.sessions;
    if (root.sessionService) return DEFAULT_SESSIONS_PATH;
    throw new FenceDeviceError("Config", `Redfish BMC ${this.client.endpoint} offers no sessions (no SessionService in /redfish/v1/); use authMethod Basic`);
  }

  private async onlySystem(signal: AbortSignal): Promise<string> {
    const members = parseCollectionMembers(await this.getJson({ method: "GET", path: this.systemsPath }, signal), "Systems");
    const [only] = members;
    if (members.length === 1 && only !== undefined) return only;
    const ids = members.slice(0, 5).map((m) => decodeURIComponent(m.replace(/\/+$/, "").split("/").pop() ?? m));
    const list = ids.length > 0 ? ` (${ids.join(", ")}${members.length > ids.length ? ", ..." : ""})` : "";
    throw new FenceDeviceError(
      "Config",
      `Redfish BMC ${this.client.endpoint} has ${members.length} systems in ${this.systemsPath}${list}; ${members.length === 0 ? "nothing to fence" : "set systemId to pick one"}`,
    );
  }

  /** Inline allowable values win; else the ActionInfo resource's, when it can be read. */
  private async withActionInfo(reset: ResetAction, signal: AbortSignal): Promise<ResetAction> {
    if (reset.allowableValues !== undefined || reset.actionInfo === undefined) return reset;
    const res = await this.client.request({ method: "GET", path: reset.actionInfo }, signal);
    if (res.status !== 200) return reset;
    const values = parseActionInfoResetTypes(parseJsonBody(res.body, `Redfish BMC ${this.client.endpoint}: GET ${reset.actionInfo}`));
    return values === undefined ? reset : { ...reset, allowableValues: values };
  }

  private async readSystem(path: string, signal: AbortSignal): Promise<ComputerSystemView> {
    const req: RedfishRequest = { method: "GET", path };
    const res = await this.client.request(req, signal);
    if (res.status === 404) {
      this.system = undefined;
      const which = this.target.systemId !== undefined ? `system "${this.target.systemId}"` : `system ${path}`;
      throw new FenceDeviceError("Config", `Redfish BMC ${this.client.endpoint} has no ${which} (HTTP 404 on GET ${path})`);
    }
    return parseComputerSystem(this.expectJson(res, req));
  }

  private async getJson(req: RedfishRequest, signal: AbortSignal): Promise<Record<string, unknown>> {
    return this.expectJson(await this.client.request(req, signal), req);
  }

  private expectJson(res: HttpResponse, req: RedfishRequest): Record<string, unknown> {
    const ctx = this.context(req);
    if (res.status !== 200) throw unexpectedStatus(res.status, res.body, ctx);
    return parseJsonBody(res.body, `Redfish BMC ${ctx.endpoint}: ${ctx.request}`);
  }

  private systemPath(id: string): string {
    return `${this.systemsPath.replace(/\/+$/, "")}/${encodeURIComponent(id)}`;
  }

  private context(req: RedfishRequest): { endpoint: string; request: string } {
    return { endpoint: this.client.endpoint, request: `${req.method} ${req.path}` };
  }

  /** Every failure leaves as a FenceDeviceError with the password and session tokens scrubbed. */
  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e: unknown) {
      const secrets = [this.target.credentials.password, ...this.client.tokens];
      if (e instanceof FenceDeviceError) throw new FenceDeviceError(e.reason, redactSecrets(e.message, secrets));
      const text = e instanceof Error ? e.message : String(e);
      throw new FenceDeviceError("Protocol", redactSecrets(`Redfish BMC ${this.client.endpoint}: ${text}`, secrets));
    }
  }
}
