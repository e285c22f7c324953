import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "./eventually.js";
import { ManagedProcess } from "./managed-process.js";
import { runCommand, type CommandResult } from "./run-command.js";

/**
 * A private libvirt daemon with the QEMU driver, for tests. It runs as root (QEMU's system
 * driver), but in its own mount and PID namespaces (util-linux `unshare`):
 *
 * - mount: /etc/libvirt, /run and /var are bind mounts of folders in a temp dir, and
 *   /etc/passwd and /etc/group copies that add the `libvirt-qemu` user the QEMU driver looks
 *   up at start (Debian's libvirt-daemon-system would create it system-wide). Nothing outside
 *   the temp dir is written; the daemon's socket is `<dir>/run/libvirt/<socket>`.
 * - PID: a bash as PID 1 of the namespace reaps QEMU when it exits. Without it an exited QEMU
 *   stays a zombie until the machine's init reaps it (here: seconds), and libvirt waits for
 *   that before it reports Stopped. Ending the namespace ends every QEMU it started.
 *
 * Prefers the modular `virtqemud` when installed, else the monolithic `libvirtd`.
 */
export interface PrivateLibvirtd {
  /** Connection URI for virsh and the agent: `qemu:///system?socket=...`. */
  uri: string;
  /** Temp dir holding config, state, sockets and logs. */
  dir: string;
  daemon: "virtqemud" | "libvirtd";
  /** libvirt version the daemon reports (`virsh version --daemon`). */
  version: string;
  /** Runs `virsh -c <uri> ...args` (LC_ALL=C). */
  virsh(...args: string[]): Promise<CommandResult>;
  /** Like `virsh`, but throws with virsh's stderr unless it exits 0. */
  virshOk(...args: string[]): Promise<string>;
  logTail(): string;
  /**
   * Runs a command inside the daemon's mount namespace (nsenter), where its QEMUs see the
   * file system: a mount made there (a small tmpfs for a disk) is invisible to the host.
   */
  inNamespace(file: string, ...args: string[]): Promise<CommandResult>;
  /** Stops the daemon (SIGTERM to the namespace's init, by PID) and removes the temp dir. */
  stop(): Promise<void>;
}

const INIT_SCRIPT = `set -eu
dir="$1"; shift
mount --bind "$dir/etc" /etc/libvirt
mount --bind "$dir/passwd" /etc/passwd
mount --bind "$dir/group" /etc/group
mount --bind "$dir/run" /run
mount --bind "$dir/var" /var
"$@" &
daemon=$!
trap 'kill -TERM "$daemon" 2>/dev/null || true' TERM INT
while kill -0 "$daemon" 2>/dev/null; do wait "$daemon" || true; done
`;

const QEMU_CONF = `# Private test daemon: run QEMU as root without confinement, cgroups or a mount namespace.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
`;

function findDaemon(): { daemon: "virtqemud" | "libvirtd"; path: string } {
  for (const daemon of ["virtqemud", "libvirtd"] as const) {
    for (const dir of ["/usr/sbin", "/usr/bin", "/sbin"]) {
      const path = join(dir, daemon);
      if (existsSync(path)) return { daemon, path };
    }
  }
  throw new Error("neither virtqemud nor libvirtd is installed: run hack/install-virt-peers.sh");
}

async function withQemuUser(file: string, line: string, out: string): Promise<void> {
  const text = await readFile(file, "utf8");
  const has = text.split("\n").some((l) => l.startsWith("libvirt-qemu:"));
  await writeFile(out, has ? text : `${text.replace(/\n?$/, "\n")}${line}\n`);
}

async function layout(dir: string, daemon: "virtqemud" | "libvirtd"): Promise<void> {
  for (const d of ["etc/qemu", "run/libvirt", "var/lib/libvirt", "var/cache/libvirt", "var/log/libvirt", "var/tmp", "vm"]) await mkdir(join(dir, d), { recursive: true });
  const daemonConf = ['unix_sock_rw_perms = "0700"', 'auth_unix_rw = "none"', 'auth_unix_ro = "none"', 'log_outputs = "3:file:/var/log/libvirt/daemon.log"', ""].join("\n");
  await writeFile(join(dir, "etc", `${daemon}.conf`), daemonConf);
  await writeFile(join(dir, "etc", "qemu.conf"), QEMU_CONF);
  if (existsSync("/etc/libvirt/libvirt.conf")) await copyFile("/etc/libvirt/libvirt.conf", join(dir, "etc", "libvirt.conf"));
  await withQemuUser("/etc/passwd", "libvirt-qemu:x:64055:64055:libvirt qemu (private test daemon):/nonexistent:/usr/sbin/nologin", join(dir, "passwd"));
  await withQemuUser("/etc/group", "libvirt-qemu:x:64055:", join(dir, "group"));
}

