// The service answers Introspect from dbus/*.xml (src/dbus/introspection.generated.ts) while dbus-next dispatches by
// the tables of src/dbus/contract.ts: the generated file must be today's XML, and the tables must declare exactly the
// members of the XML, so what introspection promises is what a call gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATED_INTROSPECTION_PATH, introspectionSource } from '../../scripts/generate-dbus-introspection.js';
import {
  JOB_INTERFACE,
  JOB_METHODS,
  JOB_PROPERTIES,
  MANAGER_INTERFACE,
  MANAGER_METHODS,
  MANAGER_PROPERTIES,
  MANAGER_SIGNALS,
  OBJECT_MANAGER_INTERFACE,
  OBJECT_MANAGER_METHODS,
  OBJECT_MANAGER_SIGNALS,
} from '../../src/dbus/contract.js';
import { interfaceXml, introspectionDocument } from '../../src/dbus/introspection.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { parseIntrospection, parseObject, type InterfaceShape } from '../helpers/introspection.js';

const fileShape = (iface: string): InterfaceShape => parseIntrospection(readFileSync(join(PROJECT_ROOT, 'dbus', `${iface}.xml`), 'utf8'))[iface]!;

/** The members of an interface as contract.ts declares them. */
function contractShape(methods: Record<string, { in: string; out: string }>, properties: Record<string, string>, signals: Record<string, string>) {
  return {
    methods: Object.fromEntries(Object.entries(methods).map(([name, m]) => [name, { in: m.in, out: m.out }])),
    properties: Object.fromEntries(Object.entries(properties).map(([name, type]) => [name, { type, access: 'read' }])),
    signals: { ...signals },
  };
}

function signatures(shape: InterfaceShape) {
  return {
    methods: Object.fromEntries(Object.entries(shape.methods).map(([name, m]) => [name, { in: m.in, out: m.out }])),
    properties: Object.fromEntries(Object.entries(shape.properties).map(([name, p]) => [name, { type: p.type, access: p.access }])),
    signals: Object.fromEntries(Object.entries(shape.signals).map(([name, s]) => [name, s.signature])),
  };
}

test('the generated introspection module is up to date with dbus/*.xml (else run: npm run generate)', () => {
  assert.equal(readFileSync(GENERATED_INTROSPECTION_PATH, 'utf8'), introspectionSource());
});

test('contract.ts declares exactly the members, signatures and access of dbus/*.xml', () => {
  assert.deepEqual(contractShape(MANAGER_METHODS, MANAGER_PROPERTIES, MANAGER_SIGNALS), signatures(fileShape(MANAGER_INTERFACE)));
  assert.deepEqual(contractShape(JOB_METHODS, JOB_PROPERTIES, {}), signatures(fileShape(JOB_INTERFACE)));
  const objectManager = parseIntrospection(introspectionDocument([OBJECT_MANAGER_INTERFACE], []))[OBJECT_MANAGER_INTERFACE]!;
  assert.deepEqual(contractShape(OBJECT_MANAGER_METHODS, {}, OBJECT_MANAGER_SIGNALS), signatures(objectManager));
});

test('an Introspect reply holds each interface element of its file unchanged, the standard interfaces and the children', () => {
  const doc = introspectionDocument([MANAGER_INTERFACE, OBJECT_MANAGER_INTERFACE], ['job']);
  assert.match(doc, /^<!DOCTYPE node PUBLIC "-\/\/freedesktop\/\/DTD D-BUS Object Introspection 1\.0\/\/EN"\n "http:\/\/www\.freedesktop\.org\/standards\/dbus\/1\.0\/introspect\.dtd">\n<node>\n/);
  const file = readFileSync(join(PROJECT_ROOT, 'dbus', `${MANAGER_INTERFACE}.xml`), 'utf8');
  const element = /<interface [\s\S]*<\/interface>/.exec(file)![0];
  assert.equal(interfaceXml(MANAGER_INTERFACE), element);
  assert.ok(doc.includes(element));
  const parsed = parseObject(doc);
  assert.deepEqual(parsed.children, ['job']);
  assert.deepEqual(Object.keys(parsed.interfaces), ['org.freedesktop.DBus.Introspectable', 'org.freedesktop.DBus.Peer', 'org.freedesktop.DBus.Properties', MANAGER_INTERFACE, OBJECT_MANAGER_INTERFACE]);
  assert.deepEqual(parsed.interfaces[MANAGER_INTERFACE], fileShape(MANAGER_INTERFACE));
  assert.equal(parsed.interfaces[MANAGER_INTERFACE].properties.Version!.annotations['org.freedesktop.DBus.Property.EmitsChangedSignal'], 'const');
  assert.throws(() => introspectionDocument(['org.example.Unknown'], []), /no introspection XML for org\.example\.Unknown/);
});

test('the generator refuses a file whose interface is not named like the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-introspection-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'org.example.A.xml'), '<node>\n  <interface name="org.example.B">\n  </interface>\n</node>\n');
  assert.throws(() => introspectionSource(`${dir}/`), /org\.example\.A\.xml: expected exactly one <interface name="org\.example\.A">, found org\.example\.B/);
  writeFileSync(join(dir, 'org.example.A.xml'), '<node>\n  <!-- <interface name="org.example.A"></interface> -->\n  <interface name="org.example.A"><method name="M"/></interface>\n</node>\n');
  assert.match(introspectionSource(`${dir}/`), /"org\.example\.A": "<interface name=\\"org\.example\.A\\"><method name=\\"M\\"\/><\/interface>"/);
});
