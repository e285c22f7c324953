import { join } from "node:path";
import { freePort } from "./free-port.js";
import { ManagedProcess } from "./managed-process.js";
import { REPO_ROOT } from "./test-assets.js";

export interface OperatorProcess {
  proc: ManagedProcess;
  identity: string;
  healthPort: number;
  metricsPort: number;
  /** HTTP status of GET /readyz, or 0 when the server does not answer. */
  readyz(): Promise<number>;
  metrics(): Promise<string>;
}

/** Starts `vmkeeper operator` as a real child process, the way a Deployment runs it. */
export async function startOperatorProcess(o: {
  kubeconfig: string;
  identity: string;
  namespace: string;
  logDir: string;
  extraArgs?: string[];
}): Promise<OperatorProcess> {
  const healthPort = await freePort();
  const metricsPort = await freePort();
  const args = [
    join(REPO_ROOT, "dist/src/cli/vmkeeper.js"),
    "operator",
    `--kubeconfig=${o.kubeconfig}`,
    `--namespace=${o.namespace}`,
    `--leader-election-namespace=${o.namespace}`,
    `--identity=${o.identity}`,
    `--health-probe-bind-address=127.0.0.1:${healthPort}`,
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    "--log-level=debug",
    // Tests that need the heartbeat receiver pass their own address and key file.
    ...(o.extraArgs?.some((a) => a.startsWith("--heartbeat-bind-address")) ? [] : ["--heartbeat-bind-address="]),
    ...(o.extraArgs ?? []),
  ];
  const proc = new ManagedProcess(`operator-${o.identity}`, process.execPath, args, join(o.logDir, `operator-${o.identity}.log`));
  proc.start();
  return {
    proc,
    identity: o.identity,
    healthPort,
    metricsPort,
    readyz: async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`, { signal: AbortSignal.timeout(2000) });
        return res.status;
      } catch {
        return 0;
      }
    },
    metrics: async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(2000) });
      return res.text();
    },
  };
}
