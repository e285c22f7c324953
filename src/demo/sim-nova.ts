import type { GroupView, ServerView } from "./demo-outcome.js";

const MICROVERSION = "2.93";

interface RawServer {
  id: string;
  name: string;
  status: string;
  "OS-EXT-SRV-ATTR:host"?: string | null;
}

interface RawGroup {
  name: string;
  policy?: string;
  policies?: string[];
  members: string[];
}

/**
 * Reads servers and server groups from the simulator's Nova API as an admin would, through
 * Keystone (password auth of the simulator's seeded admin), so the demo checks its outcome
 * against the cloud rather than against vmkeeper's own status.
 */
export class SimNovaReader {
  private token?: string;

  constructor(private readonly baseUrl: string) {}

  private async authenticate(): Promise<string> {
    const res = await fetch(`${this.baseUrl}/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: { methods: ["password"], password: { user: { name: "admin", domain: { name: "Default" }, password: "admin-secret" } } },
          scope: { project: { name: "admin", domain: { name: "Default" } } },
        },
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const token = res.headers.get("x-subject-token");
    if (res.status !== 201 || !token) throw new Error(`Keystone refused the demo's admin: ${res.status} ${await res.text()}`);
    return token;
  }

  private async get<T>(path: string): Promise<T> {
    this.token ??= await this.authenticate();
    const res = await fetch(`${this.baseUrl}/v2.1${path}`, { headers: { "x-auth-token": this.token, "openstack-api-version": `compute ${MICROVERSION}` }, signal: AbortSignal.timeout(10_000) });
    if (res.status === 401) {
      this.token = undefined;
      return this.get(path);
    }
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async servers(): Promise<ServerView[]> {
    const out: ServerView[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.get<{ servers: RawServer[] }>(`/servers/detail?all_tenants=1&limit=500${marker ? `&marker=${marker}` : ""}`);
      out.push(...page.servers.map((s) => ({ id: s.id, name: s.name, status: s.status, host: s["OS-EXT-SRV-ATTR:host"] ?? "" })));
      if (page.servers.length < 500) return out;
      marker = page.servers[page.servers.length - 1]?.id;
    }
  }

  async groups(): Promise<GroupView[]> {
    const r = await this.get<{ server_groups: RawGroup[] }>("/os-server-groups?all_projects=true&limit=1000");
    return r.server_groups.map((g) => ({ name: g.name, policy: g.policy ?? g.policies?.[0] ?? "", members: g.members }));
  }
}
