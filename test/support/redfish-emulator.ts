import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RedfishTarget } from "../../src/fencing/device-targets.js";
import { freePort } from "./free-port.js";
import { ManagedProcess } from "./managed-process.js";
import { runCommand } from "./run-command.js";
import { REPO_ROOT } from "./test-assets.js";

/**
 * The Redfish test peer: sushy-tools' `sushy-emulator` (OpenStack Ironic's Redfish BMC
 * emulator) with its fake systems driver, HTTP basic auth from a bcrypt htpasswd file, and
 * TLS from a throw-away CA, on 127.0.0.1. hack/install-redfish-emulator.sh installs it
 * (pinned, cached) on first use.
 *
 * The fake driver applies a power change 1 to 11 s after the Reset request (real BMCs are
 * not instant either), so tests read power back with `eventually`. Its state lives in an
 * SQLite file in the emulator's own folder; `powerState` / `setPowerState` read and write
 * that file directly, bypassing Redfish, like someone at the machine.
 */
export interface RedfishEmulatorOptions {
  /** Fake ComputerSystems; default one, powered On. */
  systems?: { id?: string; name?: string; powerState?: "On" | "Off" }[];
  /** Serve HTTPS (default) or plain HTTP. */
  tls?: boolean;
  username?: string;
  password?: string;
}

export interface RedfishEmulator {
  address: string;
  port: number;
  scheme: "HTTPS" | "HTTP";
  /** `https://127.0.0.1:PORT` */
  baseUrl: string;
  username: string;
  password: string;
  /** PEM of the CA that signed the emulator's certificate ("" without TLS). */
  caBundle: string;
  /** PEM of another CA, which did not sign it. */
  untrustedCaBundle: string;
  systemIds: string[];
  /** A Redfish target for this emulator with Basic auth and the CA bundle, then `overrides`. */
  target(overrides?: Partial<RedfishTarget>): RedfishTarget;
  /** The power state the emulator reports now (a due pending change counts as done). */
  powerState(systemId: string): Promise<"On" | "Off">;
  /** Switches power at once, with no Redfish call and nothing pending. */
  setPowerState(systemId: string, state: "On" | "Off"): Promise<void>;
  /** A proxy in front of the emulator that answers every ComputerSystem.Reset with 204 and does nothing. */
  startLyingProxy(): Promise<{ port: number; stop(): Promise<void> }>;
  logTail(): string;
  stop(): Promise<void>;
}

let venv: Promise<string> | undefined;

/** The sushy-tools venv, installed by hack/install-redfish-emulator.sh when missing (cached). */
export function redfishEmulatorVenv(): Promise<string> {
  venv ??= (async () => {
    const res = await runCommand("bash", [join(REPO_ROOT, "hack/install-redfish-emulator.sh")], { timeoutMs: 10 * 60_000 });
    if (res.code !== 0) throw new Error(`hack/install-redfish-emulator.sh failed (${res.code}):\n${res.stderr.slice(-4000)}`);
    return res.stdout.trim().split("\n").pop() ?? "";
  })();
  return venv;
}

async function run(file: string, args: string[], input?: string): Promise<string> {
  const res = await runCommand(file, args, { ...(input !== undefined ? { input } : {}), timeoutMs: 60_000 });
  if (res.code !== 0) throw new Error(`${file} ${args.slice(0, 3).join(" ")} failed (${res.code}): ${res.stderr.slice(-2000)}`);
  return res.stdout;
}

