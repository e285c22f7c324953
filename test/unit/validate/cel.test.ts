import assert from "node:assert/strict";
import { CelEvalError, evaluateCel, type CelValue } from "../../../src/validate/cel-evaluator.js";
import { CelParseError, parseCel, usesOldSelf } from "../../../src/validate/cel-parser.js";

const run = (expr: string, self: unknown, oldSelf?: unknown): CelValue =>
  evaluateCel(parseCel(expr), oldSelf === undefined ? { self: self as CelValue } : { self: self as CelValue, oldSelf: oldSelf as CelValue });

describe("CEL subset", () => {
  it("evaluates literals, arithmetic and precedence", () => {
    assert.equal(run("1 + 2 * 3 == 7", null), true);
    assert.equal(run("(1 + 2) * 3", null), 9);
    assert.equal(run("7 / 2", null), 3);
    assert.equal(run("7 % 4", null), 3);
    assert.equal(run("-3 < 0", null), true);
    assert.equal(run("'a' + \"b\"", null), "ab");
    assert.equal(run("!true || false", null), false);
    assert.deepEqual(run("[1, 2] + [3]", null), [1, 2, 3]);
  });

  it("selects fields and tests presence with has()", () => {
    const self = { a: { b: 2 }, list: [1] };
    assert.equal(run("self.a.b", self), 2);
    assert.equal(run("has(self.a)", self), true);
    assert.equal(run("has(self.missing)", self), false);
    assert.equal(run("has(self.a.b) && self.a.b > 1", self), true);
    assert.throws(() => run("self.missing == 1", self), CelEvalError);
  });

  it("absorbs errors in && and || when the other side decides", () => {
    assert.equal(run("self.missing == 1 || true", {}), true);
    assert.equal(run("false && self.missing == 1", {}), false);
    assert.equal(run("self.missing == 1 && false", {}), false);
    assert.throws(() => run("self.missing == 1 || false", {}), CelEvalError);
  });

  it("supports ternary, in, size and string functions", () => {
    assert.equal(run("self.k == 'A' ? 1 : 2", { k: "B" }), 2);
    assert.equal(run("'x' in ['x', 'y']", null), true);
    assert.equal(run("'z' in self", { z: 1 }), true);
    assert.equal(run("size(self) == 3 && self.size() == 3", "héé"), true);
    assert.equal(run("self.startsWith('ab') && self.endsWith('yz') && self.contains('m')", "abmyz"), true);
    assert.equal(run("self.matches('^[a-z]+%$')", "abc%"), true);
    assert.equal(run("self.substring(4) == '12'", "host12"), true);
    assert.equal(run("self.substring(1, 3)", "abcd"), "bc");
    assert.equal(run("string(12) == '12' && int('7') == 7", null), true);
  });

  it("supports type() for int-or-string values", () => {
    const rule = "type(self) == int ? self >= 0 : self.matches('^(100|[1-9]?[0-9])%$')";
    assert.equal(run(rule, 3), true);
    assert.equal(run(rule, -1), false);
    assert.equal(run(rule, "33%"), true);
    assert.equal(run(rule, "150%"), false);
  });

  it("supports all, exists, exists_one, filter and map", () => {
    const tiers = [{ p: 1 }, { p: 2 }, { p: 2 }];
    assert.equal(run("self.all(t, self.exists_one(u, u.p == t.p))", tiers), false);
    assert.equal(run("self.all(t, self.exists_one(u, u.p == t.p))", tiers.slice(0, 2)), true);
    assert.equal(run("self.exists(t, t.p == 1)", tiers), true);
    assert.deepEqual(run("self.filter(t, t.p == 2).map(t, t.p)", tiers), [2, 2]);
  });

  it("compares lists and maps deeply (used by self == oldSelf)", () => {
    assert.equal(run("self == oldSelf", { a: [1, { b: "c" }] }, { a: [1, { b: "c" }] }), true);
    assert.equal(run("self == oldSelf", { a: [1] }, { a: [2] }), false);
    assert.equal(usesOldSelf(parseCel("self == oldSelf")), true);
    assert.equal(usesOldSelf(parseCel("self.a == 1")), false);
  });

  it("rejects expressions outside the subset loudly", () => {
    for (const bad of ["1.5 > 1", "self.a ==", "has(self)", "self.all(x)", "'\\q'", "self.x @ 2", "{'a': 1}"]) {
      assert.throws(() => parseCel(bad), CelParseError, bad);
    }
    assert.throws(() => run("unknownFn(1)", null), CelEvalError);
    assert.throws(() => run("1 + 'a'", null), CelEvalError);
  });
});
