import assert from "node:assert/strict";
import type { FenceAgentTarget } from "../../../src/fencing/device-targets.js";
import { FenceDeviceError } from "../../../src/fencing/fence-device.js";
import { checkFenceAgentTarget, renderFenceAgentInput, stdinValue } from "../../../src/fencing/devices/fence-agent-input.js";
import { agentStatusFromExit, agentSucceeded, classifyAgentFailure } from "../../../src/fencing/devices/fence-agent-result.js";
import { conciseOutput, scrubSecret } from "../../../src/fencing/devices/fence-agent-scrub.js";

const PASSWORD = "s3cr3t-pw";

function target(over: Partial<FenceAgentTarget> = {}): FenceAgentTarget {
  return {
    kind: "FenceAgent",
    agent: "fence_ipmilan",
    options: [{ name: "ip", value: "10.0.0.5" }, { name: "lanplus" }, { name: "privlvl", value: "operator" }],
    credentials: { username: "fencer", password: PASSWORD },
    ...over,
  };
}

function isConfig(e: unknown): boolean {
  return e instanceof FenceDeviceError && e.reason === "Config" && !e.message.includes(PASSWORD);
}

describe("fence agent: standard input", () => {
  it("writes the action, the options, then username and password as name=value lines", () => {
    assert.equal(renderFenceAgentInput(target(), "status"), `action=status\nip=10.0.0.5\nlanplus=1\nprivlvl=operator\nusername=fencer\npassword=${PASSWORD}\n`);
    assert.equal(renderFenceAgentInput(target({ credentials: undefined, options: [] }), "off"), "action=off\n");
  });

  it("quotes only values fence-agents would otherwise strip or unquote", () => {
    assert.equal(stdinValue("plain"), "plain");
    assert.equal(stdinValue("with inner space"), "with inner space");
    assert.equal(stdinValue(" edge"), '" edge"');
    assert.equal(stdinValue("edge\t"), '"edge\t"');
    assert.equal(stdinValue('"quoted"'), '""quoted""');
    assert.equal(stdinValue('say "hi'), 'say "hi');
    assert.equal(stdinValue('"'), '"');
    assert.equal(stdinValue(""), "");
  });

  it("refuses the action and password options, in both spellings", () => {
    for (const name of ["action", "option", "password", "passwd", "password_script", "password-script", "passwd-script"]) {
      assert.throws(() => checkFenceAgentTarget(target({ options: [{ name, value: "x" }] })), isConfig, name);
    }
  });

  it("refuses username/login in the options only when the Secret sets it", () => {
    for (const name of ["username", "login"]) {
      assert.throws(() => checkFenceAgentTarget(target({ options: [{ name, value: "root" }] })), isConfig, name);
      assert.doesNotThrow(() => checkFenceAgentTarget(target({ credentials: undefined, options: [{ name, value: "root" }] })));
    }
  });

  it("refuses values with line breaks or shell metacharacters, and bad names", () => {
    for (const value of ["10.0.0.5; reboot", "a\nb", "a\rb", "$(id)", "`id`", "a|b", "a&b", "a>b", "a<b", "a\\b", "a\0b"]) {
      assert.throws(() => checkFenceAgentTarget(target({ options: [{ name: "ip", value }] })), isConfig, JSON.stringify(value));
    }
    for (const name of ["IP", "1ip", "ip addr", "", "ip=x"]) assert.throws(() => checkFenceAgentTarget(target({ options: [{ name, value: "x" }] })), isConfig, name);
    for (const agent of ["/usr/sbin/fence_ipmilan", "fence_../x", "ipmitool", "fence_"]) assert.throws(() => checkFenceAgentTarget(target({ agent })), isConfig, agent);
  });

  it("refuses credentials an agent cannot read line by line, without echoing them", () => {
    assert.throws(() => checkFenceAgentTarget(target({ credentials: { username: "a", password: `${PASSWORD}\naction=on` } })), isConfig);
    assert.throws(() => checkFenceAgentTarget(target({ credentials: { username: "a\nb", password: PASSWORD } })), isConfig);
  });
});

