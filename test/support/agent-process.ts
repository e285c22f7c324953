import { join } from "node:path";
import { freeUdpPort } from "./free-udp-port.js";
import { ManagedProcess } from "./managed-process.js";
import { REPO_ROOT } from "./test-assets.js";

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
