// The system-bus monitor against python-dbusmock's networkmanager, upower and logind templates on a private
// "system" bus (DBUS_SYSTEM_BUS_ADDRESS): initial facts, PropertiesChanged in order, the network coming back,
// battery, PrepareForSleep, a service that appears late or goes away, no system bus at all, and close().
// Every wait is on an event (a change, a sleep signal, a name leaving the bus), never a sleep.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as dbus from 'dbus-next';
import { createSystemMonitor, type SystemMonitor } from '../../src/platform/system-monitor.js';
import { UNKNOWN_FACTS, becameMetered, networkCameBack, type SystemFacts } from '../../src/sysbus/facts.js';
import { RecordingLogger } from '../helpers/fake-spawner.js';
import { LOGIND, NM, UPOWER, startSystemBus, systemBusSkip, type SystemBus } from '../helpers/system-bus.js';

const skip = systemBusSkip();
// The time limit only turns a wait that never ends (an event that never came) into a failure; nothing is measured.
const options = { skip, timeout: 60_000 };
const CHILD = fileURLToPath(new URL('../fixtures/bin/system-monitor-child.ts', import.meta.url));
const u32 = (n: number): dbus.Variant => new dbus.Variant('u', n);

interface Change {
  facts: SystemFacts;
  before: SystemFacts;
}

/** A monitor on the test bus, with every change and sleep event it reported, and waits on them. */
interface Watched {
  monitor: SystemMonitor;
  logger: RecordingLogger;
  changes: Change[];
  sleeps: boolean[];
  /** Resolves once `holds()` is true, checked now and after each event. */
  until(what: string, holds: () => boolean): Promise<void>;
}

