/**
 * Parser for the subset of CEL (Common Expression Language) that vmkeeper's CRD validation
 * rules use. It is not a general CEL implementation: it covers literals (int, string, bool,
 * null, lists), identifiers, field selection, indexing, calls and methods, the unary, binary
 * and ternary operators, and the has()/all()/exists()/exists_one()/filter()/map() macros.
 * Anything else is a parse error, so a rule outside the subset fails loudly instead of
 * passing offline validation by accident.
 */

export type CelNode =
  | { type: "literal"; value: CelLiteral }
  | { type: "list"; items: CelNode[] }
  | { type: "ident"; name: string }
  | { type: "select"; target: CelNode; field: string }
  | { type: "index"; target: CelNode; index: CelNode }
  | { type: "call"; fn: string; target?: CelNode; args: CelNode[] }
  | { type: "has"; target: CelNode; field: string }
  | { type: "macro"; macro: CelMacro; target: CelNode; variable: string; body: CelNode }
  | { type: "unary"; op: "!" | "-"; operand: CelNode }
  | { type: "binary"; op: CelBinaryOp; left: CelNode; right: CelNode }
  | { type: "ternary"; cond: CelNode; then: CelNode; otherwise: CelNode };

export type CelLiteral = number | string | boolean | null;
export type CelMacro = "all" | "exists" | "exists_one" | "filter" | "map";
export type CelBinaryOp = "||" | "&&" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "+" | "-" | "*" | "/" | "%";

const MACROS: ReadonlySet<string> = new Set(["all", "exists", "exists_one", "filter", "map"]);

/** Thrown for any expression outside the supported subset or with a syntax error. */
export class CelParseError extends Error {
  constructor(message: string, readonly expression: string, readonly position: number) {
    super(`${message} at position ${position} in CEL expression: ${expression}`);
    this.name = "CelParseError";
  }
}

interface Token {
  kind: "int" | "string" | "ident" | "op" | "eof";
  text: string;
  value?: number | string;
  pos: number;
}

const OPERATORS = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",", "(", ")", "[", "]"];
const ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?" };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c)) {
      while (i < src.length && /[0-9]/.test(src.charAt(i))) i++;
      if (src.charAt(i) === "." || src.charAt(i) === "e" || src.charAt(i) === "u") throw new CelParseError("only int literals are supported", src, i);
      tokens.push({ kind: "int", text: src.slice(start, i), value: Number(src.slice(start, i)), pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src.charAt(i))) i++;
      const word = src.slice(start, i);
      const next = src.charAt(i);
      if ((word === "r" || word === "R") && (next === "'" || next === '"')) {
        const { value, end } = readString(src, i, true);
        tokens.push({ kind: "string", text: src.slice(start, end), value, pos: start });
        i = end;
        continue;
      }
      tokens.push({ kind: "ident", text: word, pos: start });
      continue;
    }
    if (c === "'" || c === '"') {
      const { value, end } = readString(src, i, false);
      tokens.push({ kind: "string", text: src.slice(start, end), value, pos: start });
      i = end;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new CelParseError(`unexpected character ${JSON.stringify(c)}`, src, i);
    tokens.push({ kind: "op", text: op, pos: start });
    i += op.length;
  }
  tokens.push({ kind: "eof", text: "", pos: src.length });
  return tokens;
}

