import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** One process as /proc shows it. */
export interface ProcessEntry {
  pid: number;
  /** `/proc/<pid>/comm` without the newline (at most 15 characters, set by the kernel). */
  comm: string;
  /** `/proc/<pid>/cmdline` split at NUL bytes; empty for kernel threads and zombies. */
  argv: string[];
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    // The process exited while we looked, or we may not read it: skip it.
    return undefined;
  }
}

/** Lists the processes under `procRoot` (a procfs mount, or a copy of its layout in tests). */
export async function scanProcesses(procRoot = "/proc"): Promise<ProcessEntry[]> {
  const names = await readdir(procRoot);
  const pids = names.filter((n) => /^\d+$/.test(n)).map(Number);
  const entries = await Promise.all(
    pids.map(async (pid): Promise<ProcessEntry | undefined> => {
      const [comm, cmdline] = await Promise.all([readOrUndefined(join(procRoot, String(pid), "comm")), readOrUndefined(join(procRoot, String(pid), "cmdline"))]);
      if (comm === undefined && cmdline === undefined) return undefined;
      const argv = (cmdline ?? "").split("\0");
      while (argv.length > 0 && argv[argv.length - 1] === "") argv.pop();
      return { pid, comm: (comm ?? "").replace(/\n$/, ""), argv };
    }),
  );
  return entries.filter((e): e is ProcessEntry => e !== undefined).sort((a, b) => a.pid - b.pid);
}
