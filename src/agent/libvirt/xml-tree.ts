/**
 * A small, strict XML reader for libvirt's domain XML: elements, attributes, text, comments,
 * CDATA, processing instructions and the predefined and numeric entities. No DTDs. Anything
 * it does not understand is an error (XmlError), never a guess.
 */

export interface XmlElement {
  /** Qualified name as written (`nova:instance`). */
  name: string;
  /** Local part of the name (`instance`). */
  localName: string;
  /** Namespace URI resolved from the xmlns declarations in scope ("" when none). */
  namespace: string;
  attributes: ReadonlyMap<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

export class XmlError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = "XmlError";
  }
}

const NAME = /[A-Za-z_][\w.:-]*/y;
const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Decodes the predefined and numeric character references of `raw`. */
export function decodeEntities(raw: string, offset = 0): string {
  return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string, at: number) => {
    if (!whole.endsWith(";")) throw new XmlError("unterminated entity reference", offset + at);
    const named = ENTITIES[ref];
    if (named !== undefined) return named;
    const num = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
    if (!num) throw new XmlError(`unknown entity &${ref};`, offset + at);
    const code = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2] ?? "", 10);
    if (code > 0x10ffff) throw new XmlError(`invalid character reference &${ref};`, offset + at);
    return String.fromCodePoint(code);
  });
}

interface Frame {
  element: XmlElement;
  namespaces: Map<string, string>;
}

/** Parses one XML document and returns its root element. */
export function parseXml(xml: string): XmlElement {
  const reader = new Reader(xml);
  return reader.document();
}

class Reader {
  private pos = 0;
  private readonly stack: Frame[] = [];
  private root: XmlElement | undefined;

  constructor(private readonly src: string) {}

  document(): XmlElement {
    while (this.pos < this.src.length) {
      const lt = this.src.indexOf("<", this.pos);
      const end = lt < 0 ? this.src.length : lt;
      this.text(this.src.slice(this.pos, end), this.pos);
      this.pos = end;
      if (lt >= 0) this.markup();
    }
    if (this.stack.length > 0) throw new XmlError(`unclosed element <${this.stack[this.stack.length - 1]?.element.name ?? ""}>`, this.pos);
    if (!this.root) throw new XmlError("no root element", this.pos);
    return this.root;
  }

  private text(raw: string, at: number): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      if (raw.trim() !== "") throw new XmlError("text outside the root element", at);
      return;
    }
    top.element.text += decodeEntities(raw, at);
  }

  private markup(): void {
    if (this.src.startsWith("<!--", this.pos)) return this.skipPast("-->", "comment");
    if (this.src.startsWith("<?", this.pos)) return this.skipPast("?>", "processing instruction");
    if (this.src.startsWith("<![CDATA[", this.pos)) return this.cdata();
    if (this.src.startsWith("<!", this.pos)) throw new XmlError("DTDs and declarations are not supported", this.pos);
    if (this.src.startsWith("</", this.pos)) return this.closeTag();
    this.openTag();
  }

  private skipPast(terminator: string, what: string): void {
    const end = this.src.indexOf(terminator, this.pos);
    if (end < 0) throw new XmlError(`unterminated ${what}`, this.pos);
    this.pos = end + terminator.length;
  }

  private cdata(): void {
    const start = this.pos + "<![CDATA[".length;
    const end = this.src.indexOf("]]>", start);
    if (end < 0) throw new XmlError("unterminated CDATA section", this.pos);
    const top = this.stack[this.stack.length - 1];
    if (!top) throw new XmlError("CDATA outside the root element", this.pos);
    top.element.text += this.src.slice(start, end);
    this.pos = end + 3;
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.src);
    if (!m) throw new XmlError("expected a name", this.pos);
    this.pos += m[0].length;
    return m[0];
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (/\s/.test(this.src.charAt(this.pos))) this.pos++;
    return this.pos > start;
  }

  private closeTag(): void {
    const at = this.pos;
    this.pos += 2;
    const name = this.name();
    this.skipSpace();
    if (this.src.charAt(this.pos) !== ">") throw new XmlError(`malformed end tag </${name}`, at);
    this.pos++;
    const top = this.stack.pop();
    if (!top || top.element.name !== name) throw new XmlError(`end tag </${name}> does not match <${top?.element.name ?? "(none)"}>`, at);
  }

  private attributes(): Map<string, string> {
    const attrs = new Map<string, string>();
    for (;;) {
      const spaced = this.skipSpace();
      const c = this.src.charAt(this.pos);
      if (c === ">" || c === "/" || c === "") return attrs;
      if (!spaced) throw new XmlError("expected whitespace before an attribute", this.pos);
      const at = this.pos;
      const key = this.name();
      this.skipSpace();
      if (this.src.charAt(this.pos) !== "=") throw new XmlError(`attribute ${key} has no value`, at);
      this.pos++;
      this.skipSpace();
      const quote = this.src.charAt(this.pos);
      if (quote !== '"' && quote !== "'") throw new XmlError(`attribute ${key} value is not quoted`, this.pos);
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end < 0) throw new XmlError(`unterminated value of attribute ${key}`, this.pos);
      const raw = this.src.slice(this.pos + 1, end);
      if (raw.includes("<")) throw new XmlError(`'<' in value of attribute ${key}`, this.pos);
      if (attrs.has(key)) throw new XmlError(`duplicate attribute ${key}`, at);
      attrs.set(key, decodeEntities(raw, this.pos + 1));
      this.pos = end + 1;
    }
  }

  private openTag(): void {
    const at = this.pos;
    this.pos++;
    const name = this.name();
    const attributes = this.attributes();
    let selfClosing = false;
    if (this.src.startsWith("/>", this.pos)) {
      selfClosing = true;
      this.pos += 2;
    } else if (this.src.charAt(this.pos) === ">") {
      this.pos++;
    } else {
      throw new XmlError(`unterminated start tag <${name}`, at);
    }
    const parent = this.stack[this.stack.length - 1];
    const namespaces = new Map(parent?.namespaces ?? []);
    for (const [key, value] of attributes) {
      if (key === "xmlns") namespaces.set("", value);
      else if (key.startsWith("xmlns:")) namespaces.set(key.slice(6), value);
    }
    const colon = name.indexOf(":");
    const prefix = colon < 0 ? "" : name.slice(0, colon);
    const namespace = namespaces.get(prefix);
    if (namespace === undefined && prefix !== "") throw new XmlError(`undeclared namespace prefix ${prefix}`, at);
    const element: XmlElement = { name, localName: colon < 0 ? name : name.slice(colon + 1), namespace: namespace ?? "", attributes, children: [], text: "" };
    if (parent) parent.element.children.push(element);
    else if (this.root) throw new XmlError("more than one root element", at);
    else this.root = element;
    if (!selfClosing) this.stack.push({ element, namespaces });
  }
}

/** Direct children of `el` with local name `localName` (in namespace `ns`, when given). */
export function childrenNamed(el: XmlElement, localName: string, ns?: (uri: string) => boolean): XmlElement[] {
  return el.children.filter((c) => c.localName === localName && (ns === undefined ? c.namespace === "" : ns(c.namespace)));
}

/** The first direct child named `localName`, if any. */
export function childNamed(el: XmlElement, localName: string, ns?: (uri: string) => boolean): XmlElement | undefined {
  return childrenNamed(el, localName, ns)[0];
}
