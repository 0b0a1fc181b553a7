// A small reader for D-Bus introspection XML (the subset the spec defines): interfaces with their methods (arguments
// with names, types and directions), properties (type, access), signals, and the annotations of each, so a live
// object can be compared to dbus/*.xml. A tiny element parser, not regular expressions over the text: attribute
// values (the docs) may hold any character.

export interface ArgShape {
  name: string;
  type: string;
  direction: string;
}

export interface InterfaceShape {
  annotations: Record<string, string>;
  methods: Record<string, { in: string; out: string; args: ArgShape[]; annotations: Record<string, string> }>;
  properties: Record<string, { type: string; access: string; annotations: Record<string, string> }>;
  signals: Record<string, { signature: string; args: ArgShape[]; annotations: Record<string, string> }>;
}

export interface ObjectShape {
  interfaces: Record<string, InterfaceShape>;
  /** Names of the child <node> elements. */
  children: string[];
}

interface XmlElement {
  tag: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);/g, (_, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : ENTITIES[e]!,
  );
}

/** The root element of an XML document (comments, the prolog and text dropped). Throws on malformed input. */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { tag: '#document', attrs: {}, children: [] };
  const stack = [root];
  const token = /<!--[\s\S]*?-->|<![^>]*>|<\?[\s\S]*?\?>|<\/([\w.:-]+)\s*>|<([\w.:-]+)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|[^<]+/gy;
  for (let pos = 0; pos < xml.length; ) {
    token.lastIndex = pos;
    const m = token.exec(xml);
    if (!m) throw new Error(`malformed XML at offset ${pos}: ${JSON.stringify(xml.slice(pos, pos + 40))}`);
    pos = token.lastIndex;
    const [, closing, opening, attrText, selfClosing] = m;
    if (closing !== undefined) {
      const open = stack.pop();
      if (open?.tag !== closing) throw new Error(`</${closing}> closes <${open?.tag}>`);
    } else if (opening !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of (attrText ?? '').matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]!] = decode(a[2] ?? a[3] ?? '');
      const element: XmlElement = { tag: opening, attrs, children: [] };
      stack.at(-1)!.children.push(element);
      if (selfClosing !== '/') stack.push(element);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack.at(-1)!.tag}>`);
  const element = root.children[0];
  if (root.children.length !== 1 || !element) throw new Error('expected one root element');
  return element;
}

function annotationsOf(element: XmlElement): Record<string, string> {
  return Object.fromEntries(element.children.filter((c) => c.tag === 'annotation').map((c) => [c.attrs.name!, c.attrs.value ?? '']));
}

function argsOf(element: XmlElement, defaultDirection: string): ArgShape[] {
  return element.children.filter((c) => c.tag === 'arg').map((c) => ({ name: c.attrs.name ?? '', type: c.attrs.type ?? '', direction: c.attrs.direction ?? defaultDirection }));
}

function interfaceShape(element: XmlElement): InterfaceShape {
  const shape: InterfaceShape = { annotations: annotationsOf(element), methods: {}, properties: {}, signals: {} };
  for (const c of element.children) {
    const name = c.attrs.name!;
    if (c.tag === 'method') {
      const args = argsOf(c, 'in');
      const sig = (direction: string) => args.filter((a) => a.direction === direction).map((a) => a.type).join('');
      shape.methods[name] = { in: sig('in'), out: sig('out'), args, annotations: annotationsOf(c) };
    } else if (c.tag === 'property') {
      shape.properties[name] = { type: c.attrs.type ?? '', access: c.attrs.access ?? '', annotations: annotationsOf(c) };
    } else if (c.tag === 'signal') {
      const args = argsOf(c, 'out');
      shape.signals[name] = { signature: args.map((a) => a.type).join(''), args, annotations: annotationsOf(c) };
    }
  }
  return shape;
}

/** One object's introspection: its interfaces by name and its child nodes. */
export function parseObject(xml: string): ObjectShape {
  const node = parseXml(xml);
  if (node.tag !== 'node') throw new Error(`expected <node>, got <${node.tag}>`);
  const interfaces: Record<string, InterfaceShape> = {};
  for (const c of node.children) if (c.tag === 'interface') interfaces[c.attrs.name!] = interfaceShape(c);
  return { interfaces, children: node.children.filter((c) => c.tag === 'node').map((c) => c.attrs.name ?? '') };
}

/** The interfaces of an introspection document (an interface file or a live reply), by name. */
export function parseIntrospection(xml: string): Record<string, InterfaceShape> {
  return parseObject(xml).interfaces;
}
