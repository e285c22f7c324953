import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "./run-command.js";
import { REPO_ROOT } from "./test-assets.js";

export interface NovaLab {
  cloudsYamlPath: string;
  cloudsYaml: string;
  /** `hack/nova-lab.sh compute stop|kill|freeze|start N`. */
  compute(action: "stop" | "kill" | "freeze" | "start", n: number, wait?: boolean): Promise<void>;
}

let lab: Promise<NovaLab> | undefined;

/**
 * The real Nova lab (Debian Zed, fake virt driver, three computes), brought up by the
 * project's own script: installs packages on a fresh machine, idempotent and quick when
 * already running. Shared by every test in the process.
 */
export function novaLab(): Promise<NovaLab> {
  lab ??= (async () => {
    const script = join(REPO_ROOT, "hack/nova-lab.sh");
    const up = await runCommand("bash", [script, "up"], { timeoutMs: 20 * 60_000 });
    if (up.code !== 0) throw new Error(`hack/nova-lab.sh up failed (${up.code}):\n${(up.stdout + up.stderr).slice(-4000)}`);
    const env = await runCommand("bash", [script, "env"]);
    const path = /OS_CLIENT_CONFIG_FILE=(\S+)/.exec(env.stdout)?.[1];
    if (!path) throw new Error(`hack/nova-lab.sh env printed no clouds.yaml path:\n${env.stdout}`);
    return {
      cloudsYamlPath: path,
      cloudsYaml: readFileSync(path, "utf8"),
      compute: async (action, n, wait = true) => {
        const r = await runCommand("bash", [script, "compute", action, String(n), ...(wait && action === "start" ? ["--wait"] : [])], { timeoutMs: 5 * 60_000 });
        if (r.code !== 0) throw new Error(`nova-lab compute ${action} ${n} failed:\n${r.stdout}${r.stderr}`);
      },
    };
  })();
  return lab;
}
