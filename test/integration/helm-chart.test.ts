import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import { parseKeyFile } from "../../src/heartbeat/heartbeat-keys.js";
import { parseOperatorConfig } from "../../src/operator/operator-config.js";
import { eventually } from "../support/eventually.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

// The Helm chart on a real kube-apiserver: lint, schema refusals, a server-side dry-run of
// the rendered manifests, and properties of the rendered objects (security context, RBAC,
// CRD keep policy).

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const CHART = join(REPO, "charts/vmkeeper");
const FIXTURES = join(REPO, "test/fixtures/helm");
const ALL_OPTIONS = join(FIXTURES, "values-all-options.yaml");
const MONITORING_CRDS = join(FIXTURES, "monitoring-crds.yaml");
const RELEASE = "vmkeeper";

const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number; protocol?: string; hostPort?: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface PodSpec {
  automountServiceAccountToken?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; emptyDir?: object; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
}

interface Deployment extends K8sObject {
  spec: { replicas: number; template: { spec: PodSpec } };
}

interface Service extends K8sObject {
  spec: { type?: string; clusterIP?: string; publishNotReadyAddresses?: boolean; selector?: Record<string, string>; ports: { name: string; port: number; targetPort?: string | number; protocol?: string }[] };
}

interface SecretObject extends K8sObject {
  data?: Record<string, string>;
}

interface NetworkPolicy extends K8sObject {
  spec: { ingress?: { from?: { ipBlock?: { cidr: string } }[]; ports?: { port: string | number; protocol?: string }[] }[] };
}

function named<T extends K8sObject>(objs: K8sObject[], kind: string, name: string): T {
  return only(ofKind<T>(objs, kind).filter((o) => o.metadata.name === name), `${kind} ${name}`);
}

/** The ingress rules of a NetworkPolicy that open the given UDP port. */
function udpRules(policy: NetworkPolicy, port: number): NonNullable<NetworkPolicy["spec"]["ingress"]> {
  return (policy.spec.ingress ?? []).filter((r) => r.ports?.some((p) => p.protocol === "UDP" && p.port === port));
}

/** Runs a program without a shell; a non-zero exit is a result, not an exception. */
async function exec(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, args, { maxBuffer: 64 * 1024 * 1024, env: env ?? process.env });
    return { code: 0, stdout, stderr };
  } catch (err: unknown) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string; message?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? e.message ?? "" };
  }
}

function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter((obj): obj is K8sObject => typeof obj === "object" && obj !== null && "kind" in obj);
}

function ofKind<T extends K8sObject = K8sObject>(objs: K8sObject[], kind: string): T[] {
  return objs.filter((o) => o.kind === kind) as T[];
}

function only<T>(items: T[], what: string): T {
  assert.equal(items.length, 1, `expected exactly one ${what}, found ${items.length}`);
  return items[0] as T;
}

