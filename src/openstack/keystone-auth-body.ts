import type { CloudAuth, CloudConfig } from "./clouds-config.js";
import type { JsonRecord } from "./json-read.js";

/**
 * The body of `POST /v3/auth/tokens` for the cloud's auth type. It holds secrets: build it
 * right before sending and never log it.
 */
export function buildAuthRequestBody(cloud: CloudConfig): JsonRecord {
  const a = cloud.auth;
  if (cloud.authType === "v3applicationcredential") {
    // An application credential carries its own project scope; Keystone rejects a scope here.
    return { auth: { identity: { methods: ["application_credential"], application_credential: applicationCredential(a) } } };
  }
  const identity: JsonRecord =
    cloud.authType === "token" || cloud.authType === "v3token"
      ? { methods: ["token"], token: { id: a.token?.reveal() ?? "" } }
      : { methods: ["password"], password: { user: { ...userRef(a), password: a.password?.reveal() ?? "" } } };
  return { auth: { identity, scope: scopeOf(a) } };
}

function applicationCredential(a: CloudAuth): JsonRecord {
  const secret = a.applicationCredentialSecret?.reveal() ?? "";
  if (a.applicationCredentialId !== undefined) return { id: a.applicationCredentialId, secret };
  return { name: a.applicationCredentialName, user: userRef(a), secret };
}

function userRef(a: CloudAuth): JsonRecord {
  if (a.userId !== undefined) return { id: a.userId };
  return { name: a.username, domain: domainRef(a.userDomainId, a.userDomainName) };
}

function domainRef(id: string | undefined, name: string | undefined): JsonRecord {
  return id !== undefined ? { id } : { name };
}

function scopeOf(a: CloudAuth): JsonRecord {
  if (a.projectId !== undefined) return { project: { id: a.projectId } };
  if (a.projectName !== undefined) return { project: { name: a.projectName, domain: domainRef(a.projectDomainId, a.projectDomainName) } };
  return { domain: domainRef(a.domainId, a.domainName) };
}

/** Who is authenticating, for messages: names and ids only. */
export function describePrincipal(cloud: CloudConfig): string {
  const a = cloud.auth;
  if (cloud.authType === "v3applicationcredential") {
    return `application credential ${a.applicationCredentialId ?? `"${a.applicationCredentialName ?? "?"}"`}`;
  }
  if (cloud.authType === "token" || cloud.authType === "v3token") return "the token given in clouds.yaml";
  const user = a.userId ?? `"${a.username ?? "?"}"`;
  const project = a.projectId ?? (a.projectName !== undefined ? `"${a.projectName}"` : undefined);
  return `user ${user}${project ? ` on project ${project}` : ""}`;
}
