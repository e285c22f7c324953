import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "node:https";
import { request as httpRequest } from "node:http";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { eventually } from "./eventually.js";
import { freePort } from "./free-port.js";
import { ManagedProcess } from "./managed-process.js";
import { runCommand, type CommandResult } from "./run-command.js";
import { REPO_ROOT, testAssets } from "./test-assets.js";

export interface TestEnv {
  /** Admin kubeconfig file (system:masters token). */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  apiServerUrl: string;
  helmPath: string;
  kubectlPath: string;
  assetsDir: string;
  workDir: string;
  kubectl(args: string[], opts?: { input?: string }): Promise<CommandResult>;
  /** `kubectl apply --server-side -n NAMESPACE -f -` with these manifests; throws with kubectl's stderr unless it succeeds. */
  apply(namespace: string, manifests: string): Promise<void>;
  /** A kubeconfig file for one of the extra users (operator-a, operator-b, operator-c; all system:masters). */
  kubeconfigFor(user: TestUser): string;
  /** The API server's audit log (writes only), parsed. */
  auditEvents(): AuditEvent[];
  createNamespace(prefix: string): Promise<string>;
  /** Kills the API server (etcd keeps the data), for outage tests. */
  stopApiServer(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the API server again on the same port with the same state. */
  startApiServer(): Promise<void>;
  stop(): Promise<void>;
}

export const TEST_USERS = ["operator-a", "operator-b", "operator-c"] as const;
export type TestUser = (typeof TEST_USERS)[number];

export interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

export interface TestEnvOptions {
  installCrds?: boolean;
}

const ADMIN_TOKEN_BYTES = 24;

/**
 * Starts a real etcd and kube-apiserver on loopback with random ports and temp dirs,
 * installs vmkeeper's CRDs and waits until they are Established.
 */
export async function startTestEnv(opts: TestEnvOptions = {}): Promise<TestEnv> {
  const assets = await testAssets();
  const workDir = mkdtempSync(join(tmpdir(), "vmkeeper-testenv-"));
  const etcd = await startEtcd(assets.etcd, workDir);
  const api = await prepareApiServer(assets.kubeApiServer, workDir, etcd.url);
  api.process.start();
  try {
    await waitApiReady(api.url, api.token, api.process);
  } catch (err: unknown) {
    await api.process.stop("SIGKILL");
    await etcd.process.stop("SIGKILL");
    throw err;
  }
  const kubeconfigPath = join(workDir, "kubeconfig");
  writeFileSync(kubeconfigPath, kubeconfigYaml(api.url, api.token), { mode: 0o600 });
  for (const [user, token] of Object.entries(api.userTokens)) {
    writeFileSync(join(workDir, `kubeconfig-${user}`), kubeconfigYaml(api.url, token), { mode: 0o600 });
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const kubectl = (args: string[], o: { input?: string } = {}): Promise<CommandResult> =>
    runCommand(assets.kubectl, ["--kubeconfig", kubeconfigPath, ...args], { input: o.input ?? "" });
  const env: TestEnv = {
    kubeconfigPath,
    kubeConfig,
    apiServerUrl: api.url,
    helmPath: assets.helm,
    kubectlPath: assets.kubectl,
    assetsDir: assets.dir,
    workDir,
    kubectl,
    apply: async (namespace, manifests) => {
      const r = await kubectl(["apply", "--server-side", "-n", namespace, "-f", "-"], { input: manifests });
      if (r.code !== 0) throw new Error(`kubectl apply -n ${namespace} failed (${r.code}): ${r.stderr}`);
    },
    createNamespace: (prefix) => createNamespace(kubeConfig, prefix),
    kubeconfigFor: (user) => join(workDir, `kubeconfig-${user}`),
    auditEvents: () => readAudit(api.auditLog),
    stopApiServer: (signal = "SIGKILL") => api.process.stop(signal),
    startApiServer: async () => {
      api.process.start();
      await waitApiReady(api.url, api.token, api.process);
    },
    stop: async () => {
      await api.process.stop("SIGTERM", 5000);
      await etcd.process.stop("SIGTERM", 5000);
      rmSync(workDir, { recursive: true, force: true });
    },
  };
  if (opts.installCrds !== false) await installCrds(env);
  return env;
}

let shared: Promise<TestEnv> | undefined;

/** One API server per test process, shared by integration tests; each test uses its own namespace. */
export function sharedTestEnv(): Promise<TestEnv> {
  shared ??= startTestEnv();
  return shared;
}

async function startEtcd(bin: string, workDir: string): Promise<{ url: string; process: ManagedProcess }> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = new ManagedProcess("etcd", bin, [
    "--name=default",
    `--data-dir=${join(workDir, "etcd")}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Tests do not need durability across machine crashes; skipping fsync makes them fast.
    "--unsafe-no-fsync",
    "--log-level=warn",
  ], join(workDir, "etcd.log"));
  proc.start();
  await eventually(() => httpGetOk(`${url}/health`), 30_000, 100).catch((err: unknown) => {
    throw new Error(`etcd did not become healthy: ${String(err)}\n${proc.logTail()}`);
  });
  return { url, process: proc };
}

async function prepareApiServer(bin: string, workDir: string, etcdUrl: string) {
  const port = await freePort();
  const certDir = join(workDir, "certs");
  mkdirSync(certDir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const saKey = join(workDir, "sa.key");
  const saPub = join(workDir, "sa.pub");
  writeFileSync(saKey, privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(saPub, publicKey.export({ type: "spki", format: "pem" }));
  const token = randomBytes(ADMIN_TOKEN_BYTES).toString("hex");
  const tokens = join(workDir, "tokens.csv");
  const userTokens: Record<string, string> = {};
  let csv = `${token},admin,admin-uid,"system:masters"\n`;
  for (const user of TEST_USERS) {
    userTokens[user] = randomBytes(ADMIN_TOKEN_BYTES).toString("hex");
    csv += `${userTokens[user]},${user},${user}-uid,"system:masters"\n`;
  }
  writeFileSync(tokens, csv, { mode: 0o600 });
  // Writes are audited so tests can prove who wrote what, and when (e.g. a deposed leader).
  const auditPolicy = join(workDir, "audit-policy.yaml");
  const auditLog = join(workDir, "audit.log");
  writeFileSync(auditPolicy, [
    "apiVersion: audit.k8s.io/v1",
    "kind: Policy",
    "omitStages: [RequestReceived, ResponseStarted]",
    "rules:",
    "- level: Metadata",
    "  verbs: [create, update, patch, delete, deletecollection]",
    "- level: None",
    "",
  ].join("\n"));
  const args = [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    `--token-auth-file=${tokens}`,
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${saPub}`,
    `--service-account-signing-key-file=${saKey}`,
    "--service-cluster-ip-range=10.96.0.0/24",
    "--allow-privileged=true",
    "--disable-admission-plugins=ServiceAccount",
    `--audit-policy-file=${auditPolicy}`,
    `--audit-log-path=${auditLog}`,
    "--audit-log-format=json",
    "--v=1",
  ];
  const proc = new ManagedProcess("kube-apiserver", bin, args, join(workDir, "kube-apiserver.log"));
  return { url: `https://127.0.0.1:${port}`, token, userTokens, auditLog, process: proc };
}

function readAudit(path: string): AuditEvent[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as AuditEvent);
}

async function waitApiReady(url: string, token: string, proc: ManagedProcess): Promise<void> {
  await eventually(async () => {
    if (!proc.running) throw new Error("kube-apiserver exited");
    const body = await httpsGet(`${url}/readyz`, token);
    if (body.trim() !== "ok") throw new Error(`readyz: ${body}`);
  }, 90_000, 200).catch((err: unknown) => {
    throw new Error(`kube-apiserver did not become ready: ${String(err)}\n${proc.logTail()}`);
  });
}

async function installCrds(env: TestEnv): Promise<void> {
  const res = await env.kubectl(["apply", "--server-side", "--field-manager=vmkeeper-tests", "-f", join(REPO_ROOT, "crds")]);
  if (res.code !== 0) throw new Error(`installing CRDs failed: ${res.stderr}`);
  const wait = await env.kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd", "-l", "app.kubernetes.io/part-of=vmkeeper"]);
  if (wait.code !== 0 || wait.stdout.trim() === "") {
    const all = await env.kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"]);
    if (all.code !== 0) throw new Error(`CRDs not Established: ${all.stderr}`);
  }
}

async function createNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString("hex")}`.toLowerCase().slice(0, 63);
  await core.createNamespace({ body: { metadata: { name, labels: { "vmkeeper.dev/test": "true" } } } });
  return name;
}

function kubeconfigYaml(server: string, token: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: test",
    "  cluster:",
    `    server: ${server}`,
    "    insecure-skip-tls-verify: true",
    "users:",
    "- name: admin",
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: test",
    "  context: {cluster: test, user: admin}",
    "current-context: test",
    "",
  ].join("\n");
}

const insecureAgent = new Agent({ rejectUnauthorized: false });

function httpsGet(url: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: insecureAgent, headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

function httpGetOk(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { timeout: 2000 }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`status ${res.statusCode}`));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}
