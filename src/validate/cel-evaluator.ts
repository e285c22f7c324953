import type { CelBinaryOp, CelNode } from "./cel-parser.js";

/**
 * Evaluator for the CEL subset parsed by cel-parser.ts, over JSON values as the API server
 * sees them (after defaulting). Integers are JS numbers (our schemas bound them well inside
 * 2^53); there are no doubles. Errors follow CEL: a missing field or a type mismatch is an
 * evaluation error, absorbed by && and || when the other side decides the result.
 */

/** A CEL type value, the result of type(x) and of the identifiers int, string, ... */
export class CelType {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
}

export type CelValue = number | string | boolean | null | CelValue[] | CelMap | CelType;
export interface CelMap {
  [key: string]: CelValue;
}

export class CelEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CelEvalError";
  }
}

const TYPE_NAMES = ["int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type"] as const;
const TYPES: ReadonlyMap<string, CelType> = new Map(TYPE_NAMES.map((n) => [n, new CelType(n)]));

function typeOf(v: CelValue): CelType {
  const name = v === null ? "null_type" : Array.isArray(v) ? "list" : v instanceof CelType ? "type" : typeof v === "number" ? "int" : typeof v === "string" ? "string" : typeof v === "boolean" ? "bool" : "map";
  return TYPES.get(name) ?? new CelType(name);
}

function isMap(v: CelValue): v is CelMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof CelType);
}

function describe(v: CelValue): string {
  return typeOf(v).name;
}

export function celEquals(a: CelValue, b: CelValue): boolean {
  if (a instanceof CelType || b instanceof CelType) return a instanceof CelType && b instanceof CelType && a.name === b.name;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => celEquals(x, b[i] as CelValue));
  }
  if (isMap(a) || isMap(b)) {
    if (!isMap(a) || !isMap(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && celEquals(a[k] as CelValue, b[k] as CelValue));
  }
  return a === b;
}

export type CelVariables = Readonly<Record<string, CelValue>>;

/** Evaluates a parsed expression with the given variables (self, and oldSelf for transition rules). */
export function evaluateCel(node: CelNode, vars: CelVariables): CelValue {
  return new Evaluator().eval(node, vars);
}

class Evaluator {
  private readonly regexCache = new Map<string, RegExp>();

  eval(node: CelNode, vars: CelVariables): CelValue {
    switch (node.type) {
      case "literal":
        return node.value;
      case "list":
        return node.items.map((i) => this.eval(i, vars));
      case "ident":
        return this.ident(node.name, vars);
      case "select":
        return this.select(this.eval(node.target, vars), node.field);
      case "has": {
        const target = this.eval(node.target, vars);
        if (!isMap(target)) throw new CelEvalError(`has() on a ${describe(target)}`);
        return Object.prototype.hasOwnProperty.call(target, node.field) && target[node.field] !== null;
      }
      case "index":
        return this.index(this.eval(node.target, vars), this.eval(node.index, vars));
      case "call":
        return this.call(node.fn, node.target === undefined ? undefined : this.eval(node.target, vars), node.args.map((a) => this.eval(a, vars)));
      case "macro":
        return this.macro(node, vars);
      case "unary":
        return this.unary(node.op, this.eval(node.operand, vars));
      case "binary":
        return this.binary(node.op, node.left, node.right, vars);
      case "ternary": {
        const cond = this.eval(node.cond, vars);
        if (typeof cond !== "boolean") throw new CelEvalError(`ternary condition is a ${describe(cond)}, not a bool`);
        return this.eval(cond ? node.then : node.otherwise, vars);
      }
    }
  }

  private ident(name: string, vars: CelVariables): CelValue {
    if (Object.prototype.hasOwnProperty.call(vars, name)) return vars[name] as CelValue;
    const type = TYPES.get(name);
    if (type) return type;
    throw new CelEvalError(`undeclared reference to '${name}'`);
  }

