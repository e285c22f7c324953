import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { CloudConfigError } from "./cloud-config-error.js";
import { parseCloudsYaml, type CloudConfig } from "./clouds-config.js";

/** File access behind an interface so that the search order is testable without a disk. */
export interface ConfigFileReader {
  /** The file's text, or undefined when it does not exist. */
  readTextIfExists(path: string): Promise<string | undefined>;
}

export const nodeConfigFileReader: ConfigFileReader = {
  async readTextIfExists(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, "utf8");
    } catch (e: unknown) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw new CloudConfigError("NoConfigFile", `cannot read ${path}: ${code ?? "error"}`);
    }
  },
};

export interface ConfigSearchContext {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  home: string;
}

const SUFFIXES = [".yaml", ".yml", ".json"];

/**
 * openstacksdk's search order for `clouds` or `secure`: the file named by
 * OS_CLIENT_CONFIG_FILE / OS_CLIENT_SECURE_FILE first, then the current directory,
 * the user's config folder ($XDG_CONFIG_HOME/openstack, ~/.config/openstack) and
 * /etc/openstack, each with .yaml, .yml and .json. The first file found wins.
 */
export function configSearchPaths(kind: "clouds" | "secure", ctx: ConfigSearchContext): string[] {
  const envFile = kind === "clouds" ? ctx.env.OS_CLIENT_CONFIG_FILE : ctx.env.OS_CLIENT_SECURE_FILE;
  const dirs = [ctx.cwd];
  const xdg = ctx.env.XDG_CONFIG_HOME;
  if (xdg) dirs.push(join(xdg, "openstack"));
  dirs.push(join(ctx.home, ".config", "openstack"), "/etc/openstack");
  const paths = [...new Set(dirs)].flatMap((d) => SUFFIXES.map((s) => join(d, `${kind}${s}`)));
  return envFile ? [resolve(ctx.cwd, envFile), ...paths] : paths;
}

export interface LoadCloudConfigOptions {
  cloudName?: string;
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  home?: string;
  reader?: ConfigFileReader;
}

export interface LoadedCloudConfig {
  config: CloudConfig;
  cloudsFile: string;
  secureFile?: string;
}

/** Finds clouds.yaml (and secure.yaml) the way openstacksdk does and returns the selected cloud. */
export async function loadCloudConfigFromFiles(options: LoadCloudConfigOptions = {}): Promise<LoadedCloudConfig> {
  const ctx: ConfigSearchContext = { env: options.env ?? process.env, cwd: options.cwd ?? process.cwd(), home: options.home ?? homedir() };
  const reader = options.reader ?? nodeConfigFileReader;
  const clouds = await firstExisting(configSearchPaths("clouds", ctx), reader);
  if (!clouds) {
    throw new CloudConfigError("NoConfigFile", `no clouds.yaml found; looked in: ${configSearchPaths("clouds", ctx).filter((p) => p.endsWith(".yaml")).join(", ")}`);
  }
  const secure = await firstExisting(configSearchPaths("secure", ctx), reader);
  const config = parseCloudsYaml(clouds.text, {
    env: ctx.env,
    source: clouds.path,
    ...(options.cloudName !== undefined ? { cloudName: options.cloudName } : {}),
    ...(secure ? { secureYaml: secure.text, secureSource: secure.path } : {}),
  });
  if (config.caCertFile !== undefined && !config.caCertPem) {
    const pem = await reader.readTextIfExists(resolve(ctx.cwd, config.caCertFile));
    if (pem === undefined) throw new CloudConfigError("InvalidValue", `cloud "${config.cloudName}": cacert file ${config.caCertFile} does not exist`, `clouds.${config.cloudName}.cacert`);
    config.caCertPem = pem;
  }
  return { config, cloudsFile: clouds.path, ...(secure ? { secureFile: secure.path } : {}) };
}

async function firstExisting(paths: string[], reader: ConfigFileReader): Promise<{ path: string; text: string } | undefined> {
  for (const path of paths) {
    const text = await reader.readTextIfExists(path);
    if (text !== undefined) return { path, text };
  }
  return undefined;
}
