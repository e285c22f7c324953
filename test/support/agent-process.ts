import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { freeUdpPort } from "./free-udp-port.js";
import { ManagedProcess } from "./managed-process.js";
import { startOperatorProcess, type OperatorProcess } from "./operator-process.js";
import { runCommand } from "./run-command.js";
import type { SimulatedCloud } from "./simulated-cloud.js";
import { REPO_ROOT } from "./test-assets.js";
import type { TestEnv } from "./test-env.js";

export interface AgentProcessOptions {
  cloud: string;
  host: string;
  keyFile: string;
  /** The operator's report endpoint (plain HTTP, as tests run it). */
  reportUrl: string;
  tokenFile: string;
  libvirtUri: string;
  logPath: string;
  extraArgs?: string[];
}

/**
 * A real `vmkeeper agent` process with host monitoring on, reporting to `reportUrl`. Its
 * heartbeats go to an unused port: in these tests the simulated cloud's agents keep the host
 * healthy, and two heartbeat senders for one host would look like a rebooting host.
 */
export async function startAgentProcess(o: AgentProcessOptions): Promise<ManagedProcess> {
  const agent = new ManagedProcess("vmkeeper-agent", process.execPath, [
    join(REPO_ROOT, "dist/src/cli/vmkeeper.js"), "agent",
    `--cloud=${o.cloud}`, `--host=${o.host}`,
    `--operator-targets=127.0.0.1:${await freeUdpPort()}`, `--key-file=${o.keyFile}`,
    "--listen-address=127.0.0.1:0", "--health-addr=127.0.0.1:0",
    `--report-endpoints=${o.reportUrl}`, "--report-allow-http=true", `--report-token-file=${o.tokenFile}`,
    `--libvirt-uri=${o.libvirtUri}`,
    ...(o.extraArgs ?? []),
  ], o.logPath);
  agent.start();
  return agent;
}

/** libvirt and QEMU, installed by hack/install-virt-peers.sh when missing. */
export async function ensureVirtPeers(): Promise<void> {
  const install = await runCommand("bash", [join(REPO_ROOT, "hack/install-virt-peers.sh")], { timeoutMs: 900_000 });
  if (install.code !== 0) throw new Error(`hack/install-virt-peers.sh failed:\n${install.stderr}`);
}

/**
 * An operator process (no leader election) for the simulated cloud whose agent-report
 * endpoint is plain HTTP on loopback and accepts `token`; returns the URL and a token file
 * for the agent.
 */
export async function startReportingOperator(o: { env: TestEnv; cloud: Pick<SimulatedCloud, "heartbeatPorts" | "keyFile">; namespace: string; identity: string; token: string; extraArgs?: string[] }): Promise<{ op: OperatorProcess; reportUrl: string; agentTokenFile: string }> {
  const tokenFile = join(o.env.workDir, `${o.identity}-report-tokens`);
  writeFileSync(tokenFile, `${o.token}\n`);
  const agentTokenFile = join(o.env.workDir, `${o.identity}-agent-token`);
  writeFileSync(agentTokenFile, o.token);
  const port = await freePort();
  const op = await startOperatorProcess({
    kubeconfig: o.env.kubeconfigFor("operator-a"),
    identity: o.identity,
    namespace: o.namespace,
    logDir: o.env.workDir,
    extraArgs: [
      "--leader-elect=false",
      `--heartbeat-bind-address=127.0.0.1:${o.cloud.heartbeatPorts[0] ?? 0}`,
      `--heartbeat-key-file=${o.cloud.keyFile}`,
      `--agent-reports-bind-address=127.0.0.1:${port}`,
      "--agent-reports-insecure-http=true",
      `--agent-reports-token-file=${tokenFile}`,
      ...(o.extraArgs ?? []),
    ],
  });
  return { op, reportUrl: `http://127.0.0.1:${port}/v1/reports`, agentTokenFile };
}