  private select(target: CelValue, field: string): CelValue {
    if (!isMap(target)) throw new CelEvalError(`cannot select field '${field}' from a ${describe(target)}`);
    const v = target[field];
    if (v === undefined || !Object.prototype.hasOwnProperty.call(target, field)) throw new CelEvalError(`no such key: ${field}`);
    return v;
  }

  private index(target: CelValue, index: CelValue): CelValue {
    if (Array.isArray(target)) {
      if (typeof index !== "number") throw new CelEvalError("list index must be an int");
      const v = target[index];
      if (v === undefined) throw new CelEvalError(`index out of range: ${index}`);
      return v;
    }
    if (isMap(target) && typeof index === "string") return this.select(target, index);
    throw new CelEvalError(`cannot index a ${describe(target)}`);
  }

  private unary(op: "!" | "-", v: CelValue): CelValue {
    if (op === "!") {
      if (typeof v !== "boolean") throw new CelEvalError(`no such overload: !${describe(v)}`);
      return !v;
    }
    if (typeof v !== "number") throw new CelEvalError(`no such overload: -${describe(v)}`);
    return -v;
  }

  private binary(op: CelBinaryOp, leftNode: CelNode, rightNode: CelNode, vars: CelVariables): CelValue {
    if (op === "&&" || op === "||") return this.logical(op, leftNode, rightNode, vars);
    const l = this.eval(leftNode, vars);
    const r = this.eval(rightNode, vars);
    switch (op) {
      case "==":
        return celEquals(l, r);
      case "!=":
        return !celEquals(l, r);
      case "in":
        if (Array.isArray(r)) return r.some((x) => celEquals(x, l));
        if (isMap(r) && typeof l === "string") return Object.prototype.hasOwnProperty.call(r, l);
        throw new CelEvalError(`no such overload: ${describe(l)} in ${describe(r)}`);
      case "<":
      case "<=":
      case ">":
      case ">=":
        return compare(op, l, r);
      default:
        return arithmetic(op, l, r);
    }
  }

  // CEL's && and || are commutative with respect to errors: an error on one side is absorbed
  // when the other side alone decides the result.
  private logical(op: "&&" | "||", leftNode: CelNode, rightNode: CelNode, vars: CelVariables): CelValue {
    const decisive = op === "||";
    let leftError: CelEvalError | undefined;
    try {
      const l = this.eval(leftNode, vars);
      if (typeof l !== "boolean") throw new CelEvalError(`no such overload: ${describe(l)} ${op} ...`);
      if (l === decisive) return decisive;
    } catch (err: unknown) {
      if (!(err instanceof CelEvalError)) throw err;
      leftError = err;
    }
    const r = this.eval(rightNode, vars);
    if (typeof r !== "boolean") throw new CelEvalError(`no such overload: ... ${op} ${describe(r)}`);
    if (r === decisive) return decisive;
    if (leftError !== undefined) throw leftError;
    return !decisive;
  }

  private macro(node: Extract<CelNode, { type: "macro" }>, vars: CelVariables): CelValue {
    const target = this.eval(node.target, vars);
    const items: CelValue[] = Array.isArray(target) ? target : isMap(target) ? Object.keys(target) : [];
    if (!Array.isArray(target) && !isMap(target)) throw new CelEvalError(`${node.macro}() on a ${describe(target)}`);
    const run = (item: CelValue): CelValue => this.eval(node.body, { ...vars, [node.variable]: item });
    const predicate = (item: CelValue): boolean => {
      const v = run(item);
      if (typeof v !== "boolean") throw new CelEvalError(`${node.macro}() predicate returned a ${describe(v)}`);
      return v;
    };
    switch (node.macro) {
      case "all":
        return items.every(predicate);
      case "exists":
        return items.some(predicate);
      case "exists_one":
        return items.filter(predicate).length === 1;
      case "filter":
        return items.filter(predicate);
      case "map":
        return items.map(run);
    }
  }

