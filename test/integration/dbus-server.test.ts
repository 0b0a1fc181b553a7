// The D-Bus adapter on a real private dbus-daemon, driven by real busctl and gdbus processes. The service is
// stood in for by the in-memory fake ControlApi (test/helpers/fake-control.ts), which runs no rclone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUS_NAME, ERROR_TABLE, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH, RbmError, type ErrorCode } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { jobObjectPath } from '../../src/dbus/contract.js';
import { startDbusServer, type DbusServer } from '../../src/dbus/server.js';
import type { LogMeta, Logger } from '../../src/ports.js';
import { startPrivateBus, type PrivateBus } from '../helpers/dbus-daemon.js';
import { createFakeControl, type FakeControl } from '../helpers/fake-control.js';
import { follow, run } from '../helpers/procs.js';
import { parseIntrospection, parseObject, type InterfaceShape } from '../helpers/introspection.js';
import { IN_CI, findProgram } from '../helpers/tools.js';

const missing = ['dbus-daemon', 'busctl', 'gdbus'].filter((p) => !findProgram(p));
if (missing.length > 0 && IN_CI) throw new Error(`CI=true and ${missing.join(', ')} missing`);
const skip = missing.length > 0 ? `${missing.join(', ')} not installed` : false;

const P = OBJECT_PATH;
const M = MANAGER_INTERFACE;
let bus: PrivateBus;
let fake: FakeControl;
let server: DbusServer;
const logged: { level: string; message: string; meta: LogMeta | undefined }[] = [];

