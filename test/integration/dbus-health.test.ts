// Health and snooze over D-Bus (issue 15), on a real private dbus-daemon with real busctl, gdbus and rbmctl processes:
// the Job properties Health, HealthReason, SnoozedUntilUsec and the Manager's AttentionJobs and SnoozedUntilUsec with
// PropertiesChanged, Status()'s keys, Snooze/Unsnooze including bad arguments (nothing changes), and rbmctl status's
// exit code and --short line for each health value. The service is stood in for by the fake ControlApi, which decides
// no health of its own: the test sets it (the real service's health is tested by the health helper's tests).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { jobObjectPath } from '../../src/dbus/contract.js';
import { startDbusServer, type DbusServer } from '../../src/dbus/server.js';
import { nullLogger } from '../../src/ports.js';
import type { JobHealth } from '../../src/api/control-api.js';
import { startPrivateBus, type PrivateBus } from '../helpers/dbus-daemon.js';
import { createFakeControl, type FakeControl } from '../helpers/fake-control.js';
import { follow, run } from '../helpers/procs.js';
import { IN_CI, findProgram } from '../helpers/tools.js';

const missing = ['dbus-daemon', 'busctl', 'gdbus'].filter((p) => !findProgram(p));
if (missing.length > 0 && IN_CI) throw new Error(`CI=true and ${missing.join(', ')} missing`);
const skip = missing.length > 0 ? `${missing.join(', ')} not installed` : false;

const HEALTHS: readonly JobHealth[] = ['ok', 'attention', 'failing', 'stale'];
const REASON: Record<JobHealth, string> = {
  ok: '',
  attention: 'waits for your approval of 3 deletes: review them with rbmctl approve docs',
  failing: 'failed 3 times in a row: remote unreachable',
  stale: 'no successful sync for 2 d (stale after 1 h); see rbmctl history docs',
};
const DOCS = jobObjectPath('docs');

let bus: PrivateBus;
let fake: FakeControl;
let server: DbusServer;

before(async () => {
  if (skip) return;
  bus = await startPrivateBus();
  fake = createFakeControl({ jobs: ['photos', 'docs'] });
  server = await startDbusServer(fake, { busAddress: bus.address, logger: nullLogger });
});
after(async () => {
  await server?.close();
  await bus?.stop();
});

const busctl = (...args: string[]) => run('busctl', [`--address=${bus.address}`, ...args]);
const gdbusCall = (path: string, method: string, ...args: string[]) => run('gdbus', ['call', '--address', bus.address, '--dest', BUS_NAME, '--object-path', path, '--method', method, ...args]);

/** Typed values of properties through busctl --json=short (one JSON line per property). */
async function properties(path: string, iface: string, ...names: string[]): Promise<unknown[]> {
  const r = await busctl('--json=short', 'get-property', BUS_NAME, path, iface, ...names);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { data: unknown }).data);
}

interface StatusJson {
  attention_jobs: { data: string[] };
  snoozed_until_usec: { data: number };
  jobs: { data: { name: { data: string }; health: { data: string }; health_reason: { data: string }; snoozed_until_usec: { data: number } }[] };
}

async function statusOverBus(): Promise<StatusJson> {
  const r = await busctl('--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Status');
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { data: [StatusJson] }).data[0];
}

/** The real rbmctl executable (through tsx), as a status bar or cron would run it. */
function rbmctl(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus.address } });
}

/** One PropertiesChanged as busctl monitor prints it: the object, the interface and the changed values (unwrapped). */
interface PropertyChange {
  path: string;
  iface: string;
  changed: Record<string, unknown>;
}

/**
 * PropertiesChanged signals of the service, seen by `busctl monitor` (a real bus monitor: once it says it is
 * monitoring, nothing sent after is missed, unlike a client adding a match rule).
 */
async function watchPropertyChanges(t: { after(fn: () => Promise<void>): void }) {
  const monitor = follow('busctl', [`--address=${bus.address}`, 'monitor', '--json=short', '--match', "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'"]);
  t.after(() => monitor.stop());
  await monitor.waitFor((l) => l.includes('Monitoring bus message stream'), 'its ready line');
  const parse = (line: string): PropertyChange | undefined => {
    if (!line.startsWith('{')) return undefined;
    const m = JSON.parse(line) as { path: string; payload: { data: [string, Record<string, { data: unknown }>, string[]] } };
    const [iface, dict] = m.payload.data;
    return { path: m.path, iface, changed: Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.data])) };
  };
  return {
    async waitFor(path: string, match: (changed: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
      const line = await monitor.waitFor((l) => {
        const change = parse(l);
        return change !== undefined && change.path === path && match(change.changed);
      }, what);
      return parse(line)!.changed;
    },
    changes(path: string): Record<string, unknown>[] {
      return monitor.lines.map(parse).filter((c): c is PropertyChange => c !== undefined && c.path === path).map((c) => c.changed);
    },
  };
}

