import { randomBytes } from "node:crypto";
import type { Clock } from "../util/clock.js";
import type { IdentityKnobs, SimAppCredentialSeed, SimProjectSeed, SimUserSeed } from "./sim-config.js";
import type { SeededRandom } from "./seeded-random.js";

export interface IdentityProject {
  id: string;
  name: string;
  domainId: string;
}

export interface IdentityUser {
  id: string;
  name: string;
  domainId: string;
  password: string;
  defaultProjectId: string | null;
  /** Role names per project id. */
  roles: Map<string, string[]>;
}

export interface IdentityRole {
  id: string;
  name: string;
}

export interface IssuedToken {
  id: string;
  userId: string;
  projectId: string | null;
  roles: string[];
  methods: string[];
  auditId: string;
  issuedAtMs: number;
  expiresAtMs: number;
  appCredentialId: string | null;
  revoked: boolean;
}

/** Why an authentication failed: 400 for a malformed request, 401 for bad credentials or scope. */
export class KeystoneError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404,
    message: string,
  ) {
    super(message);
    this.name = "KeystoneError";
  }
}

const UNAUTHORIZED = "The request you have made requires authentication.";

/** What POST /v3/auth/tokens carries, already parsed from JSON. */
export interface AuthRequest {
  methods: string[];
  password?: { userId?: string; userName?: string; domainName?: string; password: string };
  applicationCredential?: { id?: string; name?: string; userName?: string; userId?: string; secret: string };
  token?: { id: string };
  scope?: { projectId?: string; projectName?: string; domainName?: string; unscoped?: boolean };
}

/** Keystone's identity and token state: users, projects, application credentials, tokens. */
export class KeystoneModel {
  readonly projects = new Map<string, IdentityProject>();
  readonly users = new Map<string, IdentityUser>();
  readonly roles = new Map<string, IdentityRole>();
  private readonly appCreds = new Map<string, SimAppCredentialSeed & { userId: string; projectId: string }>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly knobs: IdentityKnobs;

  constructor(
    private readonly clock: Clock,
    private readonly rng: SeededRandom,
    seed: { projects: SimProjectSeed[]; users: SimUserSeed[]; appCredentials: SimAppCredentialSeed[]; identity: IdentityKnobs },
  ) {
    this.knobs = { ...seed.identity };
    for (const p of seed.projects) this.addProject(p);
    for (const u of seed.users) this.addUser(u);
    for (const a of seed.appCredentials) this.addAppCredential(a);
  }

  get tokenLifetimeSeconds(): number {
    return this.knobs.tokenLifetimeSeconds;
  }

  set tokenLifetimeSeconds(s: number) {
    this.knobs.tokenLifetimeSeconds = s;
  }

  get region(): string {
    return this.knobs.region;
  }

  addProject(p: SimProjectSeed): IdentityProject {
    const project = { id: p.id ?? this.rng.uuid().replace(/-/g, ""), name: p.name, domainId: "default" };
    this.projects.set(project.id, project);
    return project;
  }

  addUser(u: SimUserSeed): IdentityUser {
    const roles = new Map<string, string[]>();
    for (const [projectName, names] of Object.entries(u.roles)) {
      const project = this.projectByName(projectName);
      if (!project) throw new Error(`user ${u.name}: unknown project ${projectName}`);
      roles.set(project.id, names);
      for (const n of names) if (!this.roleByName(n)) this.roles.set(n, { id: this.rng.uuid().replace(/-/g, ""), name: n });
    }
    const def = u.defaultProject ? (this.projectByName(u.defaultProject)?.id ?? null) : null;
    const user: IdentityUser = { id: u.id ?? this.rng.uuid().replace(/-/g, ""), name: u.name, domainId: "default", password: u.password, defaultProjectId: def, roles };
    this.users.set(user.id, user);
    return user;
  }

  addAppCredential(a: SimAppCredentialSeed): void {
    const user = this.userByName(a.user);
    const project = this.projectByName(a.project);
    if (!user || !project) throw new Error(`application credential ${a.name}: unknown user or project`);
    this.appCreds.set(a.id, { ...a, userId: user.id, projectId: project.id });
  }

  projectByName(name: string): IdentityProject | undefined {
    for (const p of this.projects.values()) if (p.name === name) return p;
    return undefined;
  }

  userByName(name: string): IdentityUser | undefined {
    for (const u of this.users.values()) if (u.name === name) return u;
    return undefined;
  }

  roleByName(name: string): IdentityRole | undefined {
    return this.roles.get(name);
  }

  /** Issues a token for a parsed authentication request, or throws a KeystoneError. */
  authenticate(req: AuthRequest): IssuedToken {
    const method = req.methods[0];
    if (req.methods.length === 0 || !method) throw new KeystoneError(400, "Expecting to find methods in auth - the server could not comply with the request since it is either malformed or otherwise incorrect.");
    if (method === "password") return this.authPassword(req);
    if (method === "application_credential") return this.authAppCredential(req);
    if (method === "token") return this.authToken(req);
    throw new KeystoneError(401, UNAUTHORIZED);
  }

