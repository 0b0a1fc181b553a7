// The desktop notifier (src/platform/desktop-notifier.ts) against a real bus: no server is one log line (again only
// after a server answered and went away) and nothing is replayed later; GetCapabilities is asked once per server; a
// server that never answers costs one timeout, not a hang; signals from the server reach the callbacks.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nodeSocketAddress } from '../../src/dbus/address.js';
import { systemClock } from '../../src/platform/clock.js';
import { createDesktopNotifier, type DesktopNotification } from '../../src/platform/desktop-notifier.js';
import { startPrivateBus } from '../helpers/dbus-daemon.js';
import { notificationServersSkip, startMockNotificationServer } from '../helpers/notification-server.js';
import { run } from '../helpers/procs.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { fileAppears, recordingLogger, type Line } from '../helpers/notification-tests.js';

const skip = notificationServersSkip();

const note = (summary: string, replacesId = 0): DesktopNotification => ({
  appName: 'rclone-bisync-manager',
  replacesId,
  icon: 'dialog-warning',
  summary,
  body: 'body',
  actions: ['default', 'Show details', 'sync', 'Sync now'],
  urgency: 1,
  category: 'transfer.error',
  desktopEntry: 'rclone-bisync-manager',
  expireTimeoutMs: -1,
});

test('no server: one line; a server appears: shown, nothing replayed; it goes away: one line again', { skip }, async (t) => {
  const bus = await startPrivateBus();
  t.after(() => bus.stop());
  const lines: Line[] = [];
  const actions: [number, string][] = [];
  const closed: number[] = [];
  let serverChanges = 0;
  const notifier = createDesktopNotifier({
    busAddress: nodeSocketAddress(bus.address),
    clock: systemClock,
    logger: recordingLogger(lines),
    onAction: (id, key) => actions.push([id, key]),
    onClosed: (id) => closed.push(id),
    onServerChanged: () => serverChanges++,
  });
  t.after(() => notifier.close());
  const noServer = () => lines.filter((l) => l.message.startsWith('no desktop notification server answers')).length;

  assert.equal(await notifier.notify(note('missed 1')), undefined);
  assert.equal(await notifier.notify(note('missed 2')), undefined);
  assert.equal(noServer(), 1);
  assert.match(String(lines[0]!.meta.error), /ServiceUnknown|not provided by any \.service files/);
  assert.equal(lines[0]!.level, 'info');

  const mock = await startMockNotificationServer(t, bus.address);
  const id = await notifier.notify(note('shown'));
  assert.equal(id, 1);
  assert.equal(await notifier.notify(note('replaced', 1)), 1);
  const calls = await mock.notifyCalls();
  assert.deepEqual(calls.map((c) => [c.summary, c.replacesId]), [['shown', 0], ['replaced', 1]], 'what was missed is not replayed');
  assert.deepEqual(calls[0]!.hints, { urgency: { type: 'y', data: 1 }, category: { type: 's', data: 'transfer.error' }, 'desktop-entry': { type: 's', data: 'rclone-bisync-manager' } });
  assert.deepEqual(calls[0]!.actions, ['default', 'Show details', 'sync', 'Sync now']);
  assert.equal(calls[0]!.expireTimeout, -1);
  assert.ok(lines.some((l) => l.message === 'a desktop notification server answers again'));
  assert.deepEqual(await notifier.capabilities(), ['actions', 'body']);
  const getCaps = await run('busctl', ['--address', bus.address, '--json=short', 'call', 'org.freedesktop.Notifications', '/org/freedesktop/Notifications', 'org.freedesktop.DBus.Mock', 'GetMethodCalls', 's', 'GetCapabilities']);
  assert.equal((JSON.parse(getCaps.stdout) as { data: [unknown[]] }).data[0].length, 1, 'GetCapabilities asked once for this server');

  await mock.invokeAction(1, 'sync');
  await run('busctl', ['--address', bus.address, 'call', 'org.freedesktop.Notifications', '/org/freedesktop/Notifications', 'org.freedesktop.Notifications', 'CloseNotification', 'i', '1']);
  // A round trip through the server after the signals: they were sent before its reply.
  await notifier.notify(note('after the signals'));
  assert.deepEqual(actions, [[1, 'sync']]);
  assert.deepEqual(closed, [1]);

  await mock.stop();
  assert.equal(await notifier.notify(note('missed 3')), undefined);
  assert.equal(await notifier.notify(note('missed 4')), undefined);
  assert.equal(noServer(), 2, 'one more line after the server went away, and only one');
  assert.ok(serverChanges >= 1, 'the owner change was seen');
});

test('a server that never answers costs one timeout per call, not a hang', { skip }, async (t) => {
  const bus = await startPrivateBus();
  t.after(() => bus.stop());
  const mock = await startMockNotificationServer(t, bus.address);
  const dir = mkdtempSync(join(tmpdir(), 'rbm-notify-stuck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The mock blocks forever in GetCapabilities (a server stuck starting up), after leaving a marker: the call arrived.
  const code = `open('${join(dir, 'asked')}', 'w').close(); import time; time.sleep(3600); ret = []`;
  const r = await run('busctl', ['--address', bus.address, 'call', 'org.freedesktop.Notifications', '/org/freedesktop/Notifications', 'org.freedesktop.DBus.Mock', 'AddMethod', 'sssss', 'org.freedesktop.Notifications', 'GetCapabilities', '', 'as', code]);
  assert.equal(r.code, 0, r.stderr);
  const lines: Line[] = [];
  // The time limit fires when the test says so: once the server got the call (connect()'s AddMatch calls are answered by then).
  const clock = new FakeClock();
  const notifier = createDesktopNotifier({ busAddress: nodeSocketAddress(bus.address), clock, logger: recordingLogger(lines), timeoutMs: 300, onAction: () => undefined, onClosed: () => undefined, onServerChanged: () => undefined });
  t.after(() => notifier.close());
  const result = notifier.notify(note('stuck'));
  await fileAppears(join(dir, 'asked'));
  assert.equal(clock.pendingTimers(), 1, 'only the GetCapabilities call is waiting');
  clock.advance(300);
  assert.equal(await result, undefined);
  assert.deepEqual(lines.map((l) => [l.level, l.message.slice(0, 40), String(l.meta.error)]), [['info', 'no desktop notification server answers o', 'org.freedesktop.Notifications.GetCapabilities timed out after 300 ms']]);
  await mock.stop();
});