async function watch(t: TestContext, env: Record<string, string>, timeoutMs?: number): Promise<Watched> {
  const logger = new RecordingLogger();
  const monitor = createSystemMonitor({ logger, env, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  t.after(() => monitor.close());
  const changes: Change[] = [];
  const sleeps: boolean[] = [];
  const waiters = new Set<() => void>();
  const check = (): void => {
    for (const w of [...waiters]) w();
  };
  monitor.on('change', (facts, before) => {
    changes.push({ facts, before });
    check();
  });
  monitor.on('sleep', (preparing) => {
    sleeps.push(preparing);
    check();
  });
  await monitor.ready;
  changes.length = 0; // the first reading's own changes (from UNKNOWN_FACTS) are not what the tests look at
  return {
    monitor,
    logger,
    changes,
    sleeps,
    until(_what, holds) {
      return new Promise<void>((resolve) => {
        const w = (): void => {
          if (!holds()) return;
          waiters.delete(w);
          resolve();
        };
        waiters.add(w);
        w();
      });
    },
  };
}

async function busWithMocks(t: TestContext, templates: ('networkmanager' | 'upower' | 'logind')[] = ['networkmanager', 'upower', 'logind']): Promise<SystemBus> {
  const bus = await startSystemBus(t);
  await Promise.all(templates.map((template) => bus.startMock(template)));
  return bus;
}

const missingLines = (logger: RecordingLogger, service: string): string[] => logger.messages().filter((m) => m.startsWith(`${service} is not available on the system bus`));

test('initial facts come from GetAll and the display device; logind Inhibit is not called on a connection without fds', options, async (t) => {
  const bus = await busWithMocks(t);
  await bus.addProperty(NM, NM.iface, 'Metered', u32(4)); // guess-no; the template has no Metered
  const { monitor, logger } = await watch(t, bus.env);
  assert.deepEqual(monitor.facts(), {
    network: { available: true, state: 'connected-global', connectivity: 'full', metered: false },
    power: { available: true, onBattery: false, batteryPercent: undefined },
    sleep: { available: true },
  });
  assert.deepEqual(logger.messages().filter((m) => m.includes('not available')), []);
  assert.equal(logger.messages().filter((m) => m.startsWith('no logind delay lock')).length, 1);
  // The Inhibit reply carries an fd this connection cannot take: the call would never return, so it is not made.
  const [calls] = await bus.call(LOGIND.name, LOGIND.path, 'org.freedesktop.DBus.Mock', 'GetMethodCalls', 's', ['Inhibit']);
  assert.deepEqual(calls, []);
});

test('Metered 0 → 1 → 2 through Properties.Set gives two change events, in order', options, async (t) => {
  const bus = await busWithMocks(t);
  await bus.addProperty(NM, NM.iface, 'Metered', u32(0));
  const w = await watch(t, bus.env);
  assert.equal(w.monitor.facts().network.metered, undefined, 'unknown is not metered and not unmetered');
  await bus.setProperty(NM, NM.iface, 'Metered', u32(1));
  await w.until('metered', () => w.monitor.facts().network.metered === true);
  await bus.setProperty(NM, NM.iface, 'Metered', u32(2));
  await w.until('not metered', () => w.monitor.facts().network.metered === false);
  assert.deepEqual(w.changes.map((c) => [c.before.network.metered, c.facts.network.metered]), [[undefined, true], [true, false]]);
  assert.deepEqual(w.changes.map((c) => becameMetered(c.before, c.facts)), [true, false]);
});

test('State and Connectivity going down and back up: networkCameBack on each return, and only then', options, async (t) => {
  const bus = await busWithMocks(t);
  const w = await watch(t, bus.env);
  await bus.updateProperties(NM, NM.iface, { State: u32(20), Connectivity: u32(1) });
  await w.until('disconnected', () => w.monitor.facts().network.state === 'disconnected' && w.monitor.facts().network.connectivity === 'none');
  await bus.updateProperties(NM, NM.iface, { State: u32(70), Connectivity: u32(4) });
  await w.until('connected', () => w.monitor.facts().network.state === 'connected-global');
  // A site connection with limited connectivity, then NetworkManager's connectivity check says full (template helper).
  await bus.updateProperties(NM, NM.iface, { State: u32(60), Connectivity: u32(3) });
  await w.until('site', () => w.monitor.facts().network.state === 'connected-site');
  await bus.call(NM.name, NM.path, 'org.freedesktop.DBus.Mock', 'SetConnectivity', 'u', [4]);
  await w.until('full', () => w.monitor.facts().network.connectivity === 'full');
  assert.deepEqual(
    w.changes.map((c) => [c.facts.network.state, c.facts.network.connectivity, networkCameBack(c.before, c.facts)]),
    [
      ['disconnected', 'none', false],
      ['connected-global', 'full', true],
      ['connected-site', 'limited', false],
      ['connected-site', 'full', true],
    ],
  );
});

test('OnBattery and the display device: on battery at 15 %, then 14.5 %; a device that is no battery has no percentage', options, async (t) => {
  const bus = await busWithMocks(t);
  const w = await watch(t, bus.env);
  assert.deepEqual(w.monitor.facts().power, { available: true, onBattery: false, batteryPercent: undefined });
  await bus.setProperty(UPOWER, UPOWER.iface, 'OnBattery', new dbus.Variant('b', true));
  await w.until('on battery', () => w.monitor.facts().power.onBattery);
  const setDevice = (props: Record<string, dbus.Variant>) => bus.call(UPOWER.name, UPOWER.path, 'org.freedesktop.DBus.Mock', 'SetDeviceProperties', 'oa{sv}', [UPOWER.display, props]);
  // The mock sets them one by one, one PropertiesChanged each: the percentage first, so no stale one shows.
  await setDevice({ Percentage: new dbus.Variant('d', 15), Type: u32(2), IsPresent: new dbus.Variant('b', true) });
  await w.until('15 %', () => w.monitor.facts().power.batteryPercent === 15);
  await setDevice({ Percentage: new dbus.Variant('d', 14.5) });
  await w.until('14.5 %', () => w.monitor.facts().power.batteryPercent === 14.5);
  await setDevice({ Type: u32(3) }); // a UPS
  await w.until('no battery', () => w.monitor.facts().power.batteryPercent === undefined);
  await bus.setProperty(UPOWER, UPOWER.iface, 'OnBattery', new dbus.Variant('b', false));
  await w.until('AC', () => !w.monitor.facts().power.onBattery);
  assert.deepEqual(w.changes.map((c) => [c.facts.power.onBattery, c.facts.power.batteryPercent]), [
    [true, undefined],
    [true, 15],
    [true, 14.5],
    [true, undefined],
    [false, undefined],
  ]);
});

test('PrepareForSleep true, then false, arrive as sleep events in order', options, async (t) => {
  const bus = await busWithMocks(t);
  const w = await watch(t, bus.env);
  await bus.emitSignal(LOGIND, LOGIND.iface, 'PrepareForSleep', 'b', [new dbus.Variant('b', true)]);
  await w.until('suspend', () => w.sleeps.length === 1);
  await bus.emitSignal(LOGIND, LOGIND.iface, 'PrepareForSleep', 'b', [new dbus.Variant('b', false)]);
  await w.until('resume', () => w.sleeps.length === 2);
  assert.deepEqual(w.sleeps, [true, false]);
  assert.deepEqual(w.changes, [], 'a sleep signal changes no fact');
  assert.deepEqual(w.logger.messages().filter((m) => m.startsWith('the machine')), ['the machine is about to suspend', 'the machine resumed']);
});

test('NetworkManager started after the monitor is picked up and followed; killed, it becomes unavailable; one line per absence', options, async (t) => {
  const bus = await busWithMocks(t, ['upower', 'logind']);
  const w = await watch(t, bus.env);
  assert.deepEqual(w.monitor.facts().network, UNKNOWN_FACTS.network);
  assert.equal(w.monitor.facts().power.available, true);
  assert.equal(missingLines(w.logger, NM.name).length, 1);
  const nm = await bus.startMock('networkmanager');
  await w.until('NetworkManager appeared', () => w.monitor.facts().network.available);
  assert.deepEqual(w.monitor.facts().network, { available: true, state: 'connected-global', connectivity: 'full', metered: undefined });
  assert.equal(networkCameBack(w.changes[0]!.before, w.changes[0]!.facts), false, 'NetworkManager appearing is not the network coming back');
  assert.ok(w.logger.messages().includes(`${NM.name} answers on the system bus again`));
  // Its signals are followed (the new owner's, not the missing one's).
  await bus.updateProperties(NM, NM.iface, { State: u32(20) });
  await w.until('disconnected', () => w.monitor.facts().network.state === 'disconnected');
  await nm.stop();
  await w.until('NetworkManager gone', () => !w.monitor.facts().network.available);
  assert.deepEqual(w.monitor.facts().network, UNKNOWN_FACTS.network);
  assert.equal(w.monitor.facts().power.available, true, 'the other parts are untouched');
  assert.equal(w.monitor.facts().sleep.available, true);
  assert.equal(missingLines(w.logger, NM.name).length, 2, 'one line at start, one when it went away');
  assert.deepEqual(w.changes.map((c) => [c.facts.network.available, c.facts.network.state]), [
    [true, 'connected-global'],
    [true, 'disconnected'],
    [false, 'unknown'],
  ]);
});

test('a service that keeps its name but does not answer: the reading gives up, and the next signal from it reads it again', options, async (t) => {
  const bus = await startSystemBus(t);
  const [nm] = await Promise.all([bus.startMock('networkmanager'), bus.startMock('upower'), bus.startMock('logind')]);
  nm.pause();
  // Any time limit shows it: a stopped process never answers (a short one keeps the test short).
  const w = await watch(t, bus.env, 300);
  assert.deepEqual(w.monitor.facts().network, UNKNOWN_FACTS.network);
  assert.equal(w.monitor.facts().power.available, true);
  const lines = w.logger.entries.filter((e) => e.message.startsWith(`${NM.name} is not available`));
  assert.equal(lines.length, 1);
  assert.match(String(lines[0]!.meta['error']), /timed out after 300 ms/);
  nm.resume();
  await bus.updateProperties(NM, NM.iface, { State: u32(60) });
  await w.until('read again', () => w.monitor.facts().network.available);
  assert.deepEqual(w.monitor.facts().network, { available: true, state: 'connected-site', connectivity: 'full', metered: undefined });
  assert.equal(w.logger.messages().filter((m) => m.startsWith(`${NM.name} is not available`)).length, 1, 'not repeated');
});

test('no system bus at all: every part unavailable, one line each, nothing thrown, close() works', options, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-nobus-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const w = await watch(t, { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${join(dir, 'no-such-socket')}` });
  assert.deepEqual(w.monitor.facts(), UNKNOWN_FACTS);
  assert.deepEqual(w.changes, []);
  for (const service of [NM.name, UPOWER.name, LOGIND.name]) assert.equal(missingLines(w.logger, service).length, 1, service);
  assert.equal(w.logger.messages('info').length, 3, w.logger.messages().join('\n'));
  for (const entry of w.logger.entries.filter((e) => e.level === 'info')) assert.match(String(entry.meta['error']), /ENOENT/);
  assert.deepEqual(w.logger.messages('error'), []);
  await w.monitor.close();
  assert.deepEqual(w.monitor.facts(), UNKNOWN_FACTS);
});

test('the system bus going away: every part becomes unavailable, one line each', options, async (t) => {
  const bus = await busWithMocks(t);
  const w = await watch(t, bus.env);
  assert.equal(w.monitor.facts().network.available && w.monitor.facts().power.available && w.monitor.facts().sleep.available, true);
  await bus.stopDaemon();
  await w.until('all gone', () => !w.monitor.facts().network.available && !w.monitor.facts().power.available && !w.monitor.facts().sleep.available);
  assert.deepEqual(w.monitor.facts(), UNKNOWN_FACTS);
  for (const service of [NM.name, UPOWER.name, LOGIND.name]) assert.equal(missingLines(w.logger, service).length, 1, service);
});

test('close() leaves the bus: the monitor connection disappears from it', options, async (t) => {
  const bus = await busWithMocks(t);
  const listNames = async (): Promise<string[]> => (await bus.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'ListNames', '', []))[0] as string[];
  const earlier = new Set(await listNames());
  const w = await watch(t, bus.env);
  const added = (await listNames()).filter((n) => n.startsWith(':') && !earlier.has(n));
  assert.equal(added.length, 1, `one new connection: ${added.join(' ')}`);
  const monitorName = added[0]!;
  // Wait for the bus to say the monitor's connection went away (its unique name loses its owner).
  const probe = dbus.sessionBus({ busAddress: bus.address });
  t.after(() => probe.disconnect());
  await probe.call(new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'AddMatch', signature: 's', body: [`type='signal',member='NameOwnerChanged',arg0='${monitorName}'`] }));
  const left = new Promise<void>((resolve) => {
    probe.on('message', (msg: dbus.Message) => {
      if (msg.member === 'NameOwnerChanged' && msg.body[0] === monitorName && msg.body[2] === '') resolve();
    });
  });
  await w.monitor.close();
  await left;
  assert.ok(!(await listNames()).includes(monitorName));
  assert.deepEqual(w.logger.messages().filter((m) => m.includes('not available')), [], 'closing is not a service going away');
});

/** Runs the child fixture on the bus; resolves with its JSON line once it exited by itself. */
function runChild(env: Record<string, string>, mode: 'close' | 'leave'): Promise<{ code: number | null; out: { facts: SystemFacts; before: string[]; after: string[] } }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out: JSON.parse(stdout) as { facts: SystemFacts; before: string[]; after: string[] } }));
  });
}

test('the monitor never keeps the process alive: the process exits by itself after close(), and without it', options, async (t) => {
  const bus = await busWithMocks(t);
  for (const mode of ['close', 'leave'] as const) {
    const { code, out } = await runChild(bus.env, mode);
    assert.equal(code, 0, mode);
    assert.equal(out.facts.network.available, true, `${mode}: it did read the bus`);
    assert.deepEqual(out.after.sort(), out.before.sort(), `${mode}: no resource keeps the loop alive`);
  }
});
