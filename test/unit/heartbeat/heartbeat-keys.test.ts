import assert from "node:assert/strict";
import { Keyring, KeyFileError, parseKeyFile } from "../../../src/heartbeat/heartbeat-keys.js";

const K32 = Buffer.alloc(32, 7).toString("base64");
const K8 = Buffer.alloc(8, 7).toString("base64");

describe("heartbeat key file", () => {
  it("parses keyid:base64 lines, skipping comments and blanks; the first key signs", () => {
    const keys = parseKeyFile(`# rotated 2026-01\n\nnew:${K32}\nold:${K32}\n`);
    assert.deepEqual(keys.map((k) => k.id), ["new", "old"]);
    assert.equal(keys[0]?.secret.length, 32);
    assert.equal(new Keyring(keys).signing().id, "new");
  });

  it("refuses short keys, bad ids, duplicates, bad base64 and empty files without echoing key material", () => {
    const cases: [string, RegExp][] = [
      [`k:${K8}`, /line 1: key "k" must decode to 16/],
      [`bad id:${K32}`, /line 1: key id must match/],
      [`a:${K32}\na:${K32}`, /line 2: duplicate key id "a"/],
      ["a:not*base64!", /line 1: key "a" is not valid base64/],
      ["# only a comment\n", /no keys/],
      ["justtext", /line 1: expected keyid:base64key/],
    ];
    for (const [text, re] of cases) {
      assert.throws(() => parseKeyFile(text), (err: unknown) => err instanceof KeyFileError && re.test(err.message) && !err.message.includes(K32));
    }
  });

  it("a keyring is replaced atomically for rotation", () => {
    const ring = new Keyring(parseKeyFile(`a:${K32}`));
    assert.ok(ring.lookup("a"));
    ring.replace(parseKeyFile(`b:${K32}\na:${K32}`));
    assert.deepEqual(ring.ids(), ["b", "a"]);
    ring.replace(parseKeyFile(`b:${K32}`));
    assert.equal(ring.lookup("a"), undefined);
    assert.throws(() => ring.replace([]), KeyFileError);
  });
});
