import assert from "node:assert/strict";
import { parse } from "yaml";
import { cloudsYaml } from "../../../src/sim/clouds-yaml.js";
import { parseSimArgs } from "../../../src/sim/sim-command.js";

describe("vmkeeper sim command", () => {
  it("parses flags in both forms and refuses unknown ones", () => {
    const a = parseSimArgs(["--port", "8774", "--hosts=20", "--servers-per-host", "3", "--seed", "s", "--clouds-yaml", "c.yaml", "--max-microversion", "2.95"]);
    assert.ok(a !== "help");
    assert.equal(a.port, 8774);
    assert.equal(a.hosts, 20);
    assert.equal(a.serversPerHost, 3);
    assert.equal(a.maxMicroversion, "2.95");
    assert.equal(parseSimArgs(["--help"]), "help");
    assert.throws(() => parseSimArgs(["--nope", "1"]), /unknown flag/);
    assert.throws(() => parseSimArgs(["--max-microversion", "2.97"]), /2\.96/);
  });

  it("writes a clouds.yaml with auth_url, region and credentials", () => {
    const doc = parse(cloudsYaml({ cloudName: "sim", authUrl: "http://127.0.0.1:1/v3", region: "RegionOne", auth: { kind: "password", username: "admin", password: "p", projectName: "admin" } })) as {
      clouds: { sim: { auth: { auth_url: string; username: string }; region_name: string } };
    };
    assert.equal(doc.clouds.sim.auth.auth_url, "http://127.0.0.1:1/v3");
    assert.equal(doc.clouds.sim.region_name, "RegionOne");
  });
});
