import { stringify } from "yaml";

export interface CloudsYamlOptions {
  cloudName: string;
  authUrl: string;
  region: string;
  auth: { kind: "password"; username: string; password: string; projectName: string } | { kind: "application_credential"; id: string; secret: string };
}

/** A clouds.yaml document pointing at the simulator, in the form openstacksdk reads. */
export function cloudsYaml(o: CloudsYamlOptions): string {
  const auth =
    o.auth.kind === "password"
      ? { auth_url: o.authUrl, username: o.auth.username, password: o.auth.password, project_name: o.auth.projectName, user_domain_name: "Default", project_domain_name: "Default" }
      : { auth_url: o.authUrl, application_credential_id: o.auth.id, application_credential_secret: o.auth.secret };
  const cloud: Record<string, unknown> = { auth, region_name: o.region, interface: "public", identity_api_version: 3 };
  if (o.auth.kind === "application_credential") cloud.auth_type = "v3applicationcredential";
  return stringify({ clouds: { [o.cloudName]: cloud } });
}