  private authPassword(req: AuthRequest): IssuedToken {
    const p = req.password;
    if (!p) throw new KeystoneError(400, "Expecting to find password in identity - the server could not comply with the request since it is either malformed or otherwise incorrect.");
    const user = p.userId ? this.users.get(p.userId) : p.userName ? this.userByName(p.userName) : undefined;
    if (!user || user.password !== p.password) throw new KeystoneError(401, UNAUTHORIZED);
    const projectId = this.resolveScope(user, req.scope);
    return this.issue(user, projectId, ["password"], this.nowMs() + this.knobs.tokenLifetimeSeconds * 1000, null, null);
  }

  private authAppCredential(req: AuthRequest): IssuedToken {
    const a = req.applicationCredential;
    if (!a) throw new KeystoneError(400, "Expecting to find application_credential in identity - the server could not comply with the request since it is either malformed or otherwise incorrect.");
    let cred = a.id ? this.appCreds.get(a.id) : undefined;
    if (!cred && a.name) {
      const owner = a.userId ? this.users.get(a.userId) : a.userName ? this.userByName(a.userName) : undefined;
      for (const c of this.appCreds.values()) if (c.name === a.name && c.userId === owner?.id) cred = c;
    }
    if (!cred || cred.secret !== a.secret) throw new KeystoneError(401, UNAUTHORIZED);
    if (req.scope && !req.scope.unscoped) throw new KeystoneError(401, UNAUTHORIZED);
    const user = this.users.get(cred.userId);
    if (!user) throw new KeystoneError(401, UNAUTHORIZED);
    const granted = user.roles.get(cred.projectId) ?? [];
    const roles = cred.roles ? granted.filter((r) => cred.roles?.includes(r)) : granted;
    return this.issue(user, cred.projectId, ["application_credential"], this.nowMs() + this.knobs.tokenLifetimeSeconds * 1000, cred.id, roles);
  }

  private authToken(req: AuthRequest): IssuedToken {
    const original = req.token ? this.validate(req.token.id) : undefined;
    if (!original) throw new KeystoneError(401, UNAUTHORIZED);
    if (original.appCredentialId) throw new KeystoneError(403, "Application credential tokens cannot be rescoped.");
    const user = this.users.get(original.userId);
    if (!user) throw new KeystoneError(401, UNAUTHORIZED);
    const projectId = req.scope ? this.resolveScope(user, req.scope) : original.projectId;
    // Keystone keeps the original expiry when a token is exchanged for another.
    return this.issue(user, projectId, ["token", ...original.methods.filter((m) => m !== "token")], original.expiresAtMs, null, null);
  }

  private resolveScope(user: IdentityUser, scope: AuthRequest["scope"]): string | null {
    if (scope?.unscoped) return null;
    if (!scope) return user.defaultProjectId && user.roles.has(user.defaultProjectId) ? user.defaultProjectId : null;
    const project = scope.projectId ? this.projects.get(scope.projectId) : scope.projectName ? this.projectByName(scope.projectName) : undefined;
    if (!project || !user.roles.has(project.id)) throw new KeystoneError(401, UNAUTHORIZED);
    return project.id;
  }

  private issue(user: IdentityUser, projectId: string | null, methods: string[], expiresAtMs: number, appCredentialId: string | null, roles: string[] | null): IssuedToken {
    this.pruneExpired();
    const token: IssuedToken = {
      id: `gAAAAA${randomBytes(48).toString("base64url")}`,
      userId: user.id,
      projectId,
      roles: roles ?? (projectId ? (user.roles.get(projectId) ?? []) : []),
      methods,
      auditId: randomBytes(16).toString("base64url").slice(0, 22),
      issuedAtMs: this.nowMs(),
      expiresAtMs,
      appCredentialId,
      revoked: false,
    };
    this.tokens.set(token.id, token);
    return token;
  }

  /** The token if it is known, unexpired and not revoked. */
  validate(id: string | undefined): IssuedToken | undefined {
    if (!id) return undefined;
    const t = this.tokens.get(id);
    if (!t || t.revoked || t.expiresAtMs <= this.nowMs()) return undefined;
    return t;
  }

  revoke(id: string): boolean {
    const t = this.tokens.get(id);
    if (!t) return false;
    t.revoked = true;
    return true;
  }

  /** Makes every issued token expire now (clients must re-authenticate). */
  expireAllTokens(): number {
    const now = this.nowMs();
    let n = 0;
    for (const t of this.tokens.values()) {
      if (t.expiresAtMs > now) n++;
      t.expiresAtMs = Math.min(t.expiresAtMs, now);
    }
    return n;
  }

  activeTokenCount(): number {
    const now = this.nowMs();
    let n = 0;
    for (const t of this.tokens.values()) if (!t.revoked && t.expiresAtMs > now) n++;
    return n;
  }

  /** Wall-clock date of a monotonic instant. */
  wallAt(ms: number): Date {
    return new Date(this.clock.now().getTime() - (this.nowMs() - ms));
  }

  private nowMs(): number {
    return this.clock.monotonicMs();
  }

  private pruneExpired(): void {
    if (this.tokens.size < 10_000) return;
    const now = this.nowMs();
    for (const [id, t] of this.tokens) if (t.expiresAtMs <= now - 3600_000 || t.revoked) this.tokens.delete(id);
  }
}