test('Health, HealthReason, AttentionJobs and Status() keys for each health value', { skip }, async () => {
  for (const health of HEALTHS) {
    fake.setHealth('docs', health, REASON[health]);
    assert.deepEqual(await properties(DOCS, JOB_INTERFACE, 'Health', 'HealthReason', 'SnoozedUntilUsec'), [health, REASON[health], 0], health);
    assert.deepEqual(await properties(jobObjectPath('photos'), JOB_INTERFACE, 'Health', 'HealthReason'), ['ok', ''], health);
    const expectedAttention = health === 'ok' ? [] : ['docs'];
    assert.deepEqual(await properties(OBJECT_PATH, MANAGER_INTERFACE, 'AttentionJobs', 'SnoozedUntilUsec'), [expectedAttention, 0], health);
    const status = await statusOverBus();
    assert.deepEqual(status.attention_jobs.data, expectedAttention, health);
    assert.equal(status.snoozed_until_usec.data, 0);
    assert.deepEqual(
      status.jobs.data.map((j) => [j.name.data, j.health.data, j.health_reason.data, j.snoozed_until_usec.data]),
      [['photos', 'ok', '', 0], ['docs', health, REASON[health], 0]],
      health,
    );
    // gdbus reads the same property (GLib's typed text).
    const g = await gdbusCall(DOCS, 'org.freedesktop.DBus.Properties.Get', JOB_INTERFACE, 'Health');
    assert.equal(g.stdout.trim(), `(<'${health}'>,)`, g.stderr);
  }
  fake.setHealth('docs', 'ok');
});

test('PropertiesChanged carries Health, HealthReason and AttentionJobs when they change, and only then', { skip }, async (t) => {
  const monitor = await watchPropertyChanges(t);

  fake.setHealth('docs', 'failing', REASON.failing);
  const failing = await monitor.waitFor(DOCS, (c) => c.Health === 'failing', 'Health failing');
  assert.equal(failing.HealthReason, REASON.failing);
  await monitor.waitFor(OBJECT_PATH, (c) => JSON.stringify(c.AttentionJobs) === '["docs"]', 'AttentionJobs [docs]');

  fake.setHealth('docs', 'stale', REASON.stale);
  const stale = await monitor.waitFor(DOCS, (c) => c.Health === 'stale', 'Health stale');
  assert.equal(stale.HealthReason, REASON.stale);

  // The same health again, then another change: its signal does not repeat Health.
  fake.setHealth('docs', 'stale', REASON.stale);
  fake.setJobState('docs', { lastError: 'a marker for this test' });
  const marker = await monitor.waitFor(DOCS, (c) => c.LastError === 'a marker for this test', 'LastError marker');
  assert.deepEqual(Object.keys(marker), ['LastError']);
  assert.equal(monitor.changes(DOCS).filter((c) => c.Health === 'stale').length, 1, 'one PropertiesChanged for the one change to stale');

  fake.setHealth('docs', 'ok');
  const ok = await monitor.waitFor(DOCS, (c) => c.Health === 'ok', 'Health ok');
  assert.equal(ok.HealthReason, '');
  await monitor.waitFor(OBJECT_PATH, (c) => JSON.stringify(c.AttentionJobs) === '[]', 'AttentionJobs []');
  fake.setJobState('docs', { lastError: '' });
});