function recordingLogger(): Logger {
  const make = (level: string) => (message: string, meta?: LogMeta) => void logged.push({ level, message, meta });
  const logger: Logger = { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error'), child: () => logger };
  return logger;
}

const busctl = (...args: string[]) => run('busctl', [`--address=${bus.address}`, ...args]);
const bcall = (...args: string[]) => busctl('call', BUS_NAME, P, M, ...args);
const gdbus = (path: string, method: string, ...args: string[]) => run('gdbus', ['call', '--address', bus.address, '--dest', BUS_NAME, '--object-path', path, '--method', method, ...args]);

before(async () => {
  if (skip) return;
  bus = await startPrivateBus();
  fake = createFakeControl({ jobs: ['photos', 'docs', 'my-notes.2024', 'slow', 'held'] });
  server = await startDbusServer(fake, { busAddress: bus.address, logger: recordingLogger() });
});

after(async () => {
  await server?.close();
  await bus?.stop();
});

test('job objects live at sd_bus_path_encode-escaped paths and busctl tree lists them', { skip }, async () => {
  const r = await busctl('tree', '--list', BUS_NAME);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${P}/job/my_2dnotes_2e2024$`, 'm'));
  assert.match(r.stdout, new RegExp(`^${P}/job/photos$`, 'm'));
});

/** Every object path the service exports (busctl tree), and the interface files by interface name. */
async function exportedPaths(): Promise<string[]> {
  const r = await busctl('tree', '--list', BUS_NAME);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((line) => line.startsWith('/'));
}

const interfaceFile = (iface: string): InterfaceShape => {
  const shape = parseIntrospection(readFileSync(join(PROJECT_ROOT, 'dbus', `${iface}.xml`), 'utf8'))[iface];
  assert.ok(shape, `${iface} in dbus/${iface}.xml`);
  return shape;
};

/** The standard interfaces with the argument names of the D-Bus specification. */
const STANDARD_MEMBERS: Record<string, Record<string, string>> = {
  'org.freedesktop.DBus.Introspectable': { Introspect: 'out s xml_data' },
  'org.freedesktop.DBus.Peer': { Ping: '', GetMachineId: 'out s machine_uuid' },
  'org.freedesktop.DBus.Properties': {
    Get: 'in s interface_name, in s property_name, out v value',
    GetAll: 'in s interface_name, out a{sv} props',
    Set: 'in s interface_name, in s property_name, in v value',
    PropertiesChanged: 'out s interface_name, out a{sv} changed_properties, out as invalidated_properties',
  },
  'org.freedesktop.DBus.ObjectManager': {
    GetManagedObjects: 'out a{oa{sa{sv}}} objpath_interfaces_and_properties',
    InterfacesAdded: 'out o object_path, out a{sa{sv}} interfaces_and_properties',
    InterfacesRemoved: 'out o object_path, out as interfaces',
  },
};

function membersWithArgs(shape: InterfaceShape): Record<string, string> {
  const text = (args: { direction: string; type: string; name: string }[]) => args.map((a) => `${a.direction} ${a.type} ${a.name}`).join(', ');
  return Object.fromEntries([...Object.entries(shape.methods), ...Object.entries(shape.signals)].map(([name, m]) => [name, text(m.args)]));
}

test('live Introspect of every object carries dbus/*.xml: argument names and directions, property access, annotations, docs', { skip }, async () => {
  const paths = await exportedPaths();
  const jobPaths = paths.filter((p) => p.startsWith(`${P}/job/`));
  assert.ok(jobPaths.includes(`${P}/job/my_2dnotes_2e2024`) && jobPaths.length >= 5, paths.join(' '));
  const expected: Record<string, string[]> = { [P]: [M, 'org.freedesktop.DBus.ObjectManager'], ...Object.fromEntries(jobPaths.map((p) => [p, [JOB_INTERFACE]])) };
  for (const path of paths) {
    const viaGdbus = await run('gdbus', ['introspect', '--address', bus.address, '--dest', BUS_NAME, '--object-path', path, '--xml']);
    assert.equal(viaGdbus.code, 0, viaGdbus.stderr);
    const viaBusctl = await busctl('introspect', '--xml-interface', BUS_NAME, path);
    assert.equal(viaBusctl.code, 0, viaBusctl.stderr);
    for (const xml of [viaGdbus.stdout, viaBusctl.stdout]) {
      const live = parseObject(xml);
      const ours = expected[path] ?? [];
      // Objects between / and the job objects only list their children.
      const standard = ours.length > 0 ? ['org.freedesktop.DBus.Introspectable', 'org.freedesktop.DBus.Peer', 'org.freedesktop.DBus.Properties'] : [];
      assert.deepEqual(Object.keys(live.interfaces).sort(), [...standard, ...ours].sort(), path);
      for (const iface of ours) {
        const shape = live.interfaces[iface]!;
        if (iface === 'org.freedesktop.DBus.ObjectManager') assert.deepEqual(membersWithArgs(shape), STANDARD_MEMBERS[iface], `${path} ${iface}`);
        else assert.deepEqual(shape, interfaceFile(iface), `${path} ${iface}: live introspection differs from dbus/${iface}.xml`);
      }
      for (const iface of standard) assert.deepEqual(membersWithArgs(live.interfaces[iface]!), STANDARD_MEMBERS[iface], `${path} ${iface}`);
      if (path === P) assert.deepEqual(live.children, ['job']);
      if (jobPaths.includes(path)) assert.deepEqual(live.children, []);
    }
  }
  // The files themselves: every argument named, every member documented, Version constant.
  for (const iface of [M, JOB_INTERFACE]) {
    const file = interfaceFile(iface);
    for (const [name, member] of [...Object.entries(file.methods), ...Object.entries(file.signals), ...Object.entries(file.properties)]) {
      assert.ok(member.annotations['org.gtk.GDBus.DocString'], `${iface}.${name} has a DocString`);
      if ('args' in member) assert.ok(member.args.every((a) => /^[a-z_]+$/.test(a.name)), `${iface}.${name} names its arguments`);
    }
  }
  assert.equal(interfaceFile(M).properties.Version?.annotations['org.freedesktop.DBus.Property.EmitsChangedSignal'], 'const');
});

test('gdbus introspect and busctl introspect show the argument names, docs and the const Version the way users see them', { skip }, async () => {
  for (const [path, iface] of [
    [P, M],
    [jobObjectPath('my-notes.2024'), JOB_INTERFACE],
  ] as const) {
    const pretty = await run('gdbus', ['introspect', '--address', bus.address, '--dest', BUS_NAME, '--object-path', path]);
    assert.equal(pretty.code, 0, pretty.stderr);
    const text = pretty.stdout.replace(/\s+/g, ' ');
    const file = interfaceFile(iface);
    const annotations = (a: Record<string, string>) => Object.entries(a).map(([k, v]) => `@${k}("${v}") `).join('');
    assert.ok(text.includes(`${annotations(file.annotations)}interface ${iface} {`), `${iface}: ${text.slice(0, 300)}`);
    for (const [name, m] of Object.entries(file.methods)) {
      const line = `${annotations(m.annotations)}${name}(${m.args.map((a) => `${a.direction} ${a.type} ${a.name}`).join(', ')});`;
      assert.ok(text.includes(line), `gdbus shows ${line}`);
    }
    for (const [name, s] of Object.entries(file.signals)) {
      const line = `${annotations(s.annotations)}${name}(${s.args.map((a) => `${a.type} ${a.name}`).join(', ')});`;
      assert.ok(text.includes(line), `gdbus shows ${line}`);
    }
    for (const [name, p] of Object.entries(file.properties)) {
      const line = `${annotations(p.annotations)}readonly ${p.type} ${name} = `;
      assert.ok(text.includes(line), `gdbus shows ${line}`);
    }

    const table = await busctl('introspect', BUS_NAME, path, iface);
    assert.equal(table.code, 0, table.stderr);
    const flags = Object.fromEntries(
      table.stdout
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((cols) => cols[1] === 'property')
        .map((cols) => [cols[0]!.slice(1), cols.at(-1)]),
    );
    assert.deepEqual(
      flags,
      Object.fromEntries(Object.entries(file.properties).map(([name, p]) => [name, p.annotations['org.freedesktop.DBus.Property.EmitsChangedSignal'] === 'const' ? 'const' : 'emits-change'])),
    );
  }
});

test('Status, ListJobs and the manager properties through busctl (JSON) and gdbus', { skip }, async () => {
  const status = await busctl('--json=short', 'call', BUS_NAME, P, M, 'Status');
  assert.equal(status.code, 0, status.stderr);
  const data = JSON.parse(status.stdout).data[0];
  assert.equal(data.state.data, 'running');
  assert.equal(data.version.data, '0.1.0');
  assert.deepEqual(data.jobs.data.map((j: { name: { data: string } }) => j.name.data), ['photos', 'docs', 'my-notes.2024', 'slow', 'held']);
  assert.equal(data.jobs.data[2].path.data, `${P}/job/my_2dnotes_2e2024`);

  const list = await gdbus(P, `${M}.ListJobs`);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /\('photos', 'idle', 'never', objectpath '\/io\/github\/rbmanager\/RcloneBisyncManager1\/job\/photos'\)/);

  for (const [prop, expected] of [
    ['Version', 's "0.1.0"'],
    ['State', 's "running"'],
    ['ConfigPath', 's "/home/user/.config/rclone-bisync-manager/config.yaml"'],
    ['ConfigError', 's ""'],
    ['RunningJobs', 'as 0'],
    ['QueuedJobs', 'as 0'],
  ]) {
    const r = await busctl('get-property', BUS_NAME, P, M, prop!);
    assert.equal(r.stdout.trim(), expected, `${prop}: ${r.stderr}`);
  }
  const g = await gdbus(P, 'org.freedesktop.DBus.Properties.Get', M, 'Version');
  assert.equal(g.stdout.trim(), "(<'0.1.0'>,)");
});

test('every Job property through busctl get-property and gdbus GetAll', { skip }, async () => {
  const path = jobObjectPath('docs');
  const r = await busctl('get-property', BUS_NAME, path, JOB_INTERFACE, 'Name', 'Local', 'Remote', 'Schedule', 'Active', 'DryRun', 'State', 'LastResult', 'LastRunId', 'LastRunUsec', 'NeedsResync', 'NeedsApproval', 'HashWarning', 'LastError', 'Paused', 'CpuLimitApplied');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['s "docs"', 's "/home/user/docs"', 's "remote:docs"', 's "*/5 * * * *"', 'b true', 'b false', 's "idle"', 's "never"', 't 0', 't 0', 'b false', 'b false', 'b false', 's ""', 'b false', 'b true']);
  const next = await busctl('get-property', BUS_NAME, path, JOB_INTERFACE, 'NextRunUsec');
  assert.ok(Number(next.stdout.trim().split(' ')[1]) > Date.now() * 1000, next.stdout);
  const all = await gdbus(path, 'org.freedesktop.DBus.Properties.GetAll', JOB_INTERFACE);
  assert.equal(all.code, 0, all.stderr);
  for (const name of ['Name', 'Local', 'Remote', 'Schedule', 'Active', 'DryRun', 'State', 'LastResult', 'LastRunId', 'LastRunUsec', 'NextRunUsec', 'NeedsResync', 'NeedsApproval', 'HashWarning', 'LastError', 'Paused', 'CpuLimitApplied']) {
    assert.match(all.stdout, new RegExp(`'${name}': <`));
  }
});

test('busctl monitor sees JobStarted, JobProgress and JobFinished carrying the run id Sync returned', { skip }, async (t) => {
  const monitor = follow('busctl', [`--address=${bus.address}`, 'monitor', '--json=short', '--match', `type='signal',interface='${M}'`]);
  t.after(() => monitor.stop());
  await monitor.waitFor((l) => l.includes('Monitoring bus message stream'), 'its ready line');
  const r = await bcall('Sync', 'asa{sv}', '1', 'photos', '1', 'dry_run', 'b', 'true');
  assert.equal(r.code, 0, r.stderr);
  const m = /^at 1 (\d+)$/.exec(r.stdout.trim());
  assert.ok(m, r.stdout);
  const runId = Number(m[1]);
  const finished = JSON.parse(await monitor.waitFor((l) => l.includes('"member":"JobFinished"'), 'JobFinished'));
  const [path, name, id, result, details] = finished.payload.data;
  assert.deepEqual([path, name, id, result], [jobObjectPath('photos'), 'photos', runId, 'dry-run']);
  assert.equal(details.dry_run.data, true);
  assert.equal(details.operation.data, 'bisync');
  assert.equal(details.files.data, 3);
  assert.ok(details.finished_usec.data >= details.started_usec.data);
  assert.equal(details.tail, undefined, 'no output tail in a broadcast signal');
  type Signal = { member: string; payload: { data: [string, string, number, Record<string, { data: unknown }>] } };
  const signals = monitor.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Signal);
  const started = signals.filter((s) => s.member === 'JobStarted');
  assert.deepEqual(started[0]?.payload.data, [jobObjectPath('photos'), 'photos', runId, 'bisync']);
  const progress = signals.filter((s) => s.member === 'JobProgress').map((s) => s.payload.data);
  assert.ok(progress.length >= 1, 'at least one JobProgress');
  // The fake emits three progress events in one tick: the throttle sends the first at once and the last later.
  assert.ok(progress.length <= 2, `throttled: ${progress.length} JobProgress signals`);
  assert.equal(progress.at(-1)?.[2], runId);
  assert.equal(progress.at(-1)?.[3].transfers?.data, progress.length === 1 ? 1 : 3);
});

test('PropertiesChanged arrives for a job state change and for the manager lists', { skip }, async (t) => {
  const monitor = follow('gdbus', ['monitor', '--address', bus.address, '--dest', BUS_NAME]);
  t.after(() => monitor.stop());
  await monitor.waitFor((l) => l.includes('is owned by'), 'its ready line');
  fake.hold('held');
  const r = await gdbus(jobObjectPath('held'), `${JOB_INTERFACE}.Sync`, '{}');
  assert.match(r.stdout, /^\(uint64 \d+,\)$/m, r.stderr);
  await monitor.waitFor((l) => l.includes('/job/held: org.freedesktop.DBus.Properties.PropertiesChanged') && l.includes("'State': <'running'>"), 'State running');
  await monitor.waitFor((l) => l.includes(`${P}: org.freedesktop.DBus.Properties.PropertiesChanged`) && l.includes("'RunningJobs': <['held']>"), 'RunningJobs');
  const running = await busctl('get-property', BUS_NAME, P, M, 'RunningJobs');
  assert.equal(running.stdout.trim(), 'as 1 "held"');
  fake.release('held');
  await monitor.waitFor((l) => l.includes('/job/held: org.freedesktop.DBus.Properties.PropertiesChanged') && l.includes("'LastResult': <'success'>"), 'LastResult');
});

test('Pause, Resume, Cancel and PendingDeletes through busctl and gdbus', { skip }, async () => {
  assert.equal((await bcall('Pause', 'as', '1', 'docs')).code, 0);
  assert.equal((await busctl('get-property', BUS_NAME, jobObjectPath('docs'), JOB_INTERFACE, 'Paused')).stdout.trim(), 'b true');
  const paused = await gdbus(P, `${M}.Sync`, "['docs']", '{}');
  assert.match(paused.stderr, /GDBus\.Error:io\.github\.rbmanager\.RcloneBisyncManager1\.Error\.Paused: /);
  assert.equal((await gdbus(P, `${M}.Resume`, "['docs']")).code, 0);
  assert.equal((await busctl('get-property', BUS_NAME, jobObjectPath('docs'), JOB_INTERFACE, 'State')).stdout.trim(), 's "idle"');

  fake.hold('slow');
  const sync = await bcall('Sync', 'asa{sv}', '1', 'slow', '0');
  const runId = sync.stdout.trim().split(' ')[2];
  await fake.waitRunning('slow');
  const monitor = follow('busctl', [`--address=${bus.address}`, 'monitor', '--json=short', '--match', `type='signal',member='JobFinished'`]);
  await monitor.waitFor((l) => l.includes('Monitoring bus message stream'));
  assert.equal((await gdbus(P, `${M}.Cancel`, "['slow']")).code, 0);
  const finished = JSON.parse(await monitor.waitFor((l) => l.includes('"member":"JobFinished"')));
  await monitor.stop();
  assert.equal(String(finished.payload.data[2]), runId);
  assert.equal(finished.payload.data[3], 'cancelled');

  fake.setJobState('docs', { pendingDeletes: ['a.txt', 'dir/b ü.txt'], needsApproval: true });
  const deletes = await gdbus(P, `${M}.PendingDeletes`, 'docs');
  assert.equal(deletes.stdout.trim(), "(['a.txt', 'dir/b ü.txt'],)");
  const json = await busctl('--json=short', 'call', BUS_NAME, P, M, 'PendingDeletes', 's', 'docs');
  assert.deepEqual(JSON.parse(json.stdout), { type: 'as', data: [['a.txt', 'dir/b ü.txt']] });
  fake.setJobState('docs', { pendingDeletes: [], needsApproval: false });
});

test('History of one job and of all jobs, newest first, through busctl and gdbus', { skip }, async () => {
  const r = await busctl('--json=short', 'call', BUS_NAME, P, M, 'History', 'su', 'photos', '5');
  assert.equal(r.code, 0, r.stderr);
  const records = JSON.parse(r.stdout).data[0];
  assert.ok(records.length >= 1);
  assert.equal(records[0].job.data, 'photos');
  assert.deepEqual(records[0].tail.data, ['line 1', 'line 2']);
  const all = await gdbus(P, `${M}.History`, '', '0');
  assert.equal(all.code, 0, all.stderr);
  const ids = [...all.stdout.matchAll(/'run_id': <uint64 (\d+)>/g)].map((m) => Number(m[1]));
  assert.ok(ids.length >= 2);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
});

test('Reload returns after the reload, ConfigReloaded follows, and a bad config is InvalidConfig', { skip }, async (t) => {
  const monitor = follow('busctl', [`--address=${bus.address}`, 'monitor', '--json=short', '--match', `type='signal',member='ConfigReloaded'`]);
  t.after(() => monitor.stop());
  await monitor.waitFor((l) => l.includes('Monitoring bus message stream'));
  assert.equal((await bcall('Reload')).code, 0);
  assert.deepEqual(JSON.parse(await monitor.waitFor((l) => l.includes('ConfigReloaded'))).payload.data, [true, '']);
  fake.setConfigError('sync_jobs.x.schedule: bad cron');
  const bad = await gdbus(P, `${M}.Reload`);
  fake.setConfigError('');
  assert.match(bad.stderr, /GDBus\.Error:io\.github\.rbmanager\.RcloneBisyncManager1\.Error\.InvalidConfig: invalid config \(1 problem\):/);
  assert.match(bad.stderr, /bad cron/);
  await monitor.waitFor((l) => l.includes('ConfigReloaded') && l.includes('bad cron'));
  const configError = await busctl('get-property', BUS_NAME, P, M, 'ConfigError');
  assert.match(configError.stdout, /bad cron/);
  assert.equal((await bcall('Reload')).code, 0);
});

test('AddJob and RemoveJob export and drop job objects with InterfacesAdded/Removed', { skip }, async (t) => {
  const monitor = follow('gdbus', ['monitor', '--address', bus.address, '--dest', BUS_NAME]);
  t.after(() => monitor.stop());
  await monitor.waitFor((l) => l.includes('is owned by'));
  fake.addFileJob('from-file');
  const added = await bcall('AddJob', 'sa{sv}', 'from-file', '0');
  assert.equal(added.stdout.trim(), `o "${P}/job/from_2dfile"`, added.stderr);
  await monitor.waitFor((l) => l.includes('InterfacesAdded') && l.includes('/job/from_2dfile'));
  const defined = await gdbus(P, `${M}.AddJob`, 'music', "{'local': <'/home/user/Music'>, 'remote': <'remote:Music'>, 'schedule': <'0 * * * *'>, 'rclone_options': <{'max-delete': <uint32 5>}>}");
  assert.equal(defined.stdout.trim(), `(objectpath '${P}/job/music',)`, defined.stderr);
  assert.deepEqual(fake.calls.filter((c) => c.method === 'addJob').at(-1)?.args, ['music', { local: '/home/user/Music', remote: 'remote:Music', schedule: '0 * * * *', rclone_options: { 'max-delete': 5 } }]);
  const exists = await gdbus(P, `${M}.AddJob`, 'music', "{'local': <'/x'>, 'remote': <'r:x'>, 'schedule': <'* * * * *'>}");
  assert.match(exists.stderr, /Error\.JobExists: /);
  const managed = await gdbus(P, 'org.freedesktop.DBus.ObjectManager.GetManagedObjects');
  assert.match(managed.stdout, /'\/io\/github\/rbmanager\/RcloneBisyncManager1\/job\/music': \{'io\.github\.rbmanager\.RcloneBisyncManager1\.Job': \{'Name': <'music'>/);
  assert.equal((await bcall('RemoveJob', 's', 'music')).code, 0);
  await monitor.waitFor((l) => l.includes('InterfacesRemoved') && l.includes('/job/music'));
  const gone = await busctl('get-property', BUS_NAME, `${P}/job/music`, JOB_INTERFACE, 'Name');
  assert.notEqual(gone.code, 0);
  const noSuch = await gdbus(P, `${M}.RemoveJob`, 'music');
  assert.match(noSuch.stderr, /Error\.NoSuchJob: /);
});

test('every error code of the table crosses the bus under its own name; others become Internal without a stack', { skip }, async () => {
  for (const [code, [name]] of Object.entries(ERROR_TABLE) as [ErrorCode, readonly [string, number]][]) {
    fake.failNext('pendingDeletes', new RbmError(code, `injected ${code}`, { hint: 'the hint' }));
    const r = await gdbus(P, `${M}.PendingDeletes`, 'docs');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`GDBus\\.Error:${name.replace(/\./g, '\\.')}: injected ${code}\\nthe hint`), code);
  }
  fake.failNext('pendingDeletes', new TypeError('secret detail at /some/file.ts:12'));
  const internal = await gdbus(P, `${M}.PendingDeletes`, 'docs');
  assert.match(internal.stderr, /Error\.Internal: internal error in PendingDeletes; the service log has the details/);
  assert.doesNotMatch(internal.stderr, /secret detail|\.ts:|at /);
  const entry = logged.find((l) => l.level === 'error' && l.message === 'internal error in PendingDeletes');
  assert.match(String(entry?.meta?.stack), /TypeError: secret detail/);
});

test('bad arguments are InvalidArgs naming the argument', { skip }, async () => {
  const cases: [string[], RegExp][] = [
    [['Sync', 'asa{sv}', '1', 'photos', '1', 'dry_run', 's', 'yes'], /options\.dry_run: expected type 'b' \(boolean\), got 's'/],
    [['Sync', 'asa{sv}', '1', 'photos', '1', 'colour', 'b', 'true'], /options: unknown key "colour" \(known keys: resync, force, dry_run, respect_conditions\)/],
    [['Sync', 'asa{sv}', '1', 'bad/name', '0'], /jobs\[0\]: invalid job name "bad\/name"/],
    [['Sync', 's', 'photos'], /Sync expects arguments of type 'asa\{sv\}', got 's'/],
    [['AddJob', 'sa{sv}', 'new', '1', 'remote', 'u', '5'], /definition\.remote: expected type 's' \(string\), got 'u'/],
    [['History', 'su', '../etc', '1'], /job: invalid job name/],
  ];
  for (const [args, message] of cases) {
    const r = await bcall(...args);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, message, args.join(' '));
  }
  const g = await gdbus(P, `${M}.Sync`, "['photos']", "{'force': <'yes'>}");
  assert.match(g.stderr, /GDBus\.Error:org\.freedesktop\.DBus\.Error\.InvalidArgs: options\.force: expected type 'b'/);
  const ro = await gdbus(P, 'org.freedesktop.DBus.Properties.Set', M, 'State', "<'stopping'>");
  assert.match(ro.stderr, /GDBus\.Error:org\.freedesktop\.DBus\.Error\.PropertyReadOnly/);
  assert.equal((await busctl('get-property', BUS_NAME, P, M, 'State')).stdout.trim(), 's "running"');
});

test('a second server on the same bus is refused: the name is taken', { skip }, async () => {
  await assert.rejects(startDbusServer(createFakeControl(), { busAddress: bus.address, logger: recordingLogger() }), (e: unknown) => {
    assert.ok(e instanceof RbmError);
    assert.equal(e.code, 'AlreadyRunning');
    assert.match(e.message, /already owns io\.github\.rbmanager\.RcloneBisyncManager1/);
    return true;
  });
});

test('losing the bus calls the onDisconnect listeners', { skip }, async () => {
  const own = await startPrivateBus();
  const srv = await startDbusServer(createFakeControl(), { busAddress: own.address, logger: recordingLogger() });
  const lost = new Promise<string>((resolve) => srv.onDisconnect(() => resolve('lost')));
  await own.stop();
  assert.equal(await lost, 'lost');
  await srv.close();
});
