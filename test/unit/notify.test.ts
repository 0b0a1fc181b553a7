// The notifier: silent without NOTIFY_SOCKET, one info line without the addon (readiness is Type=dbus), exact sd_notify strings with it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNotifier, nullNotifier, type SdNotifyAddon } from '../../src/platform/notify.js';
import type { Logger, LogMeta } from '../../src/ports.js';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, _meta?: LogMeta) => lines.push(`${level}: ${message}`);
  const logger = { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

function fakeAddon(watchdogMs = 0): SdNotifyAddon & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    ready: () => sent.push('ready()'),
    stopping: () => sent.push('stopping()'),
    watchdog: () => sent.push('WATCHDOG=1'),
    watchdogInterval: () => watchdogMs,
    sendState: (s: string) => sent.push(s),
  };
}

test('without NOTIFY_SOCKET the addon is never loaded and nothing is sent', async () => {
  let loaded = false;
  const logger = recordingLogger();
  const n = await createNotifier({ env: {}, logger, loadAddon: () => { loaded = true; return Promise.resolve(fakeAddon()); } });
  assert.equal(n, nullNotifier);
  n.ready();
  assert.equal(loaded, false);
  assert.deepEqual(logger.lines, []);
});

test('with NOTIFY_SOCKET but no addon it says so once (info: the unit does not need it) and degrades to no-ops', async () => {
  const logger = recordingLogger();
  const n = await createNotifier({ env: { NOTIFY_SOCKET: '/run/x' }, logger, loadAddon: () => Promise.reject(new Error('Cannot find module sd-notify')) });
  n.ready();
  n.status('x');
  assert.equal(logger.lines.length, 1);
  assert.match(logger.lines[0]!, /^info: NOTIFY_SOCKET is set but the sd-notify addon could not be loaded/);
});

test('messages are sent as exact sd_notify strings; identical STATUS lines are not repeated', async () => {
  const addon = fakeAddon();
  const n = await createNotifier({ env: { NOTIFY_SOCKET: '/run/x' }, logger: recordingLogger(), loadAddon: () => Promise.resolve(addon) });
  n.ready();
  n.status('2 jobs, idle');
  n.status('2 jobs, idle');
  n.status('config error: bad\nsecond line');
  n.reloading();
  n.stopping();
  assert.equal(addon.sent[0], 'READY=1');
  assert.equal(addon.sent[1], 'STATUS=2 jobs, idle');
  assert.equal(addon.sent[2], 'STATUS=config error: bad second line');
  assert.match(addon.sent[3]!, /^RELOADING=1\nMONOTONIC_USEC=\d+$/);
  assert.equal(addon.sent[4], 'STOPPING=1');
  assert.equal(addon.sent.length, 5);
});

test('the watchdog pings only when WATCHDOG_USEC is set, and stops on stopping()', async () => {
  const off = fakeAddon(0);
  const n0 = await createNotifier({ env: { NOTIFY_SOCKET: '/run/x' }, logger: recordingLogger(), loadAddon: () => Promise.resolve(off) });
  n0.startWatchdog();
  assert.deepEqual(off.sent, []);
  const on = fakeAddon(20);
  const n = await createNotifier({ env: { NOTIFY_SOCKET: '/run/x' }, logger: recordingLogger(), loadAddon: () => Promise.resolve(on) });
  n.startWatchdog();
  const pings = (): number => on.sent.filter((s) => s === 'WATCHDOG=1').length;
  for (let i = 0; i < 500 && pings() < 3; i++) await new Promise((r) => setTimeout(r, 10));
  n.stopping();
  assert.ok(pings() >= 3, `expected repeated pings, got ${pings()}`);
  const after = on.sent.length;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(on.sent.length, after, 'no pings after stopping');
});

test('the real sd-notify addon loads (it is an optional dependency)', async (t) => {
  try {
    const name = 'sd-notify';
    await import(name);
  } catch {
    if (process.env.CI === 'true') throw new Error('CI=true and the sd-notify addon is not built');
    t.skip('the sd-notify addon is not built here');
    return;
  }
  const n = await createNotifier({ env: { NOTIFY_SOCKET: '/nonexistent/socket' }, logger: recordingLogger() });
  assert.notEqual(n, nullNotifier);
  n.ready(); // sd_notify to a missing socket fails silently
});