/** Starts a private daemon and waits until virsh can talk to it. Needs root. */
export async function startPrivateLibvirtd(): Promise<PrivateLibvirtd> {
  if (process.getuid?.() !== 0) throw new Error("the private libvirt daemon needs root (QEMU system driver in its own namespaces)");
  const { daemon, path } = findDaemon();
  const dir = await mkdtemp(join(tmpdir(), "vmkeeper-libvirtd-"));
  await layout(dir, daemon);
  const socket = join(dir, "run", "libvirt", daemon === "virtqemud" ? "virtqemud-sock" : "libvirt-sock");
  const uri = `qemu:///system?socket=${socket}`;
  const args = ["--pid", "--fork", "--kill-child=SIGTERM", "--mount-proc", "--mount", "--propagation", "private", "bash", "-c", INIT_SCRIPT, "libvirt-init", dir, path, "--config", `/etc/libvirt/${daemon}.conf`];
  const proc = new ManagedProcess(daemon, "unshare", args, join(dir, "daemon.out"));
  proc.start();
  const env = { ...process.env, LC_ALL: "C" };
  const virsh = (...a: string[]): Promise<CommandResult> => runCommand("virsh", ["-c", uri, ...a], { env, timeoutMs: 60_000 });
  const virshOk = async (...a: string[]): Promise<string> => {
    const r = await virsh(...a);
    if (r.code !== 0) throw new Error(`virsh ${a.join(" ")}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  };
  const logTail = (): string => `${proc.logTail()}\n${readTail(join(dir, "var", "log", "libvirt", "daemon.log"))}`;
  try {
    await eventually(async () => {
      if (!proc.running) throw new Error(`${daemon} exited: ${logTail()}`);
      await virshOk("list", "--all");
    }, 30_000, 200);
  } catch (err: unknown) {
    await stopNamespace(proc);
    throw err;
  }
  const version = (await virshOk("version", "--daemon")).match(/Running against daemon: (\S+)/)?.[1] ?? "unknown";
  return {
    uri,
    dir,
    daemon,
    version,
    virsh,
    virshOk,
    logTail,
    async inNamespace(file: string, ...args: string[]): Promise<CommandResult> {
      const init = await namespaceInit(proc);
      if (init === undefined) throw new Error(`${daemon}'s namespace is not running`);
      return runCommand("nsenter", ["-t", String(init), "-m", "--", file, ...args], { env, timeoutMs: 60_000 });
    },
    async stop(): Promise<void> {
      await stopNamespace(proc);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function readTail(path: string): string {
  try {
    return readFileSync(path, "utf8").slice(-3000);
  } catch {
    return "";
  }
}

/** Host PID of the namespace's init, unshare's only child (undefined when not running). */
async function namespaceInit(proc: ManagedProcess): Promise<number | undefined> {
  const pid = proc.pid;
  if (pid === undefined || !proc.running) return undefined;
  try {
    const init = Number((await readFile(`/proc/${pid}/task/${pid}/children`, "utf8")).trim().split(/\s+/)[0]);
    return Number.isInteger(init) && init > 0 ? init : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The namespace's init is unshare's only child: SIGTERM to it (by PID) stops the daemon,
 * then init exits and the kernel ends whatever QEMU is left in the namespace.
 */
async function stopNamespace(proc: ManagedProcess): Promise<void> {
  if (!proc.running) return;
  const init = await namespaceInit(proc);
  if (init !== undefined) {
    try {
      process.kill(init, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const exited = proc.waitForExit();
  const timer = setTimeout(() => proc.signal("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** A tiny QEMU domain for lifecycle tests, shaped like one Nova defines. */
export interface TinyDomain {
  name: string;
  uuid: string;
  /** Host-side unix socket of the org.vmkeeper.heartbeat.0 channel. */
  heartbeatSocketPath: string;
  novaName?: string;
  projectId?: string;
}

/**
 * Domain XML for a 64 MiB, diskless QEMU guest under software emulation (TCG): it sits in
 * firmware, which is all lifecycle tests need. It has Nova's metadata, the heartbeat channel
 * and an i6300esb watchdog (action none).
 */
export function tinyDomainXml(d: TinyDomain): string {
  return `<domain type='qemu'>
  <name>${d.name}</name>
  <uuid>${d.uuid}</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="26.2.2"/>
      <nova:name>${d.novaName ?? d.name}</nova:name>
      <nova:flavor name="m1.tiny"/>
      <nova:owner>
        <nova:user uuid="5e3ad2f1a7c84a7e9b0c6d1f2e3a4b5c">tester</nova:user>
        <nova:project uuid="${d.projectId ?? "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}">demo</nova:project>
      </nova:owner>
    </nova:instance>
  </metadata>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/></os>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <channel type='unix'>
      <source mode='bind' path='${d.heartbeatSocketPath}'/>
      <target type='virtio' name='org.vmkeeper.heartbeat.0'/>
    </channel>
    <watchdog model='i6300esb' action='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
