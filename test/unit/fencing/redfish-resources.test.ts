import assert from "node:assert/strict";
import { FenceDeviceError } from "../../../src/fencing/fence-device.js";
import {
  mapPowerState,
  parseActionInfoResetTypes,
  parseCollectionMembers,
  parseComputerSystem,
  parseJsonBody,
  parseServiceRoot,
  redfishPath,
} from "../../../src/fencing/devices/redfish-resources.js";

const reason = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e: unknown) {
    if (e instanceof FenceDeviceError) return e.reason;
    throw e;
  }
  throw new Error("did not throw");
};

describe("Redfish resources", () => {
  it("maps PowerState: only Off is Off; transitions and Paused are On; the rest Unknown", () => {
    assert.equal(mapPowerState("Off"), "Off");
    for (const on of ["On", "PoweringOn", "PoweringOff", "Paused"]) assert.equal(mapPowerState(on), "On", on);
    for (const other of [undefined, null, "", "off", 1]) assert.equal(mapPowerState(other), "Unknown", String(other));
  });

  it("reduces every URI from the BMC to its path and query", () => {
    assert.equal(redfishPath("/redfish/v1/Systems/1", "x"), "/redfish/v1/Systems/1");
    assert.equal(redfishPath("https://other.example:8443/redfish/v1/Systems/1?a=1", "x"), "/redfish/v1/Systems/1?a=1");
    assert.equal(redfishPath("https://user:pw@other.example/p", "x"), "/p");
  });

  it("reads the service root: Systems, Links.Sessions, SessionService", () => {
    assert.deepEqual(parseServiceRoot({ Systems: { "@odata.id": "/redfish/v1/Systems" } }), { systems: "/redfish/v1/Systems", sessionService: false });
    assert.deepEqual(
      parseServiceRoot({ Systems: { "@odata.id": "/redfish/v1/Systems/" }, SessionService: { "@odata.id": "/redfish/v1/SessionService" }, Links: { Sessions: { "@odata.id": "/redfish/v1/SessionService/Sessions" } } }),
      { systems: "/redfish/v1/Systems/", sessions: "/redfish/v1/SessionService/Sessions", sessionService: true },
    );
    assert.equal(reason(() => parseServiceRoot({})), "Config");
    assert.equal(reason(() => parseServiceRoot({ Systems: "x" })), "Protocol");
  });

  it("lists collection members, and refuses a collection without Members", () => {
    assert.deepEqual(parseCollectionMembers({ Members: [{ "@odata.id": "/redfish/v1/Systems/a" }, { "@odata.id": "/redfish/v1/Systems/b" }] }, "Systems"), ["/redfish/v1/Systems/a", "/redfish/v1/Systems/b"]);
    assert.deepEqual(parseCollectionMembers({ Members: [] }, "Systems"), []);
    assert.equal(reason(() => parseCollectionMembers({}, "Systems")), "Protocol");
    assert.equal(reason(() => parseCollectionMembers({ Members: [{}] }, "Systems")), "Protocol");
  });

  it("reads a ComputerSystem: power, Reset target, inline allowable values, ActionInfo", () => {
    const view = parseComputerSystem({
      PowerState: "PoweringOff",
      Actions: {
        "#ComputerSystem.Reset": {
          target: "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
          "ResetType@Redfish.AllowableValues": ["On", "ForceOff", 7],
          "@Redfish.ActionInfo": "/redfish/v1/Systems/1/ResetActionInfo",
        },
      },
    });
    assert.deepEqual(view, {
      powerState: "On",
      rawPowerState: "PoweringOff",
      reset: { target: "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", allowableValues: ["On", "ForceOff"], actionInfo: "/redfish/v1/Systems/1/ResetActionInfo" },
    });
    assert.deepEqual(parseComputerSystem({}), { powerState: "Unknown" });
    assert.deepEqual(parseComputerSystem({ PowerState: "Off", Actions: { "#ComputerSystem.Reset": {} } }), { powerState: "Off", rawPowerState: "Off" });
  });

  it("reads ResetType values from ActionInfo", () => {
    assert.deepEqual(parseActionInfoResetTypes({ Parameters: [{ Name: "Other" }, { Name: "ResetType", AllowableValues: ["On", "ForceOff"] }] }), ["On", "ForceOff"]);
    assert.equal(parseActionInfoResetTypes({ Parameters: [{ Name: "ResetType" }] }), undefined);
    assert.equal(parseActionInfoResetTypes({}), undefined);
  });

  it("parses JSON objects only", () => {
    assert.deepEqual(parseJsonBody('{"a":1}', "GET /"), { a: 1 });
    assert.equal(reason(() => parseJsonBody("[1]", "GET /")), "Protocol");
    assert.equal(reason(() => parseJsonBody("<html>", "GET /")), "Protocol");
  });
});
