// Hostile input: 200+ malformed calls (wrong signatures, wrong variant types, unknown keys, huge strings, 5000 job
// names, odd names, unknown paths) through busctl processes and raw messages. Each gets the right error name,
// nothing reaches the service, and Status still answers correctly. The fake ControlApi stands in for the service.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as dbus from 'dbus-next';
import { BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { jobObjectPath } from '../../src/dbus/contract.js';
import { startDbusServer, type DbusServer } from '../../src/dbus/server.js';
import type { LogMeta, Logger } from '../../src/ports.js';
import { startPrivateBus, type PrivateBus } from '../helpers/dbus-daemon.js';
import { createFakeControl, type FakeControl } from '../helpers/fake-control.js';
import { run } from '../helpers/procs.js';
import { IN_CI, findProgram } from '../helpers/tools.js';

const missing = ['dbus-daemon', 'busctl'].filter((p) => !findProgram(p));
if (missing.length > 0 && IN_CI) throw new Error(`CI=true and ${missing.join(', ')} missing`);
const skip = missing.length > 0 ? `${missing.join(', ')} not installed` : false;

const INVALID = 'org.freedesktop.DBus.Error.InvalidArgs';
const UNKNOWN_METHOD = 'org.freedesktop.DBus.Error.UnknownMethod';
const UNKNOWN_OBJECT = 'org.freedesktop.DBus.Error.UnknownObject';
const P = OBJECT_PATH;
const M = MANAGER_INTERFACE;
const V = (sig: string, value: unknown) => new dbus.Variant(sig, value);

let bus: PrivateBus;
let fake: FakeControl;
let server: DbusServer;
let raw: dbus.MessageBus;
const errors: string[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error: (message: string, meta?: LogMeta) => void errors.push(`${message} ${JSON.stringify(meta)}`),
  child: () => logger,
};

before(async () => {
  if (skip) return;
  bus = await startPrivateBus();
  fake = createFakeControl({ jobs: ['photos', 'docs'] });
  server = await startDbusServer(fake, { busAddress: bus.address, logger });
  raw = dbus.sessionBus({ busAddress: bus.address });
});
after(async () => {
  raw?.disconnect();
  await server?.close();
  await bus?.stop();
});

/** Send one raw call; resolves with the error name, or 'ok'. */
async function rawCall(path: string, iface: string | undefined, member: string, signature: string, body: unknown[]): Promise<string> {
  try {
    await raw.call(new dbus.Message({ destination: BUS_NAME, path, ...(iface ? { interface: iface } : {}), member, signature, body }));
    return 'ok';
  } catch (e: unknown) {
    if (e instanceof dbus.DBusError) return e.type;
    throw e;
  }
}

const names = (n: number, make = (i: number) => `job${i}`) => Array.from({ length: n }, (_, i) => make(i));
const ODD_NAMES = ['', ' ', 'a b', '../etc', '/abs', '-flag', '.hidden', '_under', 'ümlaut', '日本', 'tab\tname', 'new\nline', 'semi;colon', '$(rm)', 'a'.repeat(65), 'x'.repeat(100_000), '\u202e', 'emoji😀', 'nul-ish\u0001', 'quote"'];

test('200+ malformed calls get the right error names and leave the service answering Status', { skip }, async () => {
  const cases: { what: string; expect: string; call: () => Promise<string> }[] = [];
  const add = (what: string, expect: string, path: string, iface: string | undefined, member: string, signature: string, body: unknown[]) =>
    cases.push({ what, expect, call: () => rawCall(path, iface, member, signature, body) });

  // Wrong signatures for every method (InvalidArgs naming the expected signature).
  const wrongBodies: [string, unknown[]][] = [['', []], ['s', ['x']], ['u', [1]], ['as', [['photos']]], ['a{sv}', [{}]], ['ss', ['a', 'b']], ['v', [V('s', 'x')]], ['t', [5n]]];
  const methods: Record<string, string> = { Sync: 'asa{sv}', Status: '', ListJobs: '', Reload: '', AddJob: 'sa{sv}', RemoveJob: 's', Pause: 'as', Resume: 'as', Cancel: 'as', History: 'su', PendingDeletes: 's' };
  for (const [member, right] of Object.entries(methods)) {
    for (const [sig, body] of wrongBodies) if (sig !== right) add(`${member}(${sig})`, INVALID, P, M, member, sig, body);
  }
  for (const [sig, body] of wrongBodies) if (sig !== 'a{sv}') add(`Job.Sync(${sig})`, INVALID, jobObjectPath('photos'), JOB_INTERFACE, 'Sync', sig, body);

  // Wrong variant types and unknown keys in options and definitions.
  const badOptions: Record<string, dbus.Variant>[] = [
    { dry_run: V('s', 'true') }, { dry_run: V('u', 1) }, { resync: V('as', ['x']) }, { force: V('a{sv}', {}) }, { force: V('v', V('b', true)) },
    { dryRun: V('b', true) }, { DRY_RUN: V('b', true) }, { '': V('b', true) }, { ['k'.repeat(10_000)]: V('b', true) }, { 'ü': V('b', true) },
    Object.fromEntries(names(3000, (i) => `key${i}`).map((k) => [k, V('b', true)])),
    // A key named __proto__ would replace the received dict's prototype.
    Object.defineProperty({}, '__proto__', { value: V('b', true), enumerable: true }) as Record<string, dbus.Variant>,
  ];
  for (const options of badOptions) {
    add(`Sync options ${Object.keys(options)[0]?.slice(0, 20)}`, INVALID, P, M, 'Sync', 'asa{sv}', [['photos'], options]);
    add(`Job.Sync options ${Object.keys(options)[0]?.slice(0, 20)}`, INVALID, jobObjectPath('photos'), JOB_INTERFACE, 'Sync', 'a{sv}', [options]);
  }
  const badDefinitions: Record<string, dbus.Variant>[] = [
    { local: V('u', 1) }, { local: V('s', 'x'.repeat(100_000)) }, { active: V('s', 'yes') }, { schedule: V('as', ['*']) }, { path1: V('s', '/x') },
    { rclone_options: V('s', 'x') }, { rclone_options: V('a{sv}', { x: V('a{sv}', {}) }) }, { rclone_options: V('a{sv}', { x: V('t', 2n ** 63n) }) },
    { rclone_options: V('a{sv}', Object.fromEntries(names(2000, (i) => `o${i}`).map((k) => [k, V('b', true)]))) }, { remote: V('v', V('s', 'x')) },
  ];
  for (const definition of badDefinitions) add(`AddJob ${Object.keys(definition)[0]}`, INVALID, P, M, 'AddJob', 'sa{sv}', ['newjob', definition]);

  // Odd and huge names everywhere a name goes.
  for (const name of ODD_NAMES) {
    add(`Sync [${JSON.stringify(name.slice(0, 10))}]`, INVALID, P, M, 'Sync', 'asa{sv}', [[name], {}]);
    add(`Pause [${JSON.stringify(name.slice(0, 10))}]`, INVALID, P, M, 'Pause', 'as', [['photos', name]]);
    add(`RemoveJob ${JSON.stringify(name.slice(0, 10))}`, INVALID, P, M, 'RemoveJob', 's', [name]);
    add(`AddJob ${JSON.stringify(name.slice(0, 10))}`, INVALID, P, M, 'AddJob', 'sa{sv}', [name, {}]);
    add(`PendingDeletes ${JSON.stringify(name.slice(0, 10))}`, INVALID, P, M, 'PendingDeletes', 's', [name]);
    add(`History ${JSON.stringify(name.slice(0, 10))}`, name === '' ? 'ok' : INVALID, P, M, 'History', 'su', [name, 5]);
  }
  // Thousands of names.
  for (const member of ['Pause', 'Resume', 'Cancel']) add(`${member} 5000 names`, INVALID, P, M, member, 'as', [names(5000)]);
  add('Sync 5000 names', INVALID, P, M, 'Sync', 'asa{sv}', [names(5000), {}]);
  add('Sync 1000 unknown names', 'io.github.rbmanager.RcloneBisyncManager1.Error.NoSuchJob', P, M, 'Sync', 'asa{sv}', [names(1000), {}]);

  // Unknown paths, members and interfaces; property abuse.
  for (const path of ['/', '/x', `${P}/job`, `${P}/job/nope`, `${P}/job/_`, `${P}/job/photos/deeper`, `${P}x`, '/io/github/rbmanager']) {
    const expect = path.startsWith(`${P}/job/`) ? UNKNOWN_OBJECT : UNKNOWN_METHOD;
    add(`Status at ${path}`, expect, path, M, 'Status', '', []);
    add(`Job.Sync at ${path}`, expect, path, JOB_INTERFACE, 'Sync', 'a{sv}', [{}]);
  }
  for (const member of ['Nope', 'status', 'SYNC', 'Sync2', 'Introspect']) add(`member ${member}`, UNKNOWN_METHOD, P, M, member, '', []);
  for (const iface of ['org.example.Nope', `${BUS_NAME}.Manager2`, JOB_INTERFACE]) add(`iface ${iface}`, UNKNOWN_METHOD, P, iface, 'Status', '', []);
  for (const [iface, prop, value] of [[M, 'State', V('s', 'stopping')], [M, 'Version', V('s', '9')], [M, 'Nope', V('s', 'x')], [M, 'RunningJobs', V('u', 1)], ['org.nope', 'State', V('s', 'x')]] as const) {
    add(`Set ${iface} ${prop}`, prop === 'Nope' ? 'org.freedesktop.DBus.Error.UnknownProperty' : iface === 'org.nope' ? 'org.freedesktop.DBus.Error.UnknownInterface' : 'org.freedesktop.DBus.Error.PropertyReadOnly', P, 'org.freedesktop.DBus.Properties', 'Set', 'ssv', [iface, prop, value]);
  }
  for (const prop of ['Nope', '', 'x'.repeat(10_000)]) add(`Get ${prop.slice(0, 10)}`, 'org.freedesktop.DBus.Error.UnknownProperty', P, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [M, prop]);
  add('GetAll with no argument', INVALID, P, 'org.freedesktop.DBus.Properties', 'GetAll', '', []);
  add('Get with one argument', INVALID, P, 'org.freedesktop.DBus.Properties', 'Get', 's', [M]);
  add('Status without interface', 'ok', P, undefined, 'Status', '', []);
  add('History limit max', 'ok', P, M, 'History', 'su', ['photos', 0xffffffff]);

  // Through busctl as a separate process too (argument parsing on the client side, signatures on ours).
  const busctlCases: [string[], RegExp][] = [
    [['Sync', 's', 'photos'], /Sync expects arguments of type 'asa\{sv\}', got 's'/],
    [['Sync', 'asa{sv}', '1', 'photos', '1', 'dry_run', 'i', '1'], /options\.dry_run: expected type 'b'/],
    [['Sync', 'asa{sv}', '1', 'photos', '1', 'nope', 'b', 'true'], /unknown key "nope"/],
    [['Sync', 'asa{sv}', '1', 'ü', '0'], /jobs\[0\]: invalid job name "ü"/],
    [['RemoveJob', 's', 'x'.repeat(100_000)], /name: job name too long \(100000 characters/],
    [['Pause', 'as', '5000', ...names(5000)], /too many job names \(5000, at most 1000\)/],
    [['History', 'su', '../x', '1'], /job: invalid job name/],
    [['AddJob', 'sa{sv}', 'a b', '0'], /name: invalid job name "a b"/],
  ];
  for (const [args, message] of busctlCases) {
    cases.push({
      what: `busctl ${args.slice(0, 3).join(' ')}`,
      expect: 'busctl-error',
      call: async () => {
        const r = await run('busctl', [`--address=${bus.address}`, 'call', BUS_NAME, P, M, ...args]);
        return r.code !== 0 && message.test(r.stderr) ? 'busctl-error' : `busctl exit ${r.code}: ${r.stderr}`;
      },
    });
  }

  assert.ok(cases.length >= 200, `${cases.length} cases`);
  const before = fake.calls.length;
  // In parallel batches, as a flood would arrive.
  for (let i = 0; i < cases.length; i += 25) {
    const batch = cases.slice(i, i + 25);
    const results = await Promise.all(batch.map((c) => c.call()));
    batch.forEach((c, j) => assert.equal(results[j], c.expect, c.what));
  }
  // Nothing with a side effect reached the service (only reads and the rejected 1000-name Sync, which changes nothing).
  const reached = fake.calls.slice(before).map((c) => c.method);
  assert.deepEqual([...new Set(reached)].sort(), ['history', 'status', 'sync']);
  assert.equal(fake.status().jobs.every((j) => j.activity === 'idle'), true);
  assert.deepEqual(errors, [], 'no internal errors were logged');

  const status = await run('busctl', [`--address=${bus.address}`, '--json=short', 'call', BUS_NAME, P, M, 'Status']);
  assert.equal(status.code, 0, status.stderr);
  const data = JSON.parse(status.stdout).data[0];
  assert.equal(data.state.data, 'running');
  assert.deepEqual(data.jobs.data.map((j: { name: { data: string } }) => j.name.data), ['photos', 'docs']);
  const state = await run('busctl', [`--address=${bus.address}`, 'get-property', BUS_NAME, P, M, 'State']);
  assert.equal(state.stdout.trim(), 's "running"');
});
