// A small reader for D-Bus introspection XML (the subset the spec defines): interfaces with their methods
// (in/out signatures), properties (type, access) and signals, so a live object can be compared to dbus/*.xml.

export interface InterfaceShape {
  methods: Record<string, { in: string; out: string; argNames: string[] }>;
  properties: Record<string, { type: string; access: string }>;
  signals: Record<string, { signature: string; argNames: string[] }>;
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
}

function args(body: string): { direction: string | undefined; type: string; name: string | undefined }[] {
  return [...body.matchAll(/<arg\b[^>]*>/g)].map((m) => ({ direction: attr(m[0], 'direction'), type: attr(m[0], 'type') ?? '', name: attr(m[0], 'name') }));
}

export function parseIntrospection(xml: string): Record<string, InterfaceShape> {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '');
  const out: Record<string, InterfaceShape> = {};
  for (const m of text.matchAll(/<interface\b([^>]*)>([\s\S]*?)<\/interface>/g)) {
    const name = attr(m[1]!, 'name')!;
    const body = m[2]!;
    const shape: InterfaceShape = { methods: {}, properties: {}, signals: {} };
    for (const mm of body.matchAll(/<method\b([^>]*?)(?:\/>|>([\s\S]*?)<\/method>)/g)) {
      const a = args(mm[2] ?? '');
      shape.methods[attr(mm[1]!, 'name')!] = {
        in: a.filter((x) => x.direction !== 'out').map((x) => x.type).join(''),
        out: a.filter((x) => x.direction === 'out').map((x) => x.type).join(''),
        argNames: a.map((x) => x.name ?? ''),
      };
    }
    for (const pm of body.matchAll(/<property\b([^>]*?)\/?>/g)) {
      shape.properties[attr(pm[1]!, 'name')!] = { type: attr(pm[1]!, 'type')!, access: attr(pm[1]!, 'access')! };
    }
    for (const sm of body.matchAll(/<signal\b([^>]*?)(?:\/>|>([\s\S]*?)<\/signal>)/g)) {
      const a = args(sm[2] ?? '');
      shape.signals[attr(sm[1]!, 'name')!] = { signature: a.map((x) => x.type).join(''), argNames: a.map((x) => x.name ?? '') };
    }
    out[name] = shape;
  }
  return out;
}

/** The same shape without argument names (live introspection from dbus-next has none). */
export function withoutArgNames(shape: InterfaceShape): unknown {
  const sorted = <T>(entries: [string, T][]): Record<string, T> => Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
  return {
    methods: sorted(Object.entries(shape.methods).map(([k, v]) => [k, { in: v.in, out: v.out }])),
    properties: sorted(Object.entries(shape.properties)),
    signals: sorted(Object.entries(shape.signals).map(([k, v]) => [k, v.signature])),
  };
}