  private call(fn: string, target: CelValue | undefined, args: CelValue[]): CelValue {
    const [a0, a1] = args;
    if (target === undefined) return this.globalCall(fn, args);
    switch (fn) {
      case "size":
        if (args.length === 0) return size(target);
        break;
      case "startsWith":
      case "endsWith":
      case "contains":
      case "matches":
        if (typeof target === "string" && typeof a0 === "string" && args.length === 1) return this.stringTest(fn, target, a0);
        break;
      case "substring":
        if (typeof target === "string" && typeof a0 === "number" && (a1 === undefined || typeof a1 === "number")) return substring(target, a0, a1);
        break;
    }
    throw new CelEvalError(`no such overload: ${describe(target)}.${fn}(${args.map(describe).join(", ")})`);
  }

  private globalCall(fn: string, args: CelValue[]): CelValue {
    const [a0] = args;
    if (args.length !== 1 || a0 === undefined) throw new CelEvalError(`no such overload: ${fn} with ${args.length} arguments`);
    switch (fn) {
      case "size":
        return size(a0);
      case "type":
        return typeOf(a0);
      case "string":
        if (typeof a0 === "string" || typeof a0 === "number" || typeof a0 === "boolean") return String(a0);
        break;
      case "int":
        if (typeof a0 === "number") return Math.trunc(a0);
        if (typeof a0 === "string" && /^-?[0-9]+$/.test(a0)) return Number(a0);
        throw new CelEvalError(`cannot convert ${JSON.stringify(a0)} to int`);
      case "matches":
        break;
    }
    throw new CelEvalError(`no such overload: ${fn}(${describe(a0)})`);
  }

  private stringTest(fn: "startsWith" | "endsWith" | "contains" | "matches", s: string, arg: string): boolean {
    if (fn === "startsWith") return s.startsWith(arg);
    if (fn === "endsWith") return s.endsWith(arg);
    if (fn === "contains") return s.includes(arg);
    let re = this.regexCache.get(arg);
    if (!re) {
      // CEL uses RE2; the patterns in our rules use the syntax RE2 and JavaScript share.
      re = new RegExp(arg, "u");
      this.regexCache.set(arg, re);
    }
    return re.test(s);
  }
}

function size(v: CelValue): number {
  // CEL's size() of a string counts code points, not UTF-16 units.
  if (typeof v === "string") return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  throw new CelEvalError(`no such overload: size(${describe(v)})`);
}

function substring(s: string, start: number, end?: number): string {
  const cps = [...s];
  const stop = end ?? cps.length;
  if (start < 0 || start > cps.length || stop < start || stop > cps.length) throw new CelEvalError(`substring index out of range: ${start}..${stop} of ${cps.length}`);
  return cps.slice(start, stop).join("");
}

function compare(op: "<" | "<=" | ">" | ">=", l: CelValue, r: CelValue): boolean {
  const comparable = (typeof l === "number" && typeof r === "number") || (typeof l === "string" && typeof r === "string") || (typeof l === "boolean" && typeof r === "boolean");
  if (!comparable) throw new CelEvalError(`no such overload: ${describe(l)} ${op} ${describe(r)}`);
  switch (op) {
    case "<":
      return l < r;
    case "<=":
      return l <= r;
    case ">":
      return l > r;
    case ">=":
      return l >= r;
  }
}

function arithmetic(op: CelBinaryOp, l: CelValue, r: CelValue): CelValue {
  if (op === "+" && typeof l === "string" && typeof r === "string") return l + r;
  if (op === "+" && Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
  if (typeof l !== "number" || typeof r !== "number") throw new CelEvalError(`no such overload: ${describe(l)} ${op} ${describe(r)}`);
  switch (op) {
    case "+":
      return l + r;
    case "-":
      return l - r;
    case "*":
      return l * r;
    case "/":
    case "%":
      if (r === 0) throw new CelEvalError(op === "/" ? "division by zero" : "modulus by zero");
      return op === "/" ? Math.trunc(l / r) : l % r;
    default:
      throw new CelEvalError(`unsupported operator ${op}`);
  }
}