test('Snooze and Unsnooze through busctl and gdbus reach the service; the properties and Status() follow', { skip }, async (t) => {
  const monitor = await watchPropertyChanges(t);

  const before = Date.now();
  const r = await busctl('call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Snooze', 'ast', '1', 'docs', '7200');
  const afterCall = Date.now();
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fake.calls.filter((c) => c.method === 'snooze').at(-1)?.args, [['docs'], 7200]);
  const docsUntil = fake.snoozes().jobs.docs ?? 0;
  assert.ok(docsUntil >= before + 7_200_000 && docsUntil <= afterCall + 7_200_000, `${docsUntil}`);
  assert.deepEqual(await properties(DOCS, JOB_INTERFACE, 'SnoozedUntilUsec'), [docsUntil * 1000]);
  assert.deepEqual(await properties(jobObjectPath('photos'), JOB_INTERFACE, 'SnoozedUntilUsec'), [0]);
  assert.deepEqual(await properties(OBJECT_PATH, MANAGER_INTERFACE, 'SnoozedUntilUsec'), [0]);
  await monitor.waitFor(DOCS, (c) => c.SnoozedUntilUsec === docsUntil * 1000, 'the job snoozed');

  // An empty list is the global snooze: the manager's property, and every job's (the later of its own and the global).
  const g = await gdbusCall(OBJECT_PATH, `${MANAGER_INTERFACE}.Snooze`, '@as []', '3600');
  assert.equal(g.code, 0, g.stderr);
  assert.deepEqual(fake.calls.filter((c) => c.method === 'snooze').at(-1)?.args, [[], 3600]);
  const global = fake.snoozes().global;
  assert.ok(global > 0);
  assert.deepEqual(await properties(OBJECT_PATH, MANAGER_INTERFACE, 'SnoozedUntilUsec'), [global * 1000]);
  assert.deepEqual(await properties(jobObjectPath('photos'), JOB_INTERFACE, 'SnoozedUntilUsec'), [global * 1000]);
  assert.deepEqual(await properties(DOCS, JOB_INTERFACE, 'SnoozedUntilUsec'), [Math.max(global, docsUntil) * 1000]);
  await monitor.waitFor(OBJECT_PATH, (c) => c.SnoozedUntilUsec === global * 1000, 'the manager snoozed');
  await monitor.waitFor(jobObjectPath('photos'), (c) => c.SnoozedUntilUsec === global * 1000, 'photos snoozed by the global snooze');
  const status = await statusOverBus();
  assert.equal(status.snoozed_until_usec.data, global * 1000);
  assert.deepEqual(status.jobs.data.map((j) => [j.name.data, j.snoozed_until_usec.data]), [['photos', global * 1000], ['docs', Math.max(global, docsUntil) * 1000]]);

  // Unsnooze one job (its own snooze), then everything.
  assert.equal((await busctl('call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Unsnooze', 'as', '1', 'docs')).code, 0);
  assert.deepEqual(fake.calls.filter((c) => c.method === 'unsnooze').at(-1)?.args, [['docs']]);
  assert.deepEqual(fake.snoozes(), { global, jobs: { photos: 0, docs: 0 } });
  const all = await gdbusCall(OBJECT_PATH, `${MANAGER_INTERFACE}.Unsnooze`, '@as []');
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(fake.calls.filter((c) => c.method === 'unsnooze').at(-1)?.args, [[]]);
  assert.deepEqual(fake.snoozes(), { global: 0, jobs: { photos: 0, docs: 0 } });
  assert.deepEqual(await properties(OBJECT_PATH, MANAGER_INTERFACE, 'SnoozedUntilUsec'), [0]);
  assert.deepEqual(await properties(DOCS, JOB_INTERFACE, 'SnoozedUntilUsec'), [0]);
  await monitor.waitFor(OBJECT_PATH, (c) => c.SnoozedUntilUsec === 0, 'the manager unsnoozed');
});

test('bad Snooze/Unsnooze arguments are InvalidArgs naming the argument (an unknown job NoSuchJob), and nothing changes', { skip }, async () => {
  assert.equal((await busctl('call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Snooze', 'ast', '1', 'photos', '600')).code, 0);
  const snoozes = fake.snoozes();
  const cases: [args: string[], error: string, text: RegExp][] = [
    [['Snooze', "['docs']", '0'], 'org.freedesktop.DBus.Error.InvalidArgs', /seconds: expected a duration from 1 second to 30 days, e\.g\. 90m, 2h, 1d12h, or a number of seconds, got 0 seconds/],
    [['Snooze', "['docs']", '2592001'], 'org.freedesktop.DBus.Error.InvalidArgs', /seconds: expected a duration .* got 2592001 seconds/],
    [['Snooze', '@as []', '18446744073709551615'], 'org.freedesktop.DBus.Error.InvalidArgs', /seconds: expected a duration .* got 18446744073709551615 seconds/],
    [['Snooze', "['docs', 'bad/name']", '60'], 'org.freedesktop.DBus.Error.InvalidArgs', /jobs\[1\]: invalid job name "bad\/name"/],
    [['Unsnooze', "['../x']"], 'org.freedesktop.DBus.Error.InvalidArgs', /jobs\[0\]: invalid job name "\.\.\/x"/],
    [['Snooze', "['docs', 'nosuch']", '60'], `${BUS_NAME}.Error.NoSuchJob`, /no job named 'nosuch'/],
    [['Unsnooze', "['nosuch', 'photos']"], `${BUS_NAME}.Error.NoSuchJob`, /no job named 'nosuch'/],
  ];
  for (const [[method, ...args], error, text] of cases) {
    const calls = fake.calls.length;
    const r = await gdbusCall(OBJECT_PATH, `${MANAGER_INTERFACE}.${method!}`, ...args);
    const what = `${method!} ${args.join(' ')}`;
    assert.notEqual(r.code, 0, what);
    assert.match(r.stderr, new RegExp(`GDBus\\.Error:${error.replace(/\./g, '\\.')}: `), `${what}: ${r.stderr}`);
    assert.match(r.stderr, text, what);
    assert.deepEqual(fake.snoozes(), snoozes, `${what} changed nothing`);
    // A bad argument never reaches the service; an unknown job is the service's own answer (checked before it acts).
    if (error.endsWith('InvalidArgs')) assert.equal(fake.calls.length, calls, `${what} never reached the service`);
  }
  // busctl says the same (its own wording around the message); it sends any signature, which is refused by name.
  const b = await busctl('call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Snooze', 'ast', '0', '0');
  assert.notEqual(b.code, 0);
  assert.match(b.stderr, /seconds: expected a duration from 1 second to 30 days/);
  const calls = fake.calls.length;
  const text = await busctl('call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Snooze', 'ass', '1', 'docs', '2h');
  assert.notEqual(text.code, 0);
  assert.match(text.stderr, /'ast'/, text.stderr);
  assert.equal(fake.calls.length, calls, 'a wrong signature never reaches the service');
  assert.deepEqual(fake.snoozes(), snoozes);
  assert.equal((await busctl('call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Unsnooze', 'as', '0')).code, 0);
});

