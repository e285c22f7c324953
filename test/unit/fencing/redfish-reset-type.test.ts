import assert from "node:assert/strict";
import { chooseResetType } from "../../../src/fencing/devices/redfish-reset-type.js";

describe("chooseResetType", () => {
  it("uses ForceOff and On when the BMC lists no allowable values", () => {
    assert.equal(chooseResetType("Off", undefined), "ForceOff");
    assert.equal(chooseResetType("On", undefined), "On");
  });

  it("powers off with ForceOff only: no graceful or cycling fallback", () => {
    assert.equal(chooseResetType("Off", ["On", "ForceOff", "GracefulShutdown"]), "ForceOff");
    assert.equal(chooseResetType("Off", ["On", "GracefulShutdown", "PushPowerButton", "PowerCycle", "ForceRestart", "Nmi"]), undefined);
    assert.equal(chooseResetType("Off", []), undefined);
  });

  it("powers on with On, else ForceOn, else PushPowerButton", () => {
    assert.equal(chooseResetType("On", ["ForceOff", "ForceOn", "On"]), "On");
    assert.equal(chooseResetType("On", ["ForceOff", "PushPowerButton", "ForceOn"]), "ForceOn");
    assert.equal(chooseResetType("On", ["ForceOff", "PushPowerButton"]), "PushPowerButton");
    assert.equal(chooseResetType("On", ["ForceOff", "GracefulRestart"]), undefined);
  });
});
