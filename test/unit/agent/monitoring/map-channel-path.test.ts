import assert from "node:assert/strict";
import { parseAgentConfig } from "../../../../src/agent/agent-config.js";
import { mapChannelPath } from "../../../../src/agent/monitoring/start-host-monitoring.js";

describe("mapChannelPath (--channel-path-map)", () => {
  const map = { from: "/var/lib/libvirt", to: "/host/var/lib/libvirt/" };
  it("moves paths under FROM to TO and keeps the others", () => {
    assert.equal(mapChannelPath("/var/lib/libvirt/qemu/channel/target/domain-1-a/org.vmkeeper.heartbeat.0", map), "/host/var/lib/libvirt/qemu/channel/target/domain-1-a/org.vmkeeper.heartbeat.0");
    assert.equal(mapChannelPath("/var/lib/libvirtX/s.sock", map), "/var/lib/libvirtX/s.sock", "a prefix of a name is not a directory");
    assert.equal(mapChannelPath("/run/vmkeeper/a.sock", map), "/run/vmkeeper/a.sock");
    assert.equal(mapChannelPath("/run/vmkeeper/a.sock", undefined), "/run/vmkeeper/a.sock");
  });

  it("is parsed as two absolute paths, with a clear error otherwise", () => {
    const base = ["--cloud=c", "--host=h", "--operator-targets=127.0.0.1:1", "--key-file=/k", "--report-endpoints=https://op:8443/v1/reports", "--report-token-file=/t"];
    const ok = parseAgentConfig([...base, "--channel-path-map=/var/lib/libvirt=/host/var/lib/libvirt"], {});
    assert.notEqual(ok, "help");
    assert.deepEqual(ok === "help" ? undefined : ok.reports?.channelPathMap, { from: "/var/lib/libvirt", to: "/host/var/lib/libvirt" });
    assert.throws(() => parseAgentConfig([...base, "--channel-path-map=var=/x"], {}), /--channel-path-map: "var=\/x" must be FROM=TO, two absolute paths/);
  });
});