test('rbmctl status exits 0 or 13 and --short prints one line for each health value (separate processes)', { skip }, async () => {
  const lines: Record<JobHealth, string> = {
    ok: 'rbm: 2 ok',
    attention: 'rbm: 1 attention (docs)',
    failing: 'rbm: 1 failing (docs)',
    stale: 'rbm: 1 stale (docs)',
  };
  for (const health of HEALTHS) {
    fake.setHealth('docs', health, REASON[health]);
    const expected = health === 'ok' ? 0 : 13;
    const short = await rbmctl(['status', '--short']);
    assert.deepEqual([short.code, short.stdout, short.stderr], [expected, `${lines[health]}\n`, ''], health);
    const full = await rbmctl(['status']);
    assert.equal(full.code, expected, `${health}: ${full.stderr}`);
    assert.match(full.stdout, new RegExp(`^docs +idle +${health} +never +never`, 'm'), health);
    if (health !== 'ok') assert.match(full.stdout, new RegExp(`^docs: ${health}: ${REASON[health].replace(/[()]/g, '\\$&')}$`, 'm'), health);
    const json = await rbmctl(['status', '--json', 'docs']);
    assert.equal(json.code, expected, health);
    assert.deepEqual(((v: { health: string; health_reason: string }) => [v.health, v.health_reason])(JSON.parse(json.stdout) as { health: string; health_reason: string }), [health, REASON[health]]);
    // The exit code follows a job named on the command line only.
    assert.equal((await rbmctl(['status', 'photos', '--short'])).code, 0, health);
  }
  fake.setHealth('docs', 'ok');
});

test('rbmctl snooze docs 2h and unsnooze reach the API; bad ones exit 2 or 3 and change nothing', { skip }, async () => {
  const snoozeCalls = () => fake.calls.filter((c) => c.method === 'snooze' || c.method === 'unsnooze').map((c) => [c.method, ...c.args]);
  const start = snoozeCalls().length;
  const snooze = await rbmctl(['snooze', 'docs', '2h']);
  assert.equal(snooze.code, 0, snooze.stderr);
  assert.match(snooze.stdout, /^notifications snoozed for docs until \d\d:\d\d \(the state stays visible in rbmctl status\)$/m);
  const all = await rbmctl(['snooze', '1d']);
  assert.equal(all.code, 0, all.stderr);
  const unsnooze = await rbmctl(['unsnooze', 'docs']);
  assert.equal(unsnooze.code, 0, unsnooze.stderr);
  const unsnoozeAll = await rbmctl(['unsnooze']);
  assert.equal(unsnoozeAll.code, 0, unsnoozeAll.stderr);
  assert.deepEqual(snoozeCalls().slice(start), [['snooze', ['docs'], 7200], ['snooze', [], 86_400], ['unsnooze', ['docs']], ['unsnooze', []]]);
  assert.deepEqual(fake.snoozes(), { global: 0, jobs: { photos: 0, docs: 0 } });

  const unknown = await rbmctl(['snooze', 'nosuch', '2h']);
  assert.equal(unknown.code, 3, unknown.stderr);
  assert.match(unknown.stderr, /^rbmctl: no job named 'nosuch'/);
  for (const argv of [['snooze', 'docs', '0'], ['snooze', 'docs', '31d'], ['snooze', 'bad/name', '2h']]) {
    const r = await rbmctl(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
  }
  assert.deepEqual(snoozeCalls().slice(start + 4), [['snooze', ['nosuch'], 7200]], 'only the well-formed call reached the service');
  assert.deepEqual(fake.snoozes(), { global: 0, jobs: { photos: 0, docs: 0 } });
});