describe("fence agent: results", () => {
  it("maps status exit codes 0 / 2 / other to On / Off / failure", () => {
    assert.equal(agentStatusFromExit(0), "On");
    assert.equal(agentStatusFromExit(2), "Off");
    assert.equal(agentStatusFromExit(1), undefined);
    assert.equal(agentStatusFromExit(null), undefined);
    assert.ok(agentSucceeded("status", 2));
    assert.ok(agentSucceeded("off", 0));
    assert.ok(!agentSucceeded("off", 2));
  });

  it("classifies fencing.py's failure messages", () => {
    const cases: [string, string][] = [
      ["2026-11-22 07:44:32,719 ERROR: Connection timed out\n", "Unreachable"],
      ["2026-11-22 07:44:32,719 ERROR: Unable to connect/login to fencing device\n", "AuthFailed"],
      ["ERROR: Failed: The user does not have the correct privileges to do the requested action.\n", "AuthFailed"],
      ["ERROR: Failed: Timed out waiting to power OFF\n", "PowerStillOn"],
      ["ERROR: Failed: Timed out waiting to power ON\n", "Protocol"],
      ["ERROR: Failed: You have to set login password\n", "Config"],
      ["ERROR: Failed: Unable to obtain correct plug status or plug is not available\n", "Protocol"],
      ["something nobody expected\n", "Protocol"],
      ["WARNING: Parse error: Ignoring unknown option 'bogus=1'\nERROR: Failed: Unable to obtain correct plug status or plug is not available\n", "Protocol"],
      ["ERROR: Parse error: option -o not recognized\n", "Config"],
    ];
    for (const [stderr, reason] of cases) assert.equal(classifyAgentFailure(stderr, "", PASSWORD).reason, reason, stderr);
  });

  it("keeps the ERROR lines without timestamps or Python warnings, and scrubs the password", () => {
    const stderr = [
      "/usr/sbin/fence_ipmilan:5: DeprecationWarning: 'pipes' is deprecated and slated for removal in Python 3.13",
      "  from pipes import quote",
      `2026-11-22 07:45:29,077 DEBUG: sent password=${PASSWORD}`,
      `2026-11-22 07:45:43,148 ERROR: Failed: Unable to obtain correct plug status or plug is not available (${PASSWORD})`,
    ].join("\n");
    const f = classifyAgentFailure(stderr, "", PASSWORD);
    assert.equal(f.detail, "Failed: Unable to obtain correct plug status or plug is not available (***)");
  });

  it("leads with the line that decided the reason when it is not an ERROR line (fence_ipmilan, verbose_level=2)", () => {
    const stderr = [
      "2026-11-22 07:59:23,168 INFO: Executing: /usr/bin/ipmitool -I lanplus -H 127.0.0.1 -U admin -P [set] -C 3 chassis power status -v",
      "2026-11-22 07:59:23,213 DEBUG: 1  Loading IANA PEN Registry...",
      "> RAKP 2 HMAC is invalid",
      "Error: Unable to establish IPMI v2 / RMCP+ session",
      "2026-11-22 07:59:23,213 ERROR: Failed: Unable to obtain correct plug status or plug is not available",
    ].join("\n");
    const f = classifyAgentFailure(stderr, "", PASSWORD);
    assert.equal(f.reason, "AuthFailed");
    assert.equal(f.detail, "RAKP 2 HMAC is invalid; Failed: Unable to obtain correct plug status or plug is not available");
  });
});

describe("fence agent: scrubbing", () => {
  it("masks every occurrence of the secret", () => {
    assert.equal(scrubSecret(`a ${PASSWORD} b${PASSWORD}`, PASSWORD), "a *** b***");
    assert.equal(scrubSecret("nothing", undefined), "nothing");
    assert.equal(scrubSecret("nothing", ""), "nothing");
  });

  it("masks very short secrets only where they stand alone", () => {
    assert.equal(scrubSecret("pw is ab, not abc", "ab"), "pw is ***, not abc");
    assert.equal(scrubSecret("x.y x", "x"), "***.y ***");
  });

  it("does not leave a part of the secret when cutting", () => {
    const long = `${"x".repeat(290)} ${PASSWORD}`;
    const out = conciseOutput(long, PASSWORD, { maxChars: 295 });
    assert.ok(!out.includes("s3cr"));
    assert.ok(out.length <= 295);
  });
});
