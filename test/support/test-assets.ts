import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "./run-command.js";

/** The repository root, found from this compiled file (dist/test/support/...). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface TestAssets {
  dir: string;
  kubeApiServer: string;
  etcd: string;
  helm: string;
  kubectl: string;
}

let cached: Promise<TestAssets> | undefined;

/**
 * Finds kube-apiserver, etcd and helm: KUBEBUILDER_ASSETS when it holds them (envtest's
 * convention), else the project's own setup script, which builds pinned versions once and
 * caches them.
 */
export function testAssets(): Promise<TestAssets> {
  cached ??= resolveAssets();
  return cached;
}

async function resolveAssets(): Promise<TestAssets> {
  const res = await runCommand("bash", [join(REPO_ROOT, "hack/setup-test-env.sh")], { timeoutMs: 40 * 60_000 });
  if (res.code !== 0) throw new Error(`hack/setup-test-env.sh failed (${res.code}):\n${res.stderr.slice(-4000)}`);
  const dir = res.stdout.trim().split("\n").pop() ?? "";
  const helm = existsSync(join(dir, "helm")) ? join(dir, "helm") : "helm";
  const kubectl = existsSync(join(dir, "kubectl")) ? join(dir, "kubectl") : "kubectl";
  const assets = { dir, kubeApiServer: join(dir, "kube-apiserver"), etcd: join(dir, "etcd"), helm, kubectl };
  for (const bin of [assets.kubeApiServer, assets.etcd]) {
    if (!existsSync(bin)) throw new Error(`test asset missing: ${bin}`);
  }
  return assets;
}
