/**
 * Shell-style glob match of a whole name (fnmatch without path rules): `*` any run of
 * characters, `?` one character, `[abc]` / `[a-z]` a set, `[!abc]` or `[^abc]` its
 * complement, `\x` a literal x. Case-sensitive, like Nova names. An unterminated `[` is a
 * literal bracket, as in the shell.
 */
export function globMatch(glob: string, name: string): boolean {
  return globToRegExp(glob).test(name);
}

const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  const hit = cache.get(glob);
  if (hit) return hit;
  let src = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === "*") src += "[\\s\\S]*";
    else if (c === "?") src += "[\\s\\S]";
    else if (c === "\\" && i + 1 < glob.length) src += escapeRegExp(glob.charAt(++i));
    else if (c === "[") {
      const set = readSet(glob, i);
      if (set) {
        src += set.regexp;
        i = set.end;
      } else src += "\\[";
    } else src += escapeRegExp(c);
  }
  const re = new RegExp(`^${src}$`, "u");
  if (cache.size > 1000) cache.clear();
  cache.set(glob, re);
  return re;
}

/** A bracket expression starting at `start` ("["), or undefined when it is not closed. */
function readSet(glob: string, start: number): { regexp: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (glob.charAt(i) === "!" || glob.charAt(i) === "^") {
    negate = true;
    i++;
  }
  let body = "";
  // A "]" right after the opening bracket is a member, not the end.
  for (let first = true; i < glob.length; i++, first = false) {
    const c = glob.charAt(i);
    if (c === "]" && !first) return { regexp: `[${negate ? "^" : ""}${body}]`, end: i };
    if (c === "\\" && i + 1 < glob.length) body += escapeSetChar(glob.charAt(++i));
    else if (c === "-" && body !== "" && glob.charAt(i + 1) !== "]" && i + 1 < glob.length) body += "-";
    else body += escapeSetChar(c);
  }
  return undefined;
}

function escapeRegExp(c: string): string {
  // Only syntax characters may be escaped in a "u" pattern.
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function escapeSetChar(c: string): string {
  return c.replace(/[\]\\^[-]/g, "\\$&");
}
