import { parse } from "yaml";
import { CloudConfigError } from "./cloud-config-error.js";
import { isRecord, type JsonRecord } from "./json-read.js";
import { SecretValue } from "./secret-value.js";

export type AuthType = "password" | "v3password" | "v3applicationcredential" | "token" | "v3token";
export type EndpointInterface = "public" | "internal" | "admin";

export const AUTH_TYPES: readonly AuthType[] = ["password", "v3password", "v3applicationcredential", "token", "v3token"];

/** The `auth:` section of a cloud, camelCased. Secrets are wrapped in SecretValue. */
export interface CloudAuth {
  username?: string;
  userId?: string;
  userDomainName?: string;
  userDomainId?: string;
  password?: SecretValue;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  /** Domain scope (only when no project is given). */
  domainName?: string;
  domainId?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: SecretValue;
  token?: SecretValue;
}

/** One cloud of a clouds.yaml, resolved and checked. */
export interface CloudConfig {
  cloudName: string;
  /** Keystone v3 base URL, e.g. `https://keystone.example:5000/v3` (always ends in /v3). */
  authUrl: string;
  authType: AuthType;
  auth: CloudAuth;
  regionName?: string;
  interface: EndpointInterface;
  /** `cacert:` as a file path (to be read by the caller) ... */
  caCertFile?: string;
  /** ... or inline PEM (a vmkeeper extension; also where a CA Secret's content goes). */
  caCertPem?: string;
  /** `verify: false` turns TLS verification off (not recommended). */
  verify: boolean;
  /** `api_timeout:` in milliseconds. */
  apiTimeoutMs?: number;
}

export interface ParseCloudsYamlOptions {
  /** Cloud to use; defaults to env.OS_CLOUD. */
  cloudName?: string;
  /** Environment for OS_CLOUD; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** secure.yaml content, deep-merged over clouds.yaml. */
  secureYaml?: string;
  /** Where the text came from, for messages (e.g. `Secret "ns/name" key "clouds.yaml"`). */
  source?: string;
  secureSource?: string;
}

/** Parses clouds.yaml text (from a file or a Kubernetes Secret) and returns the selected cloud. */
export function parseCloudsYaml(text: string, options: ParseCloudsYamlOptions = {}): CloudConfig {
  const source = options.source ?? "clouds.yaml";
  let doc = parseDocument(text, source);
  if (options.secureYaml !== undefined) {
    const secure = parseDocument(options.secureYaml, options.secureSource ?? "secure.yaml");
    doc = deepMerge(doc, secure);
  }
  const name = selectCloudName(doc, source, options);
  const clouds = doc.clouds;
  const entry = isRecord(clouds) ? clouds[name] : undefined;
  if (!isRecord(entry)) {
    throw new CloudConfigError("CloudNotFound", `${source} has no cloud "${name}"; it has: ${cloudNamesOf(doc).join(", ") || "none"}`, `clouds.${name}`);
  }
  return cloudConfigFromEntry(name, normaliseKeys(entry), source);
}

/** Names of the clouds in a clouds.yaml text (for messages and pickers). */
export function listCloudNames(text: string, source = "clouds.yaml"): string[] {
  return cloudNamesOf(parseDocument(text, source));
}

