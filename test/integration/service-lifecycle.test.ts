// The real service process on a private bus with a fake NOTIFY_SOCKET: READY/STATUS/RELOADING/STOPPING in order,
// reload by SIGHUP and by editing the file (in place and by rename), a broken edit kept out, a missing config recovered.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { startPrivateBus } from '../helpers/dbus-daemon.js';
import { createServiceEnv, statusMatching, serviceSuite } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'busctl', 'python3']);
const { rclone, skip } = suite;

/** Status() through busctl as a separate process: the job names it reports. */
function busJobs(address: string): string[] {
  const out = execFileSync('busctl', ['--address', address, '--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Status'], { encoding: 'utf8' });
  const reply = JSON.parse(out) as { data: [Record<string, { data: unknown }>] };
  const jobs = reply.data[0].jobs?.data as Record<string, unknown>[] | Record<string, unknown> | undefined;
  if (Array.isArray(jobs)) return jobs.map((j) => String((j.name as { data: string }).data));
  return Object.keys(jobs ?? {});
}

test('READY, STATUS, RELOADING/READY and STOPPING arrive in order; SIGHUP and file edits reload; a broken edit keeps the old jobs', { skip }, async (t) => {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  const { notify } = env;
  env.writeConfig(env.configText([{ name: 'alpha' }, { name: 'beta' }]));
  const daemon = env.start();
  const ready = await notify.waitFor((d) => d === 'READY=1');
  assert.equal(ready.pid, daemon.pid, 'sent by the main process (NotifyAccess=main)');
  const status = await notify.waitFor(statusMatching(/^2 jobs, idle$/));
  assert.ok(status.index < ready.index, 'the status line is set before READY=1');

  // SIGHUP reloads: RELOADING=1 (with MONOTONIC_USEC) then READY=1.
  let mark = notify.messages.length;
  daemon.child.kill('SIGHUP');
  const reloading = await notify.waitFor((d) => d.startsWith('RELOADING=1'), { from: mark });
  assert.match(reloading.data, /^RELOADING=1\nMONOTONIC_USEC=\d+$/);
  await notify.waitFor((d) => d === 'READY=1', { from: reloading.index });

  // An in-place write adds a job.
  mark = notify.messages.length;
  env.writeConfig(env.configText([{ name: 'alpha' }, { name: 'beta' }, { name: 'gamma' }]));
  const r2 = await notify.waitFor((d) => d.startsWith('RELOADING=1'), { from: mark });
  await notify.waitFor((d) => d === 'READY=1', { from: r2.index });
  await notify.waitFor(statusMatching(/^3 jobs, idle$/), { from: mark });
  assert.deepEqual(busJobs(suite.bus().address).sort(), ['alpha', 'beta', 'gamma']);

  // A save by rename removes one.
  mark = notify.messages.length;
  env.saveConfigByRename(env.configText([{ name: 'alpha' }, { name: 'gamma' }]));
  await notify.waitFor(statusMatching(/^2 jobs, idle$/), { from: mark });
  assert.deepEqual(busJobs(suite.bus().address).sort(), ['alpha', 'gamma']);

  // A broken edit is reported and the old jobs stay.
  mark = notify.messages.length;
  env.writeConfig(env.configText([{ name: 'alpha', schedule: 'every tuesday' }, { name: 'gamma' }]));
  const broken = await notify.waitFor(statusMatching(/^config error: .*schedule.*; last good config in force; 2 jobs, idle$/), { from: mark });
  assert.deepEqual(busJobs(suite.bus().address).sort(), ['alpha', 'gamma']);
  assert.match(daemon.output(), /config not loaded; keeping the last good config/);
  // Reload over D-Bus (what ExecReload= runs) fails with InvalidConfig, and the old jobs still stay.
  const reply = spawnSync('busctl', ['--address', suite.bus().address, 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Reload'], { encoding: 'utf8' });
  assert.notEqual(reply.status, 0);
  assert.match(reply.stderr, /schedule/);
  assert.deepEqual(busJobs(suite.bus().address).sort(), ['alpha', 'gamma']);

  // Fixing it recovers.
  env.saveConfigByRename(env.configText([{ name: 'alpha' }, { name: 'delta' }]));
  await notify.waitFor(statusMatching(/^2 jobs, idle$/), { from: broken.index });
  assert.deepEqual(busJobs(suite.bus().address).sort(), ['alpha', 'delta']);

  mark = notify.messages.length;
  daemon.child.kill('SIGTERM');
  await notify.waitFor((d) => d === 'STOPPING=1', { from: mark });
  assert.deepEqual(await daemon.exited, { code: 0, signal: null });
  const kinds = notify.messages.map((m) => m.data.split('\n')[0]!.replace(/^STATUS=.*/, 'STATUS')).filter((k) => k !== 'STATUS');
  assert.equal(kinds[0], 'READY=1');
  assert.equal(kinds.at(-1), 'STOPPING=1');
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] === 'RELOADING=1') assert.equal(kinds[i + 1], 'READY=1', 'every RELOADING=1 is followed by READY=1');
  }
});