/** `# expect-error: X` and `# refused-by: template` header lines of an invalid values file. */
function fixtureExpectations(path: string): { expect: string; lintRefuses: boolean } {
  const text = readFileSync(path, "utf8");
  const expect = /^# expect-error: (.+)$/m.exec(text)?.[1]?.trim();
  assert.ok(expect, `${path} lacks an "# expect-error:" line`);
  return { expect, lintRefuses: !/^# refused-by: template\b/m.test(text) };
}

function sourceCrds(): { file: string; name: string; spec: unknown }[] {
  return readdirSync(join(REPO, "crds"))
    .filter((f) => f.endsWith(".yaml"))
    .map((file) => {
      const crd = parse(readFileSync(join(REPO, "crds", file), "utf8")) as K8sObject;
      return { file, name: crd.metadata.name, spec: crd.spec };
    });
}

function randomKey(): string {
  return randomBytes(32).toString("base64");
}

function assertRestricted(ctx: SecurityContext | undefined, where: string): void {
  assert.ok(ctx, `${where}: no securityContext`);
  assert.equal(ctx.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
  assert.equal(ctx.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
  assert.equal(ctx.runAsNonRoot, true, `${where}: runAsNonRoot`);
  assert.notEqual(ctx.privileged, true, `${where}: privileged`);
  assert.deepEqual(ctx.capabilities?.drop, ["ALL"], `${where}: capabilities.drop`);
  assert.equal(ctx.capabilities?.add, undefined, `${where}: capabilities.add`);
}

function assertNoWildcards(rules: PolicyRule[], where: string): void {
  for (const rule of rules) {
    for (const field of ["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"] as const) {
      for (const value of rule[field] ?? []) {
        assert.ok(!value.includes("*"), `${where}: wildcard in ${field}: ${JSON.stringify(rule)}`);
      }
    }
    assert.equal(rule.nonResourceURLs, undefined, `${where}: nonResourceURLs are not needed`);
  }
}

describe("Helm chart charts/vmkeeper", function () {
  let env: TestEnv;
  let helmHome: string;

  async function helm(args: string[]): Promise<Result> {
    return exec(env.helmPath, args, {
      ...process.env,
      HELM_CONFIG_HOME: join(helmHome, "config"),
      HELM_CACHE_HOME: join(helmHome, "cache"),
      HELM_DATA_HOME: join(helmHome, "data"),
      KUBECONFIG: env.kubeconfigPath,
    });
  }

  async function template(namespace: string, args: string[] = []): Promise<string> {
    const res = await helm(["template", RELEASE, CHART, "--namespace", namespace, ...args]);
    assert.equal(res.code, 0, `helm template ${args.join(" ")} failed:\n${res.stderr}`);
    return res.stdout;
  }

  async function render(args: string[] = []): Promise<K8sObject[]> {
    return parseManifests(await template("vmkeeper-system", args));
  }

  async function dryRunApply(manifests: string): Promise<void> {
    const res = await env.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: manifests });
    assert.equal(res.code, 0, `kubectl apply --dry-run=server failed:\n${res.stderr}\n${res.stdout}`);
    const applied = res.stdout.split("\n").filter((l) => l.includes("(server dry run)"));
    assert.equal(applied.length, parseManifests(manifests).length, `not every object was applied:\n${res.stdout}`);
  }

  before(async function () {
    // The first run on a machine may build kube-apiserver, etcd and helm (cached afterwards).
    this.timeout(30 * 60_000);
    env = await sharedTestEnv();
    helmHome = mkdtempSync(join(tmpdir(), "vmkeeper-helm-"));
  });

  after(() => {
    if (helmHome) rmSync(helmHome, { recursive: true, force: true });
  });

  describe("lint", function () {
    it("passes helm lint --strict with the default values", async function () {
      const res = await helm(["lint", "--strict", CHART]);
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      assert.match(res.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      console.log(`      helm lint --strict: ${res.stdout.trim().split("\n").pop() ?? ""}`);
    });

    it("passes helm lint --strict with every option enabled", async function () {
      const res = await helm(["lint", "--strict", CHART, "-f", ALL_OPTIONS]);
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      assert.match(res.stdout, /0 chart\(s\) failed/);
    });
  });

  describe("values.schema.json", function () {
    const invalid = readdirSync(FIXTURES)
      .filter((f) => /^values-invalid-.*\.yaml$/.test(f))
      .sort();

    it("has invalid fixtures for unknown keys, wrong types, enums and bounds", function () {
      assert.ok(invalid.length >= 4, `only ${invalid.length} values-invalid-*.yaml fixtures`);
    });

    for (const file of invalid) {
      it(`refuses ${file}, naming the offending key`, async function () {
        const path = join(FIXTURES, file);
        const { expect, lintRefuses } = fixtureExpectations(path);
        const tpl = await helm(["template", RELEASE, CHART, "-f", path]);
        assert.notEqual(tpl.code, 0, `helm template accepted ${file}`);
        assert.ok(tpl.stderr.includes(expect), `helm template error does not name "${expect}":\n${tpl.stderr}`);
        if (lintRefuses) {
          const lint = await helm(["lint", "--strict", CHART, "-f", path]);
          const out = `${lint.stdout}\n${lint.stderr}`;
          assert.notEqual(lint.code, 0, `helm lint accepted ${file}:\n${out}`);
          assert.ok(out.includes(expect), `helm lint output does not name "${expect}":\n${out}`);
        }
      });
    }
  });

  describe("server-side dry-run on a real API server", function () {
    before(async function () {
      this.timeout(120_000);
      const res = await env.kubectl(["apply", "--server-side", "--field-manager=vmkeeper-tests", "-f", MONITORING_CRDS]);
      assert.equal(res.code, 0, res.stderr);
      const wait = await env.kubectl([
        "wait", "--for=condition=Established", "--timeout=60s",
        "crd/servicemonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com",
      ]);
      assert.equal(wait.code, 0, wait.stderr);
    });

    it("applies the default rendering", async function () {
      const ns = await env.createNamespace("helm-default");
      await dryRunApply(await template(ns));
    });

    it("applies the rendering with every option enabled", async function () {
      const [ns, watched, leases, monitoring] = [
        await env.createNamespace("helm-all"),
        await env.createNamespace("helm-watched"),
        await env.createNamespace("helm-leases"),
        await env.createNamespace("helm-monitoring"),
      ];
      const manifests = await template(ns, [
        "-f", ALL_OPTIONS,
        "--set", `watchNamespace=${watched}`,
        "--set", `leaderElection.namespace=${leases}`,
        "--set", `metrics.serviceMonitor.namespace=${monitoring}`,
        "--set", `metrics.prometheusRule.namespace=${monitoring}`,
      ]);
      const kinds = new Set(parseManifests(manifests).map((o) => o.kind));
      for (const kind of ["ServiceMonitor", "PrometheusRule", "NetworkPolicy", "PodDisruptionBudget", "Role"]) {
        assert.ok(kinds.has(kind), `all-options rendering lacks a ${kind}`);
      }
      await dryRunApply(manifests);
    });

    it("runs a pod that PodSecurity admission accepts at the restricted level", async function () {
      const ns = await env.createNamespace("helm-restricted");
      const label = await env.kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"]);
      assert.equal(label.code, 0, label.stderr);
      // Control: the namespace really enforces (a default pod is refused).
      const bad = await env.kubectl(["run", "unrestricted", "--image=example.invalid/x", "-n", ns, "--dry-run=server"]);
      assert.notEqual(bad.code, 0, "PodSecurity admission did not refuse an unrestricted pod");
      assert.match(bad.stderr, /violates PodSecurity "restricted/);
      // heartbeat.hostPort is excluded: PodSecurity baseline (and so restricted) refuses host
      // ports; the docs say so, and the last check below proves it.
      for (const args of [[], ["-f", ALL_OPTIONS, "--set", "heartbeat.hostPort=null"]]) {
        const deploy = only(ofKind<Deployment>(parseManifests(await template(ns, args)), "Deployment"), "Deployment");
        const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "operator-pod", namespace: ns }, spec: deploy.spec.template.spec };
        const res = await env.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: JSON.stringify(pod) });
        assert.equal(res.code, 0, `operator pod (${args.join(" ") || "defaults"}) refused:\n${res.stderr}`);
        assert.doesNotMatch(res.stderr, /PodSecurity/, res.stderr);
      }
      const withHostPort = only(ofKind<Deployment>(parseManifests(await template(ns, ["-f", ALL_OPTIONS])), "Deployment"), "Deployment");
      const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "operator-pod-hostport", namespace: ns }, spec: withHostPort.spec.template.spec };
      const refused = await env.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: JSON.stringify(pod) });
      assert.notEqual(refused.code, 0, "a pod with heartbeat.hostPort was accepted at the restricted level");
      assert.match(refused.stderr, /hostPort/);
    });

    it("grants the ServiceAccount exactly the intended permissions", async function () {
      const ns = await env.createNamespace("helm-rbac");
      // The release name is the namespace, so the ClusterRole of this test is its own.
      const res = await helm(["template", ns, CHART, "--namespace", ns, "--set", "crds.install=false"]);
      assert.equal(res.code, 0, res.stderr);
      const rbac = parseManifests(res.stdout).filter((o) => /^(Cluster)?Role(Binding)?$|^ServiceAccount$/.test(o.kind));
      const applied = await env.kubectl(["apply", "-f", "-"], { input: rbac.map((o) => JSON.stringify(o)).join("\n") });
      assert.equal(applied.code, 0, applied.stderr);
      const as = `system:serviceaccount:${ns}:${ns}-vmkeeper`;
      const canI = async (...args: string[]): Promise<boolean> =>
        (await env.kubectl(["auth", "can-i", ...args, `--as=${as}`])).stdout.trim() === "yes";
      try {
        const expectations: [string[], boolean][] = [
          [["watch", "incidents.ha.vmkeeper.dev", "-A"], true],
          [["delete", "computehosts.ha.vmkeeper.dev", "-n", "tenant"], true],
          [["patch", "incidents.ha.vmkeeper.dev", "--subresource=status", "-n", "tenant"], true],
          [["update", "hostfencings.ha.vmkeeper.dev", "--subresource=finalizers", "-n", "tenant"], true],
          [["get", "secrets", "-n", "tenant"], true],
          [["create", "secrets", "-n", "tenant"], false],
          [["delete", "secrets", "-n", "tenant"], false],
          [["create", "events.events.k8s.io", "-n", "tenant"], true],
          [["create", "leases.coordination.k8s.io", "-n", ns], true],
          [["update", "leases.coordination.k8s.io/vmkeeper-operator", "-n", ns], true],
          [["update", "leases.coordination.k8s.io/someone-else", "-n", ns], false],
          [["list", "leases.coordination.k8s.io", "-n", ns], false],
          [["create", "leases.coordination.k8s.io", "-n", "tenant"], false],
          [["list", "pods", "-A"], false],
          [["create", "customresourcedefinitions.apiextensions.k8s.io"], false],
        ];
        // The authorizer sees new RBAC objects through an informer, a moment after the write.
        await eventually(async () => {
          for (const [args, want] of expectations) {
            assert.equal(await canI(...args), want, `can-i ${args.join(" ")} should be ${want ? "yes" : "no"}`);
          }
        }, 15_000, 250);
      } finally {
        await env.kubectl(["delete", "clusterrole,clusterrolebinding", `${ns}-vmkeeper`, "--ignore-not-found"]);
      }
    });

    it("applies a single replica without leader election", async function () {
      const ns = await env.createNamespace("helm-single");
      const manifests = await template(ns, ["--set", "replicaCount=1", "--set", "leaderElection.enabled=false"]);
      const objs = parseManifests(manifests);
      const deploy = only(ofKind<Deployment>(objs, "Deployment"), "Deployment");
      assert.equal(deploy.spec.replicas, 1);
      assert.ok(deploy.spec.template.spec.containers[0]?.args?.includes("--leader-elect=false"));
      assert.equal(ofKind(objs, "PodDisruptionBudget").length, 0, "a PDB on one replica would block drains");
      assert.ok(!objs.some((o) => o.metadata.name.endsWith("-leader-election")), "no lease RBAC without election");
      await dryRunApply(manifests);
    });
  });

  describe("rendered objects", function () {
    it("run the operator with leader election, probes, metrics and the downward API", async function () {
      const objs = await render();
      const deploy = only(ofKind<Deployment>(objs, "Deployment"), "Deployment");
      assert.equal(deploy.spec.replicas, 2);
      const container = only(deploy.spec.template.spec.containers, "container");
      const chart = parse(readFileSync(join(CHART, "Chart.yaml"), "utf8")) as { appVersion: string };
      assert.equal(container.image, `ghcr.io/vmkeeper/vmkeeper:${chart.appVersion}`);
      assert.equal(container.args?.[0], "operator");
      for (const flag of ["--leader-elect=true", "--leader-election-id=vmkeeper-operator", "--leader-election-namespace=vmkeeper-system",
        "--metrics-bind-address=0.0.0.0:8080", "--health-probe-bind-address=0.0.0.0:8081"]) {
        assert.ok(container.args?.includes(flag), `missing ${flag} in ${JSON.stringify(container.args)}`);
      }
      const fieldOf = (name: string) => container.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
      assert.equal(fieldOf("POD_NAME"), "metadata.name");
      assert.equal(fieldOf("POD_NAMESPACE"), "metadata.namespace");
      assert.equal(container.livenessProbe?.httpGet?.path, "/healthz");
      assert.equal(container.readinessProbe?.httpGet?.path, "/readyz");
      assert.deepEqual(container.ports?.find((p) => p.name === "metrics")?.containerPort, 8080);
      assert.deepEqual(ofKind(objs, "Service").map((s) => s.metadata.name).sort(), ["vmkeeper-heartbeat", "vmkeeper-metrics"]);
      const svc = named<Service>(objs, "Service", "vmkeeper-metrics");
      assert.equal(svc.spec.type, "ClusterIP");
      assert.deepEqual(svc.spec.ports.map((p) => p.name), ["metrics"]);
      const pdb = only(ofKind<K8sObject & { spec: { minAvailable: number } }>(objs, "PodDisruptionBudget"), "PodDisruptionBudget");
      assert.equal(pdb.spec.minAvailable, 1);
    });

    for (const [label, args] of [["default values", []], ["every option", ["-f", ALL_OPTIONS]]] as const) {
      it(`have the restricted pod security context (${label})`, async function () {
        const deploy = only(ofKind<Deployment>(await render([...args]), "Deployment"), "Deployment");
        const pod = deploy.spec.template.spec;
        assert.equal(pod.securityContext?.runAsNonRoot, true);
        assert.equal(pod.securityContext?.runAsUser, 65532);
        assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
        assert.equal(pod.automountServiceAccountToken, true, "the operator needs its token");
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          assertRestricted(c.securityContext, `container ${c.name}`);
          assert.ok(c.volumeMounts?.some((m) => m.mountPath === "/tmp"), `container ${c.name}: no writable /tmp`);
        }
        assert.ok(pod.volumes?.some((v) => v.name === "tmp" && v.emptyDir), "no emptyDir for /tmp");
      });

      it(`grant least privilege without wildcards (${label})`, async function () {
        const objs = await render([...args]);
        type RoleObject = K8sObject & { rules: PolicyRule[] };
        const roles = [...ofKind<RoleObject>(objs, "ClusterRole"), ...ofKind<RoleObject>(objs, "Role")];
        assert.ok(roles.length >= 2, "expected the operator role and the leader election role");
        for (const role of roles) {
          assertNoWildcards(role.rules, `${role.kind} ${role.metadata.name}`);
          for (const rule of role.rules) {
            if (rule.resources?.includes("secrets")) assert.deepEqual([...rule.verbs].sort(), ["get", "list", "watch"]);
            if (rule.resources?.includes("leases")) {
              assert.ok(!rule.verbs.some((v) => ["list", "watch", "delete"].includes(v)), `lease verbs: ${rule.verbs.join(",")}`);
            }
          }
        }
        const sa = only(ofKind<K8sObject & { automountServiceAccountToken?: boolean }>(objs, "ServiceAccount"), "ServiceAccount");
        assert.equal(sa.automountServiceAccountToken, false, "only pods that need the token mount it");
      });
    }

    it("use a namespaced Role instead of a ClusterRole when watchNamespace is set", async function () {
      const objs = await render(["--set", "watchNamespace=tenant-a"]);
      assert.equal(ofKind(objs, "ClusterRole").length, 0);
      assert.equal(ofKind(objs, "ClusterRoleBinding").length, 0);
      const names = ofKind(objs, "Role").map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort();
      assert.deepEqual(names, ["tenant-a/vmkeeper", "vmkeeper-system/vmkeeper-leader-election"]);
      const deploy = only(ofKind<Deployment>(objs, "Deployment"), "Deployment");
      assert.ok(deploy.spec.template.spec.containers[0]?.args?.includes("--namespace=tenant-a"));
    });
  });

  describe("heartbeat receiver", function () {
    const KEY_FILE = "/etc/vmkeeper/heartbeat/keys";

    function keysOf(secret: SecretObject): string {
      const b64 = secret.data?.["keys"];
      assert.ok(b64, `Secret ${secret.metadata.name} has no data.keys`);
      return Buffer.from(b64, "base64").toString("utf8");
    }

    it("is on by default: flags, UDP port, read-only key mount, headless Service", async function () {
      const objs = await render();
      const deploy = only(ofKind<Deployment>(objs, "Deployment"), "Deployment");
      const pod = deploy.spec.template.spec;
      const container = only(pod.containers, "container");
      for (const flag of ["--heartbeat-bind-address=0.0.0.0:7946", `--heartbeat-key-file=${KEY_FILE}`, "--monitor-interval-ms=500"]) {
        assert.ok(container.args?.includes(flag), `missing ${flag} in ${JSON.stringify(container.args)}`);
      }
      const port = container.ports?.find((p) => p.name === "heartbeat");
      assert.deepEqual(port, { name: "heartbeat", containerPort: 7946, protocol: "UDP" }, "no hostPort by default");
      const mount = container.volumeMounts?.find((m) => m.mountPath === "/etc/vmkeeper/heartbeat");
      assert.ok(mount, "keys not mounted");
      assert.equal(mount.readOnly, true);
      const volume = pod.volumes?.find((v) => v.name === mount.name);
      assert.equal(volume?.secret?.secretName, "vmkeeper-heartbeat");
      assert.deepEqual(volume?.secret?.items, [{ key: "keys", path: "keys" }]);

      const svc = named<Service>(objs, "Service", "vmkeeper-heartbeat");
      assert.equal(svc.spec.clusterIP, "None", "headless: the DNS name resolves to every replica");
      assert.equal(svc.spec.publishNotReadyAddresses, true);
      assert.deepEqual(svc.spec.selector, (deploy.spec as unknown as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels);
      assert.deepEqual(svc.spec.ports, [{ name: "heartbeat", port: 7946, targetPort: "heartbeat", protocol: "UDP" }]);

      const cfg = parseOperatorConfig(container.args?.slice(1) ?? [], { POD_NAMESPACE: "vmkeeper-system", POD_NAME: "vmkeeper-0" });
      assert.ok(cfg !== "help");
      assert.equal(cfg.heartbeatBindAddress, "0.0.0.0:7946");
      assert.equal(cfg.heartbeatKeyFile, KEY_FILE);
      assert.equal(cfg.monitorIntervalMs, 500);
    });

    it("generates a Secret with one random 32-byte key k1 that parseKeyFile accepts", async function () {
      const secret = named<SecretObject>(await render(), "Secret", "vmkeeper-heartbeat");
      const keys = parseKeyFile(keysOf(secret));
      assert.equal(keys.length, 1);
      assert.equal(keys[0]?.id, "k1");
      assert.equal(keys[0]?.secret.length, 32);
      const again = parseKeyFile(keysOf(named<SecretObject>(await render(), "Secret", "vmkeeper-heartbeat")));
      assert.ok(!again[0]?.secret.equals(keys[0]?.secret ?? Buffer.alloc(0)), "two fresh renderings produced the same key");
    });

    it("keeps the generated key (and keys added by hand) across helm upgrade", async function () {
      this.timeout(120_000);
      const ns = await env.createNamespace("helm-hbkey");
      const release = ns; // release-scoped names: nothing clashes with other tests
      const secretName = `${ns}-vmkeeper-heartbeat`;
      const common = ["--namespace", ns, "--set", "crds.install=false", "--set", "rbac.create=false"];
      const readKeys = async (): Promise<string> => {
        const res = await env.kubectl(["get", "secret", secretName, "-n", ns, "-o", "jsonpath={.data.keys}"]);
        assert.equal(res.code, 0, res.stderr);
        return Buffer.from(res.stdout, "base64").toString("utf8");
      };
      const install = await helm(["install", release, CHART, ...common]);
      assert.equal(install.code, 0, install.stderr);
      try {
        const first = await readKeys();
        assert.equal(parseKeyFile(first)[0]?.id, "k1");

        const upgrade = await helm(["upgrade", release, CHART, ...common, "--set", "heartbeat.monitorIntervalMs=1000"]);
        assert.equal(upgrade.code, 0, upgrade.stderr);
        assert.equal(await readKeys(), first, "helm upgrade replaced the heartbeat key");

        // A rotation done in the cluster (new key on top) survives the next upgrade.
        const rotated = `k2:${randomKey()}\n${first}`;
        const patch = await env.kubectl(["patch", "secret", secretName, "-n", ns, "--type=merge",
          "-p", JSON.stringify({ data: { keys: Buffer.from(rotated).toString("base64") } })]);
        assert.equal(patch.code, 0, patch.stderr);
        const again = await helm(["upgrade", release, CHART, ...common]);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(await readKeys(), rotated, "helm upgrade dropped the rotated keys");
        assert.deepEqual(parseKeyFile(rotated).map((k) => k.id), ["k2", "k1"]);
      } finally {
        await helm(["uninstall", release, "--namespace", ns]);
      }
    });

    it("uses heartbeat.existingSecret instead of generating one", async function () {
      const objs = await render(["--set", "heartbeat.existingSecret=my-heartbeat-keys"]);
      assert.equal(ofKind(objs, "Secret").length, 0, "no generated Secret with existingSecret");
      const pod = only(ofKind<Deployment>(objs, "Deployment"), "Deployment").spec.template.spec;
      assert.ok(pod.volumes?.some((v) => v.secret?.secretName === "my-heartbeat-keys"), JSON.stringify(pod.volumes));
    });

    it("passes an empty --heartbeat-bind-address when disabled, which turns the receiver off", async function () {
      const objs = await render(["--set", "heartbeat.enabled=false", "--set", "networkPolicy.enabled=true", "--set", "heartbeat.monitorIntervalMs=2000"]);
      const pod = only(ofKind<Deployment>(objs, "Deployment"), "Deployment").spec.template.spec;
      const container = only(pod.containers, "container");
      assert.ok(container.args?.includes("--heartbeat-bind-address="), JSON.stringify(container.args));
      assert.ok(!container.args?.some((a) => a.startsWith("--heartbeat-key-file")));
      assert.ok(!container.ports?.some((p) => p.name === "heartbeat"));
      assert.ok(!pod.volumes?.some((v) => v.secret), "no key volume when disabled");
      assert.deepEqual(ofKind(objs, "Service").map((s) => s.metadata.name), ["vmkeeper-metrics"]);
      assert.equal(ofKind(objs, "Secret").length, 0);
      assert.equal(udpRules(only(ofKind<NetworkPolicy>(objs, "NetworkPolicy"), "NetworkPolicy"), 7946).length, 0);
      const cfg = parseOperatorConfig(container.args?.slice(1) ?? [], { POD_NAMESPACE: "vmkeeper-system", POD_NAME: "vmkeeper-0" });
      assert.ok(cfg !== "help");
      assert.equal(cfg.heartbeatBindAddress, "");
      assert.equal(cfg.monitorIntervalMs, 2000);
    });

    it("exposes the every-option port, hostPort and allowed CIDRs", async function () {
      const objs = await render(["-f", ALL_OPTIONS]);
      const container = only(only(ofKind<Deployment>(objs, "Deployment"), "Deployment").spec.template.spec.containers, "container");
      assert.deepEqual(container.ports?.find((p) => p.name === "heartbeat"), { name: "heartbeat", containerPort: 7950, protocol: "UDP", hostPort: 7950 });
      assert.ok(container.args?.includes("--heartbeat-bind-address=0.0.0.0:7950"));
      assert.ok(container.args?.includes("--monitor-interval-ms=250"));
      assert.equal(ofKind(objs, "Secret").length, 0, "existingSecret is set");
      const rule = only(udpRules(only(ofKind<NetworkPolicy>(objs, "NetworkPolicy"), "NetworkPolicy"), 7950), "heartbeat ingress rule");
      assert.deepEqual(rule.from?.map((p) => p.ipBlock?.cidr), ["10.20.0.0/16", "192.0.2.0/24", "2001:db8::/32"]);
    });

    it("lets heartbeats in from anywhere through the NetworkPolicy when allowedCIDRs is empty", async function () {
      const ns = await env.createNamespace("helm-hbnetpol");
      const manifests = await template(ns, ["--set", "networkPolicy.enabled=true", "--set", "crds.install=false"]);
      const rule = only(udpRules(only(ofKind<NetworkPolicy>(parseManifests(manifests), "NetworkPolicy"), "NetworkPolicy"), 7946), "heartbeat ingress rule");
      assert.equal(rule.from, undefined, "no `from`: every source");
      await dryRunApply(manifests);
    });
  });

  describe("CRDs", function () {
    it("are the crds/ files, verbatim, with the keep annotation by default", async function () {
      const crds = ofKind(await render(), "CustomResourceDefinition");
      const sources = sourceCrds();
      assert.ok(sources.length > 0, "crds/ holds no CRDs");
      assert.deepEqual(crds.map((c) => c.metadata.name).sort(), sources.map((s) => s.name).sort());
      for (const src of sources) {
        const crd = only(crds.filter((c) => c.metadata.name === src.name), src.name);
        assert.deepEqual(crd.spec, src.spec, `chart copy of ${src.file} differs (run npm run gen:chart-crds)`);
        assert.equal(crd.metadata.annotations?.["helm.sh/resource-policy"], "keep", `${src.name}: no keep annotation`);
      }
    });

    it("lose the keep annotation with crds.keep=false", async function () {
      const crds = ofKind(await render(["--set", "crds.keep=false"]), "CustomResourceDefinition");
      assert.ok(crds.length > 0);
      for (const crd of crds) assert.equal(crd.metadata.annotations?.["helm.sh/resource-policy"], undefined, crd.metadata.name);
    });

    it("are not rendered with crds.install=false", async function () {
      const objs = await render(["--set", "crds.install=false"]);
      assert.equal(ofKind(objs, "CustomResourceDefinition").length, 0);
      assert.ok(ofKind(objs, "Deployment").length === 1, "the operator is still rendered");
    });
  });
});