/** A CA, a server certificate for 127.0.0.1 / localhost signed by it, and an unrelated CA. */
async function makeTls(dir: string): Promise<{ cert: string; key: string; ca: string; otherCa: string }> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const caExt = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"];
  const p = (f: string): string => join(dir, f);
  await run("openssl", ["req", "-x509", ...ec, ...caExt, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2", "-subj", "/CN=vmkeeper test Redfish CA"]);
  await run("openssl", ["req", "-x509", ...ec, ...caExt, "-keyout", p("other-ca.key"), "-out", p("other-ca.pem"), "-days", "2", "-subj", "/CN=vmkeeper untrusted CA"]);
  await run("openssl", ["req", ...ec, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"]);
  writeFileSync(p("server.ext"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await run("openssl", ["x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile", p("server.ext")]);
  return { cert: p("server.pem"), key: p("server.key"), ca: readFileSync(p("ca.pem"), "utf8"), otherCa: readFileSync(p("other-ca.pem"), "utf8") };
}

/** Reads or writes one fake system in the fake driver's SQLite store (pickled dicts keyed by UUID). */
const STATE_SCRIPT = `
import json, pickle, sqlite3, sys, time
db, op, uuid = sys.argv[1:4]
con = sqlite3.connect(db, timeout=10)
found = None
for key, value in con.execute("select key, value from cache").fetchall():
    if pickle.loads(key) == uuid:
        found = (key, pickle.loads(value))
if found is None:
    sys.exit("system %s not in the emulator's store" % uuid)
key, system = found
if op == "get":
    pending = system.get("pending_power")
    state = system["power_state"]
    if pending and time.time() >= pending["apply_time"]:
        state = pending["power_state"]
else:
    state = system["power_state"] = sys.argv[4]
    system["pending_power"] = None
    con.execute("update cache set value=? where key=?", (pickle.dumps(system), key))
    con.commit()
con.close()
print(json.dumps({"powerState": state}))
`;

interface Started {
  proc: ManagedProcess;
  port: number;
}

function pythonConfig(values: Record<string, unknown>): string {
  const lines = ["import json"];
  for (const [k, v] of Object.entries(values)) lines.push(`${k} = json.loads(${JSON.stringify(JSON.stringify(v))})`);
  return `${lines.join("\n")}\n`;
}

function rawRequest(url: string, opts: { ca?: string; auth?: string; method?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.request(u, { method: opts.method ?? "GET", ...(opts.ca ? { ca: opts.ca } : {}), headers: opts.auth ? { authorization: opts.auth } : {}, timeout: 2000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

export async function startRedfishEmulator(opts: RedfishEmulatorOptions = {}): Promise<RedfishEmulator> {
  const py = join(await redfishEmulatorVenv(), "bin", "python");
  const dir = mkdtempSync(join(tmpdir(), "vmkeeper-redfish-"));
  const tlsOn = opts.tls ?? true;
  const username = opts.username ?? "fence-admin";
  const password = opts.password ?? `pw-${randomBytes(9).toString("base64url")}`;
  const systems = (opts.systems ?? [{}]).map((s, i) => ({
    uuid: s.id ?? randomUUID(),
    name: s.name ?? `host-${i + 1}`,
    power_state: s.powerState ?? "On",
    external_notifier: false,
    nics: [{ mac: `52:54:00:00:00:${(i + 16).toString(16)}`, ip: `192.0.2.${i + 10}` }],
  }));
  try {
    const hash = await run(py, ["-c", "import bcrypt, sys; print(bcrypt.hashpw(sys.stdin.buffer.read(), bcrypt.gensalt(rounds=4)).decode())"], password);
    writeFileSync(join(dir, "htpasswd"), `${username}:${hash.trim()}\n`, { mode: 0o600 });
    const tls = tlsOn ? await makeTls(dir) : undefined;
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    const started = await launch(py, dir, systems, tls, basic);
    const scheme = tlsOn ? "HTTPS" : "HTTP";
    const baseUrl = `${tlsOn ? "https" : "http"}://127.0.0.1:${started.port}`;
    const db = join(dir, "state", "fakedriver.sqlite");
    const state = async (args: string[]): Promise<"On" | "Off"> => {
      const out = JSON.parse(await run(py, ["-c", STATE_SCRIPT, db, ...args])) as { powerState: "On" | "Off" };
      return out.powerState;
    };
    return {
      address: "127.0.0.1",
      port: started.port,
      scheme,
      baseUrl,
      username,
      password,
      caBundle: tls?.ca ?? "",
      untrustedCaBundle: tls?.otherCa ?? "",
      systemIds: systems.map((s) => s.uuid),
      target: (overrides = {}) => ({
        kind: "Redfish",
        address: "127.0.0.1",
        port: started.port,
        scheme,
        authMethod: "Basic",
        credentials: { username, password },
        ...(tls ? { caBundle: tls.ca } : {}),
        insecureSkipTLSVerify: false,
        ...overrides,
      }),
      powerState: (id) => state(["get", id]),
      setPowerState: async (id, s) => {
        await state(["set", id, s]);
      },
      startLyingProxy: () => {
        if (!tls) throw new Error("the lying proxy needs the TLS emulator");
        return startLyingProxy(started.port, tls);
      },
      logTail: () => started.proc.logTail(),
      stop: async () => {
        await started.proc.stop("SIGTERM", 5000);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e: unknown) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Starts sushy-emulator on a free port and waits until it serves the Systems collection; retries a port taken meanwhile. */
async function launch(py: string, dir: string, systems: unknown[], tls: { cert: string; key: string; ca: string } | undefined, basic: string): Promise<Started> {
  let lastLog = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const config = {
      SUSHY_EMULATOR_LISTEN_IP: "127.0.0.1",
      SUSHY_EMULATOR_LISTEN_PORT: port,
      SUSHY_EMULATOR_FAKE_DRIVER: true,
      SUSHY_EMULATOR_FAKE_SYSTEMS: systems,
      SUSHY_EMULATOR_STATE_DIR: join(dir, "state"),
      SUSHY_EMULATOR_AUTH_FILE: join(dir, "htpasswd"),
      ...(tls ? { SUSHY_EMULATOR_SSL_CERT: tls.cert, SUSHY_EMULATOR_SSL_KEY: tls.key } : {}),
    };
    writeFileSync(join(dir, "emulator.conf"), pythonConfig(config));
    const proc = new ManagedProcess("sushy-emulator", py, ["-m", "sushy_tools.emulator.main", "--config", join(dir, "emulator.conf")], join(dir, `emulator-${attempt}.log`), {
      ...process.env,
      PYTHONUNBUFFERED: "1",
    });
    proc.start();
    const url = `${tls ? "https" : "http"}://127.0.0.1:${port}/redfish/v1/Systems`;
    const deadline = Date.now() + 30_000;
    while (proc.running && Date.now() < deadline) {
      const status = await rawRequest(url, { ...(tls ? { ca: tls.ca } : {}), auth: basic }).catch(() => 0);
      if (status === 200) return { proc, port };
      await new Promise((r) => setTimeout(r, 100));
    }
    lastLog = proc.logTail();
    await proc.stop("SIGKILL", 1000);
    if (!/Address already in use/i.test(lastLog)) break;
  }
  throw new Error(`sushy-emulator did not come up:\n${lastLog}`);
}

/**
 * A BMC that lies: an HTTPS server with the emulator's certificate that forwards every request
 * to the emulator but answers POSTs to `.../Actions/ComputerSystem.Reset` with 204 and drops them.
 */
async function startLyingProxy(upstreamPort: number, tls: { cert: string; key: string; ca: string }): Promise<{ port: number; stop(): Promise<void> }> {
  const server = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    if (req.method === "POST" && /\/Actions\/ComputerSystem\.Reset\/?$/.test(req.url ?? "")) {
      req.resume();
      req.on("end", () => res.writeHead(204).end());
      return;
    }
    const up = https.request(
      { host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${upstreamPort}` }, ca: tls.ca },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
