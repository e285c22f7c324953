import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { RedfishTarget } from "../../../src/fencing/device-targets.js";

/**
 * A tiny in-process Redfish BMC for what sushy-tools does not offer: SessionService login and
 * logout, expiring tokens, ActionInfo, odd allowable values, 409 on a no-op reset, bodies that
 * echo credentials, oversized and malformed answers. Power changes at once.
 */
export interface FakeBmcOptions {
  username?: string;
  password?: string;
  /** PowerState as sent (may be PoweringOff, or undefined for none). */
  powerState?: string;
  /** Inline `ResetType@Redfish.AllowableValues`; undefined leaves them out. */
  allowableValues?: string[];
  /** Serve the allowable values through `@Redfish.ActionInfo` instead. */
  actionInfoValues?: string[];
  /** Actions target as sent (default the usual path). */
  resetTarget?: string;
  /** Links.Sessions as sent; null leaves out Links.Sessions (SessionService stays). */
  sessionsLink?: string | null;
  /** Answer to a reset into the state the system is already in (default 204). */
  noopResetStatus?: number;
}

export interface FakeBmcRequest {
  method: string;
  path: string;
  token?: string;
  basic: boolean;
  body: string;
}

export class FakeBmc {
  readonly username: string;
  readonly password: string;
  powerState: string | undefined;
  readonly tokens = new Set<string>();
  readonly issued: string[] = [];
  readonly deleted: string[] = [];
  readonly requests: FakeBmcRequest[] = [];
  /** Reject every token, even fresh ones. */
  rejectTokens = false;
  /** Answer the system GET with this instead (status, body). */
  systemOverride: { status: number; body: string } | undefined;
  /** Answer every Reset with this instead (status, body). */
  resetOverride: { status: number; body: string } | undefined;
  private server: http.Server | undefined;
  port = 0;