test('starting with a missing config does not crash and picks the file up when it is created', { skip }, async (t) => {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  const { notify } = env;
  assert.equal(existsSync(env.configPath), false);
  const daemon = env.start();
  await notify.waitFor((d) => d === 'READY=1');
  await notify.waitFor(statusMatching(/^config error: config file .*config\.yaml does not exist; no config loaded; 0 jobs, idle$/));
  const mark = notify.messages.length;
  env.saveConfigByRename(env.configText([{ name: 'late' }]));
  await notify.waitFor(statusMatching(/^1 job, idle$/), { from: mark });
  assert.deepEqual(busJobs(suite.bus().address), ['late']);
  daemon.child.kill('SIGTERM');
  assert.deepEqual(await daemon.exited, { code: 0, signal: null });
});

test('a second instance on the same bus exits 1 and says another instance is running', { skip }, async (t) => {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  env.writeConfig(env.configText([{ name: 'one' }]));
  const first = env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  const second = env.start();
  const result = await second.exited;
  assert.deepEqual(result, { code: 1, signal: null });
  assert.match(second.output(), /another instance is running/i);
  assert.equal(env.notify.messages.filter((m) => m.data === 'READY=1' && m.pid === second.pid).length, 0, 'the loser never reports ready');
  first.child.kill('SIGTERM');
  assert.deepEqual(await first.exited, { code: 0, signal: null });
});

test('AddJob over D-Bus writes the job into the file (comments kept), schedules it and runs its first sync; RemoveJob takes it out', { skip }, async (t) => {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  const { notify } = env;
  env.writeConfig('# my sync jobs\n' + env.configText([{ name: 'kept' }]));
  const daemon = env.start();
  await notify.waitFor((d) => d === 'READY=1');
  const remote = join(env.syncRoot, 'remote', 'added');
  mkdirSync(join(env.syncRoot, 'local', 'added'), { recursive: true });
  writeFileSync(join(env.syncRoot, 'local', 'added', 'hello.txt'), 'hello\n');
  mkdirSync(remote, { recursive: true });
  const mark = notify.messages.length;
  const call = (...args: string[]): string => execFileSync('busctl', ['--address', suite.bus().address, 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, ...args], { encoding: 'utf8' });
  call('AddJob', 'sa{sv}', 'added', '4', 'local', 's', 'added', 'rclone_remote', 's', '', 'remote', 's', remote, 'schedule', 's', '0 0 1 1 *');
  const text = readFileSync(env.configPath, 'utf8');
  assert.match(text, /^# my sync jobs$/m);
  assert.match(text, /^ {2}added:$/m);
  const running = await notify.waitFor(statusMatching(/^2 jobs, 1 running: added$/), { from: mark });
  await notify.waitFor(statusMatching(/^2 jobs, idle$/), { from: running.index });
  assert.equal(readFileSync(join(remote, 'hello.txt'), 'utf8'), 'hello\n', 'the first sync ran');
  call('RemoveJob', 's', 'added');
  assert.doesNotMatch(readFileSync(env.configPath, 'utf8'), /^ {2}added:$/m);
  assert.deepEqual(busJobs(suite.bus().address), ['kept']);
  daemon.child.kill('SIGTERM');
  assert.deepEqual(await daemon.exited, { code: 0, signal: null });
});

test('losing the session bus makes the service stop and exit non-zero (so systemd restarts it) instead of hanging', { skip }, async (t) => {
  const ownBus = await startPrivateBus();
  t.after(() => ownBus.stop());
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: ownBus.address });
  env.writeConfig(env.configText([{ name: 'solo' }]));
  const daemon = env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  await ownBus.stop();
  await env.notify.waitFor((d) => d === 'STOPPING=1');
  assert.deepEqual(await daemon.exited, { code: 1, signal: null });
  assert.match(daemon.output(), /lost the session bus connection/);
});