/** openstacksdk's merge: maps merge key by key, anything else in `overlay` replaces `base`. */
export function deepMerge(base: JsonRecord, overlay: JsonRecord): JsonRecord {
  const out: JsonRecord = { ...base };
  for (const [k, v] of Object.entries(overlay)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function parseDocument(text: string, source: string): JsonRecord {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    throw new CloudConfigError("InvalidYaml", `${source} is not valid YAML or JSON`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isRecord(doc)) throw new CloudConfigError("InvalidYaml", `${source} must be a map with a top-level "clouds" key`);
  return doc;
}

function cloudNamesOf(doc: JsonRecord): string[] {
  return isRecord(doc.clouds) ? Object.keys(doc.clouds) : [];
}

function selectCloudName(doc: JsonRecord, source: string, options: ParseCloudsYamlOptions): string {
  if (!isRecord(doc.clouds)) throw new CloudConfigError("InvalidYaml", `${source} has no top-level "clouds" map`, "clouds");
  const env = options.env ?? process.env;
  const name = options.cloudName ?? env.OS_CLOUD;
  if (name === undefined || name === "") {
    throw new CloudConfigError("NoCloudName", `no cloud name given and OS_CLOUD is not set; ${source} has: ${cloudNamesOf(doc).join(", ") || "none"}`);
  }
  return name;
}

/** openstacksdk accepts `project-name` as well as `project_name`. */
function normaliseKeys(o: JsonRecord): JsonRecord {
  const out: JsonRecord = {};
  for (const [k, v] of Object.entries(o)) out[k.replace(/-/g, "_")] = isRecord(v) ? normaliseKeys(v) : v;
  return out;
}

function cloudConfigFromEntry(name: string, entry: JsonRecord, source: string): CloudConfig {
  const where = `cloud "${name}" in ${source}`;
  const key = (k: string): string => `clouds.${name}.${k}`;
  if (entry.profile !== undefined || entry.cloud !== undefined) {
    throw new CloudConfigError("Unsupported", `${where} uses a vendor profile ("profile"/"cloud"), which vmkeeper does not read; write auth_url and region_name out`, key("profile"));
  }
  const authRaw = entry.auth ?? {};
  if (!isRecord(authRaw)) throw new CloudConfigError("InvalidValue", `${where}: "auth" must be a map`, key("auth"));
  const auth = readAuth(authRaw);
  const authUrl = readAuthUrl(authRaw, key("auth.auth_url"), where);
  const authType = readAuthType(entry, auth, key("auth_type"), where);
  checkAuthComplete(authType, auth, (k) => key(`auth.${k}`), where);
  const config: CloudConfig = {
    cloudName: name,
    authUrl,
    authType,
    auth,
    interface: readInterface(entry, key("interface"), where),
    verify: readVerify(entry, key("verify"), where),
  };
  const region = readRegion(entry);
  if (region !== undefined) config.regionName = region;
  const cacert = str(entry, "cacert");
  if (cacert !== undefined) {
    if (cacert.includes("-----BEGIN CERTIFICATE-----")) config.caCertPem = cacert;
    else config.caCertFile = cacert;
  }
  const timeout = entry.api_timeout;
  if (timeout !== undefined && timeout !== null) {
    const seconds = typeof timeout === "number" ? timeout : Number(timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new CloudConfigError("InvalidValue", `${where}: "api_timeout" must be a positive number of seconds`, key("api_timeout"));
    config.apiTimeoutMs = Math.round(seconds * 1000);
  }
  return config;
}

function str(o: JsonRecord, k: string): string | undefined {
  const v = o[k];
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number") return String(v);
  return undefined;
}

function secret(o: JsonRecord, k: string): SecretValue | undefined {
  const v = str(o, k);
  return v === undefined ? undefined : new SecretValue(v);
}

function readAuth(a: JsonRecord): CloudAuth {
  const auth: CloudAuth = {};
  const set = <K extends keyof CloudAuth>(k: K, v: CloudAuth[K] | undefined): void => {
    if (v !== undefined) auth[k] = v;
  };
  set("username", str(a, "username") ?? str(a, "user_name"));
  set("userId", str(a, "user_id"));
  set("password", secret(a, "password"));
  set("projectName", str(a, "project_name") ?? str(a, "tenant_name"));
  set("projectId", str(a, "project_id") ?? str(a, "tenant_id"));
  set("userDomainName", str(a, "user_domain_name"));
  set("userDomainId", str(a, "user_domain_id"));
  set("projectDomainName", str(a, "project_domain_name"));
  set("projectDomainId", str(a, "project_domain_id"));
  set("applicationCredentialId", str(a, "application_credential_id"));
  set("applicationCredentialName", str(a, "application_credential_name"));
  set("applicationCredentialSecret", secret(a, "application_credential_secret"));
  set("token", secret(a, "token"));
  applyDomainDefaults(auth, a);
  return auth;
}

/**
 * As openstacksdk does: `domain_id`/`domain_name` (or `default_domain`) with a project
 * given are the default for the user and project domains; without a project they scope
 * the token to that domain.
 */
function applyDomainDefaults(auth: CloudAuth, a: JsonRecord): void {
  const domainId = str(a, "domain_id") ?? str(a, "default_domain");
  const domainName = str(a, "domain_name");
  const hasProject = auth.projectId !== undefined || auth.projectName !== undefined;
  if (!hasProject) {
    if (domainId !== undefined) auth.domainId = domainId;
    if (domainName !== undefined) auth.domainName = domainName;
    if (domainId === undefined && domainName === undefined) return;
  }
  if (auth.userDomainId === undefined && auth.userDomainName === undefined) {
    if (domainId !== undefined) auth.userDomainId = domainId;
    else if (domainName !== undefined) auth.userDomainName = domainName;
  }
  if (hasProject && auth.projectDomainId === undefined && auth.projectDomainName === undefined) {
    if (domainId !== undefined) auth.projectDomainId = domainId;
    else if (domainName !== undefined) auth.projectDomainName = domainName;
  }
}

function readAuthUrl(a: JsonRecord, key: string, where: string): string {
  const raw = str(a, "auth_url");
  if (raw === undefined) throw new CloudConfigError("MissingKey", `${where} has no auth.auth_url`, key);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CloudConfigError("InvalidValue", `${where}: auth.auth_url is not a valid URL`, key);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CloudConfigError("InvalidValue", `${where}: auth.auth_url must be http or https`, key);
  if (url.username || url.password) throw new CloudConfigError("InvalidValue", `${where}: auth.auth_url must not carry user:password@`, key);
  return keystoneV3Url(url);
}

/** `https://k:5000`, `https://k:5000/`, `https://k/identity/v3/` → `.../v3` without trailing slash. */
export function keystoneV3Url(url: URL): string {
  url.search = "";
  url.hash = "";
  let path = url.pathname.replace(/\/+$/, "");
  if (/\/v2\.0$/.test(path)) path = path.replace(/\/v2\.0$/, "");
  if (!/\/v3$/.test(path)) path = `${path}/v3`;
  url.pathname = path;
  return url.toString().replace(/\/$/, "");
}

function readAuthType(entry: JsonRecord, auth: CloudAuth, key: string, where: string): AuthType {
  const raw = str(entry, "auth_type") ?? str(entry, "auth_plugin");
  if (raw === undefined) {
    if (auth.applicationCredentialSecret || auth.applicationCredentialId) return "v3applicationcredential";
    if (auth.token && !auth.password) return "token";
    return "password";
  }
  const normalised = raw.toLowerCase().replace(/[-_]/g, "");
  const aliases: Record<string, AuthType> = { applicationcredential: "v3applicationcredential", v3applicationcredential: "v3applicationcredential" };
  const t = aliases[normalised] ?? AUTH_TYPES.find((x) => x === normalised);
  if (!t) throw new CloudConfigError("Unsupported", `${where}: auth_type "${raw}" is not supported; use one of ${AUTH_TYPES.join(", ")}`, key);
  return t;
}

function checkAuthComplete(type: AuthType, a: CloudAuth, key: (k: string) => string, where: string): void {
  const missing = (k: string, what: string): never => {
    throw new CloudConfigError("MissingKey", `${where} (auth_type ${type}) has no ${what}`, key(k));
  };
  const needUserDomain = (): void => {
    if (a.userId === undefined && a.userDomainId === undefined && a.userDomainName === undefined) {
      missing("user_domain_name", "auth.user_domain_name or auth.user_domain_id (or domain_name/domain_id) for user name lookup");
    }
  };
  if (type === "v3applicationcredential") {
    if (!a.applicationCredentialSecret) missing("application_credential_secret", "auth.application_credential_secret");
    if (a.applicationCredentialId !== undefined) return;
    if (a.applicationCredentialName === undefined) missing("application_credential_id", "auth.application_credential_id (or application_credential_name with a user)");
    if (a.userId === undefined && a.username === undefined) missing("username", "auth.username or auth.user_id (needed with application_credential_name)");
    needUserDomain();
    return;
  }
  if (type === "token" || type === "v3token") {
    if (!a.token) missing("token", "auth.token");
  } else {
    if (a.userId === undefined && a.username === undefined) missing("username", "auth.username or auth.user_id");
    if (!a.password) missing("password", "auth.password");
    needUserDomain();
  }
  checkScope(a, key, where, type);
}

function checkScope(a: CloudAuth, key: (k: string) => string, where: string, type: AuthType): void {
  if (a.projectId !== undefined) return;
  if (a.projectName !== undefined) {
    if (a.projectDomainId === undefined && a.projectDomainName === undefined) {
      throw new CloudConfigError("MissingKey", `${where} (auth_type ${type}) has no auth.project_domain_name or auth.project_domain_id (or domain_name/domain_id) for project name lookup`, key("project_domain_name"));
    }
    return;
  }
  if (a.domainId !== undefined || a.domainName !== undefined) return;
  throw new CloudConfigError("MissingKey", `${where} (auth_type ${type}) has no auth.project_name or auth.project_id: vmkeeper needs a project-scoped token`, key("project_name"));
}

function readInterface(entry: JsonRecord, key: string, where: string): EndpointInterface {
  const raw = str(entry, "interface") ?? str(entry, "endpoint_type");
  if (raw === undefined) return "public";
  const v = raw.replace(/URL$/, "").toLowerCase();
  if (v === "public" || v === "internal" || v === "admin") return v;
  throw new CloudConfigError("InvalidValue", `${where}: interface "${raw}" must be public, internal or admin`, key);
}

function readVerify(entry: JsonRecord, key: string, where: string): boolean {
  const v = entry.verify ?? entry.insecure;
  if (v === undefined || v === null) return true;
  const b = typeof v === "boolean" ? v : typeof v === "string" ? /^(true|yes|1)$/i.test(v) ? true : /^(false|no|0)$/i.test(v) ? false : undefined : undefined;
  if (b === undefined) throw new CloudConfigError("InvalidValue", `${where}: "verify" must be true or false`, key);
  return entry.verify !== undefined ? b : !b;
}

function readRegion(entry: JsonRecord): string | undefined {
  const r = str(entry, "region_name");
  if (r !== undefined) return r;
  const regions = entry.regions;
  if (Array.isArray(regions) && regions.length === 1) {
    const only: unknown = regions[0];
    if (typeof only === "string") return only;
    if (isRecord(only) && typeof only.name === "string") return only.name;
  }
  return undefined;
}

/** Settings an OpenStackCloud spec may lay over its clouds.yaml entry. */
export interface CloudOverrides {
  region?: string;
  interface?: EndpointInterface | "Public" | "Internal" | "Admin";
  /** PEM from the CA bundle Secret; replaces `cacert`. */
  caPem?: string;
  insecureSkipTLSVerify?: boolean;
  requestTimeoutMs?: number;
}

/** The cloud with the spec's overrides applied (a new object; the input is not changed). */
export function applyCloudOverrides(config: CloudConfig, o: CloudOverrides): CloudConfig {
  const out: CloudConfig = { ...config };
  if (o.region !== undefined) out.regionName = o.region;
  if (o.interface !== undefined) out.interface = o.interface.toLowerCase() as EndpointInterface;
  if (o.caPem !== undefined) {
    out.caCertPem = o.caPem;
    delete out.caCertFile;
  }
  if (o.insecureSkipTLSVerify === true) out.verify = false;
  if (o.requestTimeoutMs !== undefined) out.apiTimeoutMs = o.requestTimeoutMs;
  return out;
}
