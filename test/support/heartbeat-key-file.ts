import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** A fresh heartbeat key file (`k1:<32 random bytes>`) shared by test agents and operators. */
export function writeHeartbeatKeyFile(dir: string): string {
  const path = join(dir, `heartbeat-keys-${randomBytes(3).toString("hex")}`);
  writeFileSync(path, `k1:${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  return path;
}