function readString(src: string, quotePos: number, raw: boolean): { value: string; end: number } {
  const quote = src.charAt(quotePos);
  if (src.startsWith(quote.repeat(3), quotePos)) throw new CelParseError("triple-quoted strings are not supported", src, quotePos);
  let i = quotePos + 1;
  let value = "";
  while (i < src.length && src.charAt(i) !== quote) {
    const c = src.charAt(i);
    if (c === "\\" && !raw) {
      const esc = ESCAPES[src.charAt(i + 1)];
      if (esc === undefined) throw new CelParseError(`unsupported escape \\${src.charAt(i + 1)}`, src, i);
      value += esc;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  if (i >= src.length) throw new CelParseError("unterminated string", src, quotePos);
  return { value, end: i + 1 };
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[], private readonly src: string) {}

  private peek(): Token {
    return this.tokens[this.pos] ?? { kind: "eof", text: "", pos: this.src.length };
  }

  private next(): Token {
    const t = this.peek();
    this.pos++;
    return t;
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === "op" && t.text === text;
  }

  private expectOp(text: string): void {
    const t = this.next();
    if (t.kind !== "op" || t.text !== text) throw new CelParseError(`expected '${text}' but found '${t.text || "end"}'`, this.src, t.pos);
  }

  private fail(message: string, t: Token = this.peek()): never {
    throw new CelParseError(message, this.src, t.pos);
  }

  parseAll(): CelNode {
    const node = this.expr();
    if (this.peek().kind !== "eof") this.fail(`unexpected '${this.peek().text}'`);
    return node;
  }

  private expr(): CelNode {
    const cond = this.or();
    if (!this.isOp("?")) return cond;
    this.next();
    const then = this.or();
    this.expectOp(":");
    const otherwise = this.expr();
    return { type: "ternary", cond, then, otherwise };
  }

  private or(): CelNode {
    let left = this.and();
    while (this.isOp("||")) {
      this.next();
      left = { type: "binary", op: "||", left, right: this.and() };
    }
    return left;
  }

  private and(): CelNode {
    let left = this.relation();
    while (this.isOp("&&")) {
      this.next();
      left = { type: "binary", op: "&&", left, right: this.relation() };
    }
    return left;
  }

  private relation(): CelNode {
    let left = this.addition();
    for (;;) {
      const t = this.peek();
      const isRel = (t.kind === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.text)) || (t.kind === "ident" && t.text === "in");
      if (!isRel) return left;
      this.next();
      left = { type: "binary", op: t.text as CelBinaryOp, left, right: this.addition() };
    }
  }

  private addition(): CelNode {
    let left = this.multiplication();
    while (this.isOp("+") || this.isOp("-")) {
      const op = this.next().text as CelBinaryOp;
      left = { type: "binary", op, left, right: this.multiplication() };
    }
    return left;
  }

  private multiplication(): CelNode {
    let left = this.unary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("%")) {
      const op = this.next().text as CelBinaryOp;
      left = { type: "binary", op, left, right: this.unary() };
    }
    return left;
  }

  private unary(): CelNode {
    if (this.isOp("!") || this.isOp("-")) {
      const op = this.next().text as "!" | "-";
      return { type: "unary", op, operand: this.unary() };
    }
    return this.member();
  }

  private member(): CelNode {
    let node = this.primary();
    for (;;) {
      if (this.isOp(".")) {
        this.next();
        const name = this.next();
        if (name.kind !== "ident") this.fail("expected a field or method name", name);
        node = this.isOp("(") ? this.method(node, name) : { type: "select", target: node, field: name.text };
      } else if (this.isOp("[")) {
        this.next();
        const index = this.expr();
        this.expectOp("]");
        node = { type: "index", target: node, index };
      } else {
        return node;
      }
    }
  }

  private method(target: CelNode, name: Token): CelNode {
    const args = this.args();
    if (!MACROS.has(name.text)) return { type: "call", fn: name.text, target, args };
    const [variable, body] = args;
    if (args.length !== 2 || variable?.type !== "ident" || body === undefined) this.fail(`macro ${name.text} needs (variable, expression)`, name);
    return { type: "macro", macro: name.text as CelMacro, target, variable: variable.name, body };
  }

  private args(): CelNode[] {
    this.expectOp("(");
    const args: CelNode[] = [];
    if (!this.isOp(")")) {
      args.push(this.expr());
      while (this.isOp(",")) {
        this.next();
        args.push(this.expr());
      }
    }
    this.expectOp(")");
    return args;
  }

  private primary(): CelNode {
    const t = this.next();
    if (t.kind === "int") return { type: "literal", value: t.value as number };
    if (t.kind === "string") return { type: "literal", value: t.value as string };
    if (t.kind === "op" && t.text === "(") {
      const inner = this.expr();
      this.expectOp(")");
      return inner;
    }
    if (t.kind === "op" && t.text === "[") return this.listLiteral();
    if (t.kind !== "ident") this.fail(`unexpected '${t.text || "end"}'`, t);
    if (t.text === "true" || t.text === "false") return { type: "literal", value: t.text === "true" };
    if (t.text === "null") return { type: "literal", value: null };
    if (!this.isOp("(")) return { type: "ident", name: t.text };
    if (t.text === "has") return this.hasMacro(t);
    return { type: "call", fn: t.text, args: this.args() };
  }

  private hasMacro(t: Token): CelNode {
    const args = this.args();
    const arg = args[0];
    if (args.length !== 1 || arg?.type !== "select") this.fail("has() needs a single field selection such as has(self.field)", t);
    return { type: "has", target: arg.target, field: arg.field };
  }

  private listLiteral(): CelNode {
    const items: CelNode[] = [];
    if (!this.isOp("]")) {
      items.push(this.expr());
      while (this.isOp(",")) {
        this.next();
        if (this.isOp("]")) break;
        items.push(this.expr());
      }
    }
    this.expectOp("]");
    return { type: "list", items };
  }
}

/** Parses one CEL expression of the supported subset; throws CelParseError otherwise. */
export function parseCel(expression: string): CelNode {
  return new Parser(tokenize(expression), expression).parseAll();
}

/** Whether the expression refers to oldSelf, i.e. is a transition rule. */
export function usesOldSelf(node: CelNode): boolean {
  switch (node.type) {
    case "ident":
      return node.name === "oldSelf";
    case "literal":
      return false;
    case "list":
      return node.items.some(usesOldSelf);
    case "select":
    case "has":
      return usesOldSelf(node.target);
    case "index":
      return usesOldSelf(node.target) || usesOldSelf(node.index);
    case "call":
      return (node.target !== undefined && usesOldSelf(node.target)) || node.args.some(usesOldSelf);
    case "macro":
      return usesOldSelf(node.target) || usesOldSelf(node.body);
    case "unary":
      return usesOldSelf(node.operand);
    case "binary":
      return usesOldSelf(node.left) || usesOldSelf(node.right);
    case "ternary":
      return usesOldSelf(node.cond) || usesOldSelf(node.then) || usesOldSelf(node.otherwise);
  }
}
