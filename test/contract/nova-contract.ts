import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { parseCloudsYaml } from "../../src/openstack/clouds-config.js";
import { KeystoneSession } from "../../src/openstack/keystone-session.js";
import { formatMicroversion, MAX_MICROVERSION, compareMicroversions, mv } from "../../src/openstack/microversion.js";
import { NodeHttpTransport } from "../../src/openstack/node-http-transport.js";
import { NovaClient } from "../../src/openstack/nova-client.js";
import {
  NovaBadRequestError,
  NovaConflictError,
  NovaNotFoundError,
  NovaServiceStillUpError,
  NovaUnsupportedMicroversionError,
  isNovaError,
} from "../../src/openstack/nova-errors.js";
import { NovaHttp } from "../../src/openstack/nova-http.js";
import { DEFAULT_RETRY_POLICY } from "../../src/openstack/retry-policy.js";
import type { ComputeService, Migration, Server } from "../../src/openstack/nova-types.js";
import { SystemClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { eventually, sleep } from "../support/eventually.js";
import { NovaFixtures } from "../support/nova-fixtures.js";
import type { ContractTarget } from "./contract-target.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Asserts that `p` rejects with an instance of `type` and returns the error. */
async function rejectsWith<E extends Error>(p: Promise<unknown>, type: abstract new (...args: never[]) => E, what: string): Promise<E> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof type) return e;
    throw new assert.AssertionError({ message: `${what}: expected ${type.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` });
  }
  throw new assert.AssertionError({ message: `${what}: expected ${type.name}, but it succeeded` });
}

/**
 * The Nova contract: one suite, run unchanged against the simulator and the real Nova lab.
 * It speaks through vmkeeper's own KeystoneSession and NovaClient (so it pins our client as
 * much as the cloud), plus raw calls for what vmkeeper never does (boot, groups,
 * aggregates). Every check cleans up what it creates; killed hosts are restored in `finally`.
 */
