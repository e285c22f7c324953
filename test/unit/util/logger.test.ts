import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { createLogger } from "../../../src/util/logger.js";

describe("logger", () => {
  it("writes JSON lines and never a secret, however deep it is passed", async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on("data", (d: Buffer) => lines.push(d.toString()));
    const log = createLogger({ level: "info", destination: out });
    log.info({ password: "hunter2", auth: { password: "p2", token: "t1" }, req: { headers: { authorization: "Bearer abc", "x-auth-token": "gAAAA" } }, hmacKey: "k" }, "connecting");
    await new Promise((r) => setImmediate(r));
    const text = lines.join("");
    for (const secret of ["hunter2", "p2", "t1", "Bearer abc", "gAAAA"]) assert.ok(!text.includes(secret), `leaked ${secret}: ${text}`);
    const parsed = JSON.parse(text.trim()) as { level: string; msg: string; app: string };
    assert.equal(parsed.level, "info");
    assert.equal(parsed.msg, "connecting");
    assert.equal(parsed.app, "vmkeeper");
  });
});
