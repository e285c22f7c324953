import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** libvirt's default URI for the system QEMU driver (the one nova-compute uses). */
export const DEFAULT_LIBVIRT_URI = "qemu:///system";

/** Read-only questions the inventory asks libvirt. */
export interface LibvirtReader {
  /** UUIDs of every domain, defined or transient, running or not. */
  listDomainUuids(): Promise<string[]>;
  /** `virsh dumpxml` of one domain. */
  dumpXml(uuid: string): Promise<string>;
  /** `virsh domstate --reason`: `running (booted)`, `shut off (destroyed)`, ... */
  domainState(uuid: string): Promise<string>;
  /** UUID of a domain by name (for an event about a domain the inventory has not seen yet). */
  domainUuid(name: string): Promise<string>;
}

export class VirshError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = "VirshError";
  }
}

export interface VirshClientOptions {
  /** libvirt connection URI; default qemu:///system. */
  uri?: string;
  /** virsh binary; default `virsh` from PATH. */
  virshPath?: string;
  /** Per-command timeout; default 10 s. */
  timeoutMs?: number;
}

/** Runs one-shot virsh commands (LC_ALL=C, so messages are not translated). */
export class VirshClient implements LibvirtReader {
  readonly uri: string;
  private readonly virshPath: string;
  private readonly timeoutMs: number;

  constructor(options: VirshClientOptions = {}) {
    this.uri = options.uri ?? DEFAULT_LIBVIRT_URI;
    this.virshPath = options.virshPath ?? "virsh";
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Runs `virsh -q -c <uri> ...args` and returns its standard output. */
  run(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.virshPath,
        ["-q", "-c", this.uri, ...args],
        { env: { ...process.env, LC_ALL: "C" }, timeout: this.timeoutMs, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (err) {
            const code = typeof err.code === "number" ? err.code : null;
            const why = stderr.trim() || err.message;
            reject(new VirshError(`virsh ${args[0] ?? ""} failed: ${why}`, code));
            return;
          }
          resolve(stdout);
        },
      );
    });
  }

  async listDomainUuids(): Promise<string[]> {
    const out = await this.run(["list", "--all", "--uuid"]);
    return out
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "");
  }

  /** `virsh attach-device --live`: plugs a device into the running domain only (not its persistent definition). */
  async attachDeviceLive(uuid: string, deviceXml: string): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "vmkeeper-attach-"));
    try {
      const file = join(dir, "device.xml");
      await writeFile(file, deviceXml, { mode: 0o600 });
      await this.run(["attach-device", "--domain", uuid, "--file", file, "--live"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  dumpXml(uuid: string): Promise<string> {
    return this.run(["dumpxml", "--domain", uuid]);
  }

  async domainState(uuid: string): Promise<string> {
    return (await this.run(["domstate", "--reason", "--domain", uuid])).trim();
  }

  async domainUuid(name: string): Promise<string> {
    return (await this.run(["domuuid", "--domain", name])).trim();
  }
}
