import assert from "node:assert/strict";
import { parseCloudsYaml } from "../../../src/openstack/clouds-config.js";
import { KeystoneSession } from "../../../src/openstack/keystone-session.js";
import { NodeHttpTransport } from "../../../src/openstack/node-http-transport.js";
import { NovaClient } from "../../../src/openstack/nova-client.js";
import { cloudsYaml } from "../../../src/sim/clouds-yaml.js";
import { createSimCloud } from "../../../src/sim/sim-cloud.js";
import { SimServer } from "../../../src/sim/sim-server.js";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { silentLogger } from "../../../src/util/logger.js";

/**
 * Nova's power-state sync (`_sync_instance_power_state`, periodic or on a libvirt lifecycle
 * event) stops an instance whose guest powered off by calling the compute API with
 * `get_admin_context()`: the `stop` instance action has user_id and project_id null. That is
 * how a stop nobody asked for is told from a user's stop; the simulator must do the same.
 */
describe("sim: instance actions of Nova's power-state sync and of seeded servers", () => {
  it("records the sync's stop without a user (null through the API), each with its own request id; a user's stop carries the user", async () => {
    const clock = new FakeClock();
    const sim = createSimCloud(clock, { nova: { powerSyncIntervalMs: 1000, powerActionDurationMs: 100 } });
    sim.nova.addHosts([{ name: "c1" }]);
    const [a, b] = sim.nova.addServers([
      { name: "a", host: "c1" },
      { name: "b", host: "c1" },
    ]);
    assert.ok(a && b);
    const server = new SimServer(sim, { host: "127.0.0.1", port: 0 });
    await server.start();
    try {
      const yaml = cloudsYaml({ cloudName: "s", authUrl: server.authUrl, region: sim.keystone.region, auth: { kind: "password", username: "admin", password: "admin-secret", projectName: "admin" } });
      const session = new KeystoneSession({ cloud: parseCloudsYaml(yaml, { cloudName: "s", env: {} }), transport: new NodeHttpTransport({}), clock, logger: silentLogger() });
      const nova = new NovaClient({ session, clock, logger: silentLogger() });
      sim.nova.setPowerState(a.id, "crashed");
      sim.nova.setPowerState(b.id, "shutdown");
      await clock.advance(1001);
      await nova.stopServer((await nova.listServers({})).find((s) => s.name === "a")?.id ?? "", {}).catch(() => undefined);
      const [ofA, ofB] = await Promise.all([nova.listInstanceActions(a.id), nova.listInstanceActions(b.id)]);
      assert.equal((await nova.getServer(a.id)).status, "SHUTOFF");
      const syncA = ofA.find((x) => x.action === "stop");
      const syncB = ofB.find((x) => x.action === "stop");
      assert.equal(syncA?.userId, null);
      assert.equal(syncA?.projectId, null);
      assert.equal(syncB?.userId, null);
      assert.notEqual(syncA?.requestId, syncB?.requestId);
      assert.deepEqual(ofA.map((x) => x.action), ["stop", "create"], "a stop of a stopped server is refused (409) and not recorded");

      await nova.startServer(a.id);
      await clock.advance(200);
      await nova.stopServer(a.id);
      await clock.advance(200);
      const userStop = (await nova.listInstanceActions(a.id))[0];
      assert.equal(userStop?.action, "stop");
      assert.equal(userStop?.userId, session.tokenInfo()?.userId);
    } finally {
      await server.stop();
    }
  });

  it("gives seeded servers the history a real Nova would hold: a stopped one its owner's stop, one in error a failed build", () => {
    const sim = createSimCloud(new FakeClock());
    sim.nova.addHosts([{ name: "c1" }]);
    const [stopped, failed] = sim.nova.addServers([
      { name: "s", host: "c1", vmState: "stopped" },
      { name: "e", host: "c1", vmState: "error" },
    ]);
    assert.ok(stopped && failed);
    const admin = { userId: "x", projectId: "y", isAdmin: true, requestId: "req-t" };
    const hs = sim.nova.listInstanceActions(admin, stopped.id);
    assert.deepEqual(hs.map((x) => [x.action, x.userId]), [["stop", stopped.userId], ["create", stopped.userId]]);
    const he = sim.nova.listInstanceActions(admin, failed.id);
    assert.deepEqual(he.map((x) => [x.action, x.message]), [["create", "Error"]]);
  });
});
