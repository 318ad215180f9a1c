// A small, strict XML reader and writer for SOAP. The reader builds an element tree, keeps namespace
// prefixes and attributes as written (so `xsi:type="ManagedObjectReference"` keeps its meaning), expands only
// the five predefined entities and character references, and refuses DOCTYPEs and entity declarations, so a
// hostile response cannot expand or reach outside. Size and depth are bounded.

export interface XMLElement {
  /** Qualified name as written, e.g. `soapenv:Body` or `returnval`. */
  name: string;
  /** Local name, without the prefix. */
  local: string;
  attrs: Record<string, string>;
  children: XMLElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

export class XMLError extends Error {
  constructor(message: string, offset: number) {
    super(`malformed XML at offset ${offset}: ${message}`);
    this.name = 'XMLError';
  }
}

export interface ParseLimits {
  maxBytes: number;
  maxDepth: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxBytes: 256 * 1024 * 1024, maxDepth: 256 };

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string, offset: number): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]{1,10});/g, (_, ent: string) => {
    if (ent[0] === '#') {
      const code = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      if (!Number.isFinite(code) || code < 0 || code > 0x10ffff)
        throw new XMLError(`bad character reference &${ent};`, offset);
      return String.fromCodePoint(code);
    }
    const v = ENTITIES[ent];
    if (v === undefined) throw new XMLError(`unknown entity &${ent};`, offset);
    return v;
  });
}

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** Parses a whole document; returns its root element. */
export function parseXML(input: string, limits: ParseLimits = DEFAULT_LIMITS): XMLElement {
  if (input.length > limits.maxBytes) throw new XMLError(`document larger than ${limits.maxBytes} bytes`, 0);
  const stack: XMLElement[] = [];
  let root: XMLElement | undefined;
  let i = 0;
  const n = input.length;
  while (i < n) {
    const lt = input.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = input.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.text += decodeEntities(raw, i);
      else if (raw.trim() !== '') throw new XMLError('text outside the root element', i);
    }
    if (lt < 0) break;
    i = lt;
    const next = input[i + 1];
    if (next === '?') {
      const end = input.indexOf('?>', i + 2);
      if (end < 0) throw new XMLError('unterminated processing instruction', i);
      i = end + 2;
    } else if (next === '!') {
      if (input.startsWith('<!--', i)) {
        const end = input.indexOf('-->', i + 4);
        if (end < 0) throw new XMLError('unterminated comment', i);
        i = end + 3;
      } else if (input.startsWith('<![CDATA[', i)) {
        const end = input.indexOf(']]>', i + 9);
        if (end < 0) throw new XMLError('unterminated CDATA section', i);
        const top = stack[stack.length - 1];
        if (!top) throw new XMLError('CDATA outside the root element', i);
        top.text += input.slice(i + 9, end);
        i = end + 3;
      } else {
        throw new XMLError('DOCTYPE and entity declarations are not accepted', i);
      }
    } else if (next === '/') {
      const end = input.indexOf('>', i + 2);
      if (end < 0) throw new XMLError('unterminated end tag', i);
      const name = input.slice(i + 2, end).trim();
      const top = stack.pop();
      if (!top || top.name !== name) throw new XMLError(`end tag </${name}> does not match <${top?.name ?? ''}>`, i);
      i = end + 1;
    } else {
      i = readStartTag(input, i, stack, limits, (el) => {
        if (root) throw new XMLError('more than one root element', i);
        root = el;
      });
    }
  }
  if (stack.length > 0) throw new XMLError(`unclosed element <${stack[stack.length - 1]?.name}>`, n);
  if (!root) throw new XMLError('no root element', 0);
  return root;
}

function readStartTag(
  input: string,
  start: number,
  stack: XMLElement[],
  limits: ParseLimits,
  setRoot: (el: XMLElement) => void,
): number {
  let i = start + 1;
  const n = input.length;
  while (i < n) {
    const code = input.charCodeAt(i);
    if (isSpace(code) || code === 47 /* / */ || code === 62 /* > */) break;
    i++;
  }
  if (i >= n) throw new XMLError('unterminated start tag', start);
  const name = input.slice(start + 1, i);
  if (!name) throw new XMLError('empty element name', start);
  const el: XMLElement = { name, local: localName(name), attrs: {}, children: [], text: '' };
  for (;;) {
    while (i < n && isSpace(input.charCodeAt(i))) i++;
    const c = input[i];
    if (c === undefined) throw new XMLError('unterminated start tag', start);
    if (c === '>' || (c === '/' && input[i + 1] === '>')) {
      const selfClosing = c === '/';
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else setRoot(el);
      if (!selfClosing) {
        if (stack.length >= limits.maxDepth) throw new XMLError(`nesting deeper than ${limits.maxDepth}`, start);
        stack.push(el);
      }
      return i + (selfClosing ? 2 : 1);
    }
    const eq = input.indexOf('=', i);
    if (eq < 0) throw new XMLError('attribute without a value', i);
    const attr = input.slice(i, eq).trim();
    const quote = input[eq + 1];
    if (quote !== '"' && quote !== "'") throw new XMLError('unquoted attribute value', eq);
    const close = input.indexOf(quote, eq + 2);
    if (close < 0) throw new XMLError('unterminated attribute value', eq);
    el.attrs[attr] = decodeEntities(input.slice(eq + 2, close), eq);
    i = close + 1;
  }
}

const ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for element content or a quoted attribute value. */
export function escapeXML(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ESCAPES[c] ?? c);
}

/** The first child with this local name. */
export function child(el: XMLElement, local: string): XMLElement | undefined {
  return el.children.find((c) => c.local === local);
}