  constructor(private readonly opts: FakeBmcOptions = {}) {
    this.username = opts.username ?? "fencer";
    this.password = opts.password ?? `pw-${randomBytes(6).toString("hex")}`;
    this.powerState = "powerState" in opts ? opts.powerState : "On";
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => this.handle(req, body, res));
    });
    await new Promise<void>((r) => this.server?.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  target(overrides: Partial<RedfishTarget> = {}): RedfishTarget {
    return {
      kind: "Redfish",
      address: "127.0.0.1",
      port: this.port,
      scheme: "HTTP",
      authMethod: "Session",
      credentials: { username: this.username, password: this.password },
      insecureSkipTLSVerify: false,
      ...overrides,
    };
  }

  /** Every session expires now (the BMC's idle timeout). */
  expireSessions(): void {
    this.tokens.clear();
  }

  count(method: string, path: string): number {
    return this.requests.filter((r) => r.method === method && r.path === path).length;
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const path = req.url ?? "/";
    const token = typeof req.headers["x-auth-token"] === "string" ? req.headers["x-auth-token"] : undefined;
    const auth = req.headers.authorization;
    this.requests.push({ method: req.method ?? "", path, basic: auth?.startsWith("Basic ") ?? false, body, ...(token ? { token } : {}) });
    const json = (status: number, doc: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(doc));
    };
    const sessions = this.opts.sessionsLink === undefined ? "/redfish/v1/SessionService/Sessions" : this.opts.sessionsLink;
    if (path === "/redfish/v1/" && req.method === "GET") {
      json(200, {
        "@odata.id": "/redfish/v1/",
        Systems: { "@odata.id": "/redfish/v1/Systems" },
        SessionService: { "@odata.id": "/redfish/v1/SessionService" },
        ...(sessions !== null ? { Links: { Sessions: { "@odata.id": sessions } } } : {}),
      });
      return;
    }
    if (req.method === "POST" && path === (sessions ?? "/redfish/v1/SessionService/Sessions")) {
      this.login(body, json);
      return;
    }
    if (!this.authorized(token, auth)) {
      // Like a careless BMC: the error echoes what it was given.
      json(401, { error: { code: "Base.1.0.NoValidSession", message: `no valid session for token ${token ?? "-"} / ${auth ?? "-"}` } });
      return;
    }
    this.route(req.method ?? "", path, body, json, res);
  }

  private login(body: string, json: (status: number, doc: unknown, headers?: Record<string, string>) => void): void {
    const creds = JSON.parse(body) as { UserName?: string; Password?: string };
    if (creds.UserName !== this.username || creds.Password !== this.password) {
      json(401, { error: { message: `login failed for ${creds.UserName ?? ""} with password ${creds.Password ?? ""}` } });
      return;
    }
    const token = `tok-${randomBytes(8).toString("hex")}`;
    const id = String(this.issued.length + 1);
    this.tokens.add(token);
    this.issued.push(token);
    json(201, { "@odata.id": `/redfish/v1/SessionService/Sessions/${id}`, Id: id }, { "X-Auth-Token": token, Location: `/redfish/v1/SessionService/Sessions/${id}` });
  }

  private authorized(token: string | undefined, auth: string | undefined): boolean {
    if (token !== undefined) return !this.rejectTokens && this.tokens.has(token);
    return auth === `Basic ${Buffer.from(`${this.username}:${this.password}`).toString("base64")}`;
  }

  private route(method: string, path: string, body: string, json: (status: number, doc: unknown) => void, res: http.ServerResponse): void {
    const reset = this.opts.resetTarget ?? "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset";
    if (method === "DELETE" && path.startsWith("/redfish/v1/SessionService/Sessions/")) {
      const id = Number(path.split("/").pop());
      const token = this.issued[id - 1];
      if (token) this.tokens.delete(token);
      this.deleted.push(path);
      res.writeHead(204).end();
    } else if (method === "GET" && path === "/redfish/v1/Systems") {
      json(200, { Members: [{ "@odata.id": "/redfish/v1/Systems/1" }], "Members@odata.count": 1 });
    } else if (method === "GET" && path === "/redfish/v1/Systems/1") {
      if (this.systemOverride) {
        res.writeHead(this.systemOverride.status, { "content-type": "application/json" }).end(this.systemOverride.body);
        return;
      }
      json(200, this.system(reset));
    } else if (method === "GET" && path === "/redfish/v1/Systems/1/ResetActionInfo") {
      json(200, { Parameters: [{ Name: "ResetType", Required: true, AllowableValues: this.opts.actionInfoValues ?? [] }] });
    } else if (method === "POST" && path === new URL(reset, "http://x").pathname) {
      this.reset(body, json, res);
    } else {
      json(404, { error: { message: `no resource at ${path}` } });
    }
  }

  private system(reset: string): Record<string, unknown> {
    const action: Record<string, unknown> = { target: reset };
    if (this.opts.allowableValues) action["ResetType@Redfish.AllowableValues"] = this.opts.allowableValues;
    if (this.opts.actionInfoValues) action["@Redfish.ActionInfo"] = "/redfish/v1/Systems/1/ResetActionInfo";
    return {
      "@odata.id": "/redfish/v1/Systems/1",
      Id: "1",
      ...(this.powerState !== undefined ? { PowerState: this.powerState } : {}),
      Actions: { "#ComputerSystem.Reset": action },
    };
  }

  private reset(body: string, json: (status: number, doc: unknown) => void, res: http.ServerResponse): void {
    if (this.resetOverride) {
      res.writeHead(this.resetOverride.status, { "content-type": "application/json" }).end(this.resetOverride.body);
      return;
    }
    const type = (JSON.parse(body) as { ResetType?: string }).ResetType;
    const next = type === "ForceOff" ? "Off" : type === "On" || type === "ForceOn" || type === "PushPowerButton" ? "On" : undefined;
    if (next === undefined) {
      json(400, { error: { message: `ResetType ${type ?? ""} not supported` } });
      return;
    }
    if (next === this.powerState && this.opts.noopResetStatus !== undefined) {
      json(this.opts.noopResetStatus, { error: { "@Message.ExtendedInfo": [{ Message: `Server is already powered ${next}.` }] } });
      return;
    }
    this.powerState = next;
    res.writeHead(204).end();
  }
}