export function defineNovaContract(targetName: string, makeTarget: () => Promise<ContractTarget>): void {
  describe(`Nova contract (${targetName})`, function () {
    this.timeout(300_000);
    const run = randomBytes(3).toString("hex");
    const name = (what: string): string => `vmk-contract-${run}-${what}`;
    const clock = new SystemClock();
    let t: ContractTarget;
    let session: KeystoneSession;
    let nova: NovaClient;
    let fx: NovaFixtures;
    let host1: string;
    let host2: string;
    let host3: string;

    before(async function () {
      this.timeout(20 * 60_000);
      t = await makeTarget();
      [host1, host2, host3] = t.hosts;
      const cloud = parseCloudsYaml(t.cloudsYaml, { cloudName: t.cloudName, env: {} });
      session = new KeystoneSession({ cloud, transport: new NodeHttpTransport({ keepAlive: false }), clock, logger: silentLogger() });
      nova = new NovaClient({ session, clock, logger: silentLogger(), retry: { maxAttempts: 2 } });
      fx = new NovaFixtures(session, nova, { flavorName: t.flavorName, imageName: t.imageName, ...(t.advance ? { tick: (ms: number) => t.advance?.(ms) ?? Promise.resolve() } : {}) });
    });

    after(async () => {
      await t?.close();
    });

    /** `eventually` that also moves a virtual clock, when the target has one. */
    const until = <T>(check: () => Promise<T>, timeoutMs = 60_000, intervalMs = 250): Promise<T> =>
      eventually(async () => {
        if (t.advance) await t.advance(intervalMs);
        return check();
      }, timeoutMs, intervalMs);

    const service = async (host: string): Promise<ComputeService> => {
      const list = await nova.listServices({ binary: "nova-compute", host });
      const s = list.find((x) => x.host === host);
      assert.ok(s, `no nova-compute service on ${host}`);
      return s;
    };

    /** Host failure as vmkeeper handles it: the machine dies, then it is forced down (fenced). */
    const killAndForceDown = async (host: string): Promise<ComputeService> => {
      await t.killCompute(host);
      const svc = await nova.forceDownService((await service(host)).id, true);
      assert.equal(svc.forcedDown, true);
      assert.equal(svc.state, "down");
      return svc;
    };

    /**
     * Brings a killed host back: the compute restarts (destroying the evacuated copies and
     * completing their migrations), then forced_down is lifted — Nova refuses that (400)
     * while `done` evacuation migrations remain, so it is retried — and the service is up.
     */
    const restore = async (host: string, opts: { restartAgainIfStillDone?: boolean } = {}): Promise<void> => {
      await t.restoreCompute(host);
      const id = (await service(host)).id;
      const lift = async (): Promise<void> => {
        const svc = await nova.forceDownService(id, false);
        assert.equal(svc.forcedDown, false);
      };
      if (opts.restartAgainIfStillDone) {
        try {
          await until(lift, 20_000, 1000);
        } catch {
          // Nova's start-up cleanup keys evacuations by instance and completes one per server
          // per start: after a duplicate evacuation a `done` record can survive one restart.
          await t.killCompute(host);
          await t.restoreCompute(host);
        }
      }
      await until(lift, 90_000, 1000);
      await until(async () => assert.equal((await service(host)).state, "up"), 60_000, 500);
    };

    /** Waits on the target's clock: real time, or its virtual clock. */
    const pause = (ms: number): Promise<void> => (t.advance ? t.advance(ms) : sleep(ms));

    const evacuationsOf = async (serverId: string): Promise<Migration[]> => nova.listMigrations({ migrationType: "evacuation", instanceUuid: serverId });

    it("1. version document and microversion negotiation: highest common version; 406 above the cloud's maximum", async () => {
      const n = await nova.negotiate();
      assert.equal(formatMicroversion(n.serverRange.min), "2.1");
      assert.equal(formatMicroversion(n.serverRange.max), "2.93", "Nova 26 (Zed) announces 2.93");
      const expected = compareMicroversions(n.serverRange.max, MAX_MICROVERSION) < 0 ? n.serverRange.max : MAX_MICROVERSION;
      assert.deepEqual(n.version, expected);
      assert.equal(formatMicroversion(nova.microversion ?? mv("0.0")), "2.93");

      // A client capped lower negotiates its cap and still works.
      const capped = new NovaClient({ session, clock, logger: silentLogger(), maxMicroversion: mv("2.60") });
      assert.equal(formatMicroversion((await capped.negotiate()).version), "2.60");
      assert.ok((await capped.listServices({ binary: "nova-compute" })).length >= 3);

      // The cloud echoes the microversion it served.
      const echo = await fx.raw("GET", "/os-services?binary=nova-compute", { microversion: "2.60" });
      assert.equal(echo.status, 200);
      assert.equal(echo.headers["openstack-api-version"], "compute 2.60");
      assert.equal(echo.headers["x-openstack-nova-api-version"], "2.60");

      // One above the maximum: 406, mapped by vmkeeper's HTTP layer to NovaUnsupportedMicroversionError.
      const above = { major: n.serverRange.max.major, minor: n.serverRange.max.minor + 1 };
      const http = new NovaHttp({ session, clock, logger: silentLogger(), timeoutMs: 30_000, retry: DEFAULT_RETRY_POLICY, random: Math.random });
      const err = await rejectsWith(http.call({ operation: "contract.aboveMax", method: "GET", path: "/os-services", idempotent: true, microversion: above }), NovaUnsupportedMicroversionError, "GET at max+1");
      assert.equal(err.status, 406);
      assert.match(err.novaMessage, /Version 2\.94 is not supported by the API\. Minimum is 2\.1 and maximum is 2\.93\./);
      // Below 2.1 is refused the same way; a malformed version is a 400.
      assert.equal((await fx.raw("GET", "/os-services", { microversion: "2.0" })).status, 406);
      assert.equal((await fx.raw("GET", "/os-services", { microversion: "2.x" })).status, 400);
    });

    it("2. services: three computes up/enabled with UUID ids; disable with a reason and enable back", async () => {
      const computes = await nova.listServices({ binary: "nova-compute" });
      assert.deepEqual(computes.map((s) => s.host).sort(), [...t.hosts].sort());
      for (const s of computes) {
        assert.match(s.id, UUID);
        assert.deepEqual([s.binary, s.state, s.status, s.forcedDown, s.disabledReason, s.zone], ["nova-compute", "up", "enabled", false, null, "nova"], s.host);
      }
      const binaries = new Set((await nova.listServices()).map((s) => s.binary));
      for (const b of ["nova-compute", "nova-conductor", "nova-scheduler"]) assert.ok(binaries.has(b), b);

      const id = (await service(host3)).id;
      const reason = `vmkeeper contract ${run}: maintenance`;
      try {
        const disabled = await nova.disableService(id, reason);
        assert.deepEqual([disabled.id, disabled.host, disabled.status, disabled.disabledReason, disabled.state], [id, host3, "disabled", reason, "up"]);
        const listed = await service(host3);
        assert.deepEqual([listed.status, listed.disabledReason], ["disabled", reason]);
      } finally {
        const enabled = await nova.enableService(id);
        assert.deepEqual([enabled.status, enabled.disabledReason], ["enabled", null]);
      }
      assert.deepEqual([(await service(host3)).status, (await service(host3)).disabledReason], ["enabled", null]);

      // Nova's own refusals on PUT /os-services/{id} (2.53).
      const withReason = await fx.raw("PUT", `/os-services/${id}`, { microversion: "2.53", body: { status: "enabled", disabled_reason: "nope" } });
      assert.equal(withReason.status, 400);
      assert.match(JSON.stringify(withReason.body), /Specifying 'disabled_reason' with status 'enabled' is invalid\./);
      const nothing = await fx.raw("PUT", `/os-services/${id}`, { microversion: "2.53", body: {} });
      assert.equal(nothing.status, 400);
      assert.match(JSON.stringify(nothing.body), /No updates were requested/);
      const notUuid = await rejectsWith(nova.enableService(host3), NovaBadRequestError, "enable by host name");
      assert.equal(notUuid.novaMessage, `Invalid uuid ${host3}`);
      const unknown = await rejectsWith(nova.enableService("00000000-0000-4000-8000-00000000beef"), NovaNotFoundError, "enable unknown uuid");
      assert.equal(unknown.status, 404);
    });

    it("3. force-down by id (2.53): down at once, and back up when lifted", async () => {
      const id = (await service(host3)).id;
      try {
        const down = await nova.forceDownService(id, true);
        assert.deepEqual([down.id, down.forcedDown, down.state, down.status], [id, true, "down", "enabled"]);
        const listed = await service(host3);
        assert.deepEqual([listed.forcedDown, listed.state], [true, "down"]);
      } finally {
        const up = await nova.forceDownService(id, false);
        assert.equal(up.forcedDown, false);
      }
      // The compute kept reporting, so it is up again as soon as the flag is lifted.
      await until(async () => assert.deepEqual([(await service(host3)).state, (await service(host3)).forcedDown], ["up", false]), 30_000);
    });

    it("4. evacuate guards: source up → ServiceStillUp; same host → 400; unknown host → 404; vm_state → 409; no task_state guard", async () => {
      const [server] = await fx.bootActive([{ name: name("guards"), host: host2 }]);
      assert.ok(server);
      assert.equal(server.host, host2);
      const ids = [server.id];
      let killed = false;
      try {
        const stillUp = await rejectsWith(nova.evacuateServer(server.id), NovaServiceStillUpError, "evacuate from a live host");
        assert.deepEqual([stillUp.status, stillUp.host], [400, host2]);
        assert.equal(stillUp.novaMessage, `Compute service of ${host2} is still in use.`);

        const same = await rejectsWith(nova.evacuateServer(server.id, { host: host2 }), NovaBadRequestError, "evacuate to its own host");
        assert.ok(!(same instanceof NovaServiceStillUpError));
        assert.equal(same.novaMessage, "The target host can't be the same one.");

        const nowhere = await rejectsWith(nova.evacuateServer(server.id, { host: `no-such-host-${run}` }), NovaNotFoundError, "evacuate to an unknown host");
        assert.equal(nowhere.novaMessage, `Compute host no-such-host-${run} not found.`);
        assert.equal((await evacuationsOf(server.id)).length, 0, "refused evacuations leave no migration");

        // The host dies. Nova still calls it up for service_down_time, so a boot pinned to it is
        // scheduled there and waits for its nova-compute: a server that stays BUILD, deterministically.
        killed = true;
        await t.killCompute(host2);
        const building = await fx.bootServer({ name: name("building"), host: host2 });
        ids.push(building);
        await pause(3000);
        const b = await nova.getServer(building);
        assert.deepEqual([b.status, b.vmState], ["BUILD", "building"], "the build waits for the dead compute");
        // vm_state is checked before the source service: 409 even though host2 still looks up.
        // (A target host is given: without one, Nova compares the unset host of a server that
        // never landed with the unset target and answers 400 "can't be the same one".)
        const conflict = await rejectsWith(nova.evacuateServer(building, { host: host3 }), NovaConflictError, "evacuate a server in BUILD");
        assert.deepEqual([conflict.status, conflict.vmState], [409, "building"]);
        assert.equal(conflict.novaMessage, `Cannot 'evacuate' instance ${building} while it is in vm_state building`);

        // No task_state guard: Nova's evacuate checks vm_state only (check_instance_state with
        // task_state=None), so a second evacuate of a server being rebuilt is ACCEPTED and the
        // two rebuilds race. vmkeeper must never send a second one itself.
        const hostId = (await service(host2)).id;
        await nova.forceDownService(hostId, true);
        const first = await nova.evacuateServer(server.id);
        const second = await nova.evacuateServer(server.id);
        assert.notEqual(first.requestId, second.requestId);
        const migrations = await evacuationsOf(server.id);
        assert.deepEqual(migrations.map((m) => [m.sourceCompute, m.migrationType]), [[host2, "evacuation"], [host2, "evacuation"]]);
        const evacuations = (await nova.listInstanceActions(server.id)).filter((a) => a.action === "evacuate");
        assert.deepEqual(evacuations.map((a) => a.requestId).sort(), [first.requestId, second.requestId].sort());
        // Which rebuild wins is Nova's race: on the lab the server has ended ACTIVE on another
        // host, and also wedged in vm_state error with task_state rebuilding on the dead host.
        // Only the end of both rebuilds is certain; the server is deleted afterwards either way.
        await until(async () => {
          for (const a of evacuations) {
            const events = (await nova.getInstanceAction(server.id, a.requestId)).events ?? [];
            assert.ok(events.length > 0 && events.every((e) => e.result !== null), `${a.requestId}: ${JSON.stringify(events)}`);
          }
        }, 60_000, 500);
      } finally {
        try {
          if (killed) await restore(host2, { restartAgainIfStillDone: true });
        } finally {
          await fx.deleteServers(ids);
        }
      }
    });

    it("5. evacuation to completion: dead host → ACTIVE elsewhere, migrations done → completed after the compute restarts", async () => {
      const servers = await fx.bootActive([
        { name: name("evac-a"), host: host1 },
        { name: name("evac-b"), host: host1 },
      ]);
      const ids = servers.map((s) => s.id);
      assert.deepEqual(servers.map((s) => s.host), [host1, host1]);
      let killed = false;
      try {
        killed = true;
        await killAndForceDown(host1);
        const requestIds = new Map<string, string | undefined>();
        for (const id of ids) {
          const r = await nova.evacuateServer(id);
          assert.deepEqual([r.serverId, r.microversion, r.landsStopped], [id, "2.93", false]);
          requestIds.set(id, r.requestId);
        }
        const moved: Server[] = [];
        for (const id of ids) moved.push(await fx.waitServer(id, (s) => s.status === "ACTIVE" && s.taskState === null && s.host !== host1));
        for (const s of moved) {
          assert.ok(s.host === host2 || s.host === host3, `${s.id} on ${String(s.host)}`);
          assert.equal(s.hypervisorHostname, s.host);
          assert.equal(s.vmState, "active");
        }
        assert.deepEqual(await nova.listServers({ host: host1 }).then((l) => l.filter((s) => ids.includes(s.id))), []);

        for (const s of moved) {
          const migrations = await evacuationsOf(s.id);
          assert.equal(migrations.length, 1, `one evacuation of ${s.id}`);
          const m = migrations[0];
          assert.ok(m);
          assert.deepEqual([m.migrationType, m.sourceCompute, m.sourceNode, m.destCompute, m.destNode, m.status], ["evacuation", host1, host1, s.host, s.host, "done"]);
          assert.match(m.uuid ?? "", UUID);
        }
        const listed = await nova.listMigrations({ migrationType: "evacuation", host: host1 });
        for (const id of ids) assert.ok(listed.some((m) => m.instanceUuid === id), `host filter lists ${id}`);

        for (const id of ids) {
          const actions = await nova.listInstanceActions(id);
          assert.equal(actions[0]?.action, "evacuate", "newest action first");
          const evac = actions.find((a) => a.action === "evacuate");
          assert.ok(evac);
          assert.equal(evac.requestId, requestIds.get(id), "the action carries the evacuate request's id");
          assert.ok((await nova.findInstanceActions(id, "evacuate", new Date(Date.now() - 120_000))).length === 1);
          await until(async () => {
            const detail = await nova.getInstanceAction(id, evac.requestId);
            assert.ok(detail.events?.some((e) => e.event === "compute_rebuild_instance" && e.result === "Success"), JSON.stringify(detail.events));
          }, 30_000);
        }

        // Nova refuses to lift forced_down while `done` evacuations of the host remain.
        const hostId = (await service(host1)).id;
        const refused = await rejectsWith(nova.forceDownService(hostId, false), NovaBadRequestError, "lift forced_down before the compute restarted");
        assert.match(refused.novaMessage, new RegExp(`^Unable to force up host ${host1} as \`done\` evacuation migration records remain associated with the host\\.`));
        assert.equal((await service(host1)).forcedDown, true);

        killed = false;
        await restore(host1);
        for (const id of ids) {
          await until(async () => assert.equal((await evacuationsOf(id))[0]?.status, "completed"), 30_000);
        }
        for (const s of moved) {
          const after = await nova.getServer(s.id);
          assert.deepEqual([after.status, after.host], ["ACTIVE", s.host], "the returning host leaves the evacuated server alone");
        }
      } finally {
        try {
          if (killed) await restore(host1);
        } finally {
          await fx.deleteServers(ids);
        }
      }
    });

    it("6. server groups: anti-affinity members on different hosts, policy (2.64) and members listed", async () => {
      const groupId = await fx.createServerGroup(name("anti"), "anti-affinity");
      const ids: string[] = [];
      try {
        for (const n of ["a", "b"]) ids.push(await fx.bootServer({ name: name(`member-${n}`), groupId }));
        const members: Server[] = [];
        for (const id of ids) members.push(await fx.waitServer(id, (s) => s.status === "ACTIVE" && s.taskState === null));
        const hosts = members.map((s) => s.host);
        assert.equal(new Set(hosts).size, 2, `members on different hosts: ${hosts.join(", ")}`);
        for (const s of members) assert.deepEqual(s.serverGroups, [groupId], "2.71 server_groups");

        const g = await nova.getServerGroup(groupId);
        assert.deepEqual([g.id, g.name, g.policy, g.rules], [groupId, name("anti"), "anti-affinity", {}]);
        assert.deepEqual([...g.members].sort(), [...ids].sort());
        const listed = (await nova.listServerGroups()).find((x) => x.id === groupId);
        assert.ok(listed, "listed with all_projects");
        assert.deepEqual([listed.policy, [...listed.members].sort()], ["anti-affinity", [...ids].sort()]);

        const bad = await fx.raw("POST", "/os-server-groups", { microversion: "2.64", body: { server_group: { name: name("bad"), policy: "affinity", rules: { max_server_per_host: 2 } } } });
        assert.equal(bad.status, 400, "rules only with anti-affinity");
      } finally {
        await fx.deleteServers(ids);
        await fx.deleteServerGroup(groupId);
      }
      assert.equal((await fx.raw("GET", `/os-server-groups/${groupId}`)).status, 404);
    });

    it("7. hypervisors with their servers, and aggregates with an availability zone", async () => {
      const [server] = await fx.bootActive([{ name: name("hv"), host: host2 }]);
      assert.ok(server);
      const az = `vmk-contract-az-${run}`;
      let aggregateId: number | undefined;
      let hostAdded = false;
      try {
        const hypervisors = await nova.listHypervisors({ withServers: true });
        for (const h of t.hosts) {
          const hv = hypervisors.find((x) => x.hypervisorHostname === h);
          assert.ok(hv, `hypervisor ${h}`);
          assert.match(hv.id, UUID);
          assert.deepEqual([hv.state, hv.status, hv.serviceHost, hv.vcpus], ["up", "enabled", h, undefined], "2.88+: no capacity fields");
          assert.ok(Array.isArray(hv.servers), "2.75+: servers always present with with_servers");
        }
        const onHost2 = hypervisors.find((x) => x.hypervisorHostname === host2)?.servers ?? [];
        // Nova lists the instance's internal name (instance_name_template), not the display name.
        const listedServer = onHost2.find((s) => s.uuid === server.id);
        assert.ok(listedServer, `${server.id} on ${host2}`);
        assert.match(listedServer.name, /^instance-[0-9a-f]{8}$/);
        assert.ok((await nova.serversOnHypervisor(host2)).some((s) => s.uuid === server.id));
        assert.ok(!(await nova.serversOnHypervisor(host3)).some((s) => s.uuid === server.id));
        assert.deepEqual(await nova.listHypervisors({ hostnamePattern: `no-such-hypervisor-${run}` }), []);

        aggregateId = await fx.createAggregate(name("agg"), az);
        await fx.aggregateHost(aggregateId, "add_host", host3);
        hostAdded = true;
        const agg = (await nova.listAggregates()).find((a) => a.name === name("agg"));
        assert.ok(agg);
        assert.deepEqual([agg.id, agg.availabilityZone, agg.hosts, agg.metadata.availability_zone], [String(aggregateId), az, [host3], az]);
        assert.match(agg.uuid ?? "", UUID);
        const zone = (await nova.listAvailabilityZones()).find((z) => z.name === az);
        assert.ok(zone, `zone ${az} listed`);
        assert.deepEqual(zone.hosts.map((h) => h.name), [host3]);
        assert.ok(zone.hosts[0]?.services["nova-compute"], "nova-compute in the zone");

        const dup = await fx.raw("POST", "/os-aggregates", { body: { aggregate: { name: name("agg"), availability_zone: az } } });
        assert.equal(dup.status, 409, "aggregate names are unique");
        const notEmpty = await fx.raw("DELETE", `/os-aggregates/${aggregateId}`);
        assert.equal(notEmpty.status, 400, "an aggregate with hosts cannot be deleted");
      } finally {
        if (aggregateId !== undefined) {
          if (hostAdded) await fx.aggregateHost(aggregateId, "remove_host", host3);
          await fx.deleteAggregate(aggregateId);
        }
        await fx.deleteServers([server.id]);
      }
      assert.ok(!(await nova.listAggregates()).some((a) => a.name === name("agg")));
    });

    // Keeps a failed check's NovaError readable in mocha's output.
    afterEach(function () {
      const err: unknown = this.currentTest?.err;
      if (isNovaError(err) && this.currentTest?.err) this.currentTest.err.message = `${err.name} (${err.code}): ${err.message}`;
    });
  });
}
