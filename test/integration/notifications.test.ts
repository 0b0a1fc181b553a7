// Issue 15 point 1 end to end: the real service process with a real rclone on a private session bus, and real
// notification servers on that bus (dunst under Xvfb; python-dbusmock's notification daemon for actions).
// A safety abort → ONE critical notification naming the job and the count; approve and run → the "healthy again"
// notification replacing it (same id). "Sync now" from a notification runs that job. 20 jobs failing at once → at
// most a few notifications. No server on the bus → runs and states unaffected, exactly one log line.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { hashOf, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { notificationServersSkip, startDunst, startMockNotificationServer } from '../helpers/notification-server.js';
import { fileAppears, waitForOutput } from '../helpers/notification-tests.js';
import { run } from '../helpers/procs.js';
import { createServiceEnv, serviceSuite, statusMatching, type ServiceEnv } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'busctl']);
const { rclone } = suite;
const skip = suite.skip || notificationServersSkip();

const MTIME = 1_700_000_000;
const NAMES = Array.from({ length: 20 }, (_, i) => `f${String(i + 1).padStart(2, '0')}.txt`);
const content = (name: string): string => `content of ${name}\n`;
const hashes = (names: readonly string[]): Record<string, string> => Object.fromEntries([...names].sort().map((n) => [n, hashOf(content(n))]));
const LIMITS = '    rclone_options:\n      max-delete: 25';

function sides(env: ServiceEnv, job: string): { local: string; remote: string } {
  return { local: join(env.syncRoot, 'local', job), remote: join(env.syncRoot, 'remote', job) };
}

function seed(env: ServiceEnv, job: string, names: readonly string[] = NAMES): void {
  for (const name of names) {
    writeFiles(sides(env, job).local, { [name]: content(name) });
    utimesSync(join(sides(env, job).local, name), MTIME, MTIME);
  }
}

function rbmctl(env: ServiceEnv, args: string[]) {
  return run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], { cwd: PROJECT_ROOT, env: env.env });
}

async function pendingToken(job: string): Promise<string> {
  const r = await run('busctl', ['--address', suite.bus().address, '--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'PendingApproval', 'suu', job, '0', '0']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { data: [string, number, string[]] }).data[0];
}

/** A stand-in for x-terminal-emulator (the default details command) that records its arguments in `file`. */
function fakeTerminal(env: ServiceEnv): string {
  const bin = join(env.dir, 'bin');
  const file = join(env.dir, 'terminal-args');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'x-terminal-emulator'), `#!/bin/sh\necho "$*" > "${file}.tmp" && mv "${file}.tmp" "${file}"\n`);
  chmodSync(join(bin, 'x-terminal-emulator'), 0o755);
  env.env.PATH = `${bin}:${env.env.PATH ?? ''}`;
  return file;
}

async function startService(t: TestContext, jobs: string[], extra = LIMITS, beforeStart: (env: ServiceEnv) => void = () => undefined) {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  beforeStart(env);
  env.writeConfig(env.configText(jobs.map((name) => ({ name, extra }))));
  for (const job of jobs) seed(env, job);
  const daemon = env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  await env.notify.waitFor(statusMatching(new RegExp(`^${jobs.length} jobs?, idle$`)));
  return { env, daemon };
}

test('a safety abort shows one critical notification naming the job and the count; approving replaces it with "healthy again"', { skip }, async (t) => {
  const dunst = await startDunst(t, suite.bus().address);
  let terminalArgs = '';
  const { env } = await startService(t, ['docs'], LIMITS, (e) => (terminalArgs = fakeTerminal(e)));
  const first = await rbmctl(env, ['sync', 'docs', '--wait']);
  assert.equal(first.code, 0, first.stdout + first.stderr);

  const twelve = NAMES.slice(0, 12);
  for (const name of twelve) unlinkSync(join(sides(env, 'docs').local, name));
  const parked = await rbmctl(env, ['sync', 'docs', '--wait']);
  assert.equal(parked.code, 7, parked.stdout + parked.stderr);
  const problem = await dunst.waitFor((n) => n.appname === 'rclone-bisync-manager', 'the approval notification');
  assert.equal(problem.summary, 'docs: approve 12 changes?');
  assert.match(problem.body, /The sync stopped before deleting 12 files: .*f01\.txt, .*f02\.txt, .*f03\.txt and 9 more\. Nothing was deleted\. Review the list with: rbmctl approve docs/);
  assert.deepEqual([problem.urgency, problem.category, problem.desktopEntry, problem.icon], ['CRITICAL', 'transfer.error', 'rclone-bisync-manager', 'dialog-error']);
  assert.deepEqual(problem.actions, { default: 'Review…' }, 'dunst reports actions: the only one shows the list; nothing approves from here');
  assert.deepEqual(treeHashes(sides(env, 'docs').remote), hashes(NAMES), 'parked: nothing deleted');

  // A click opens the details command showing the list (rbmctl approve asks in the terminal); nothing is approved.
  await dunst.click(0);
  assert.equal((await fileAppears(terminalArgs)).trim(), '-e rbmctl approve docs');
  const still = JSON.parse((await rbmctl(env, ['status', '--json'])).stdout) as { jobs: { name: string; state: string }[] };
  assert.deepEqual(still.jobs.map((j) => [j.name, j.state]), [['docs', 'needs-approval']]);
  assert.deepEqual(treeHashes(sides(env, 'docs').remote), hashes(NAMES), 'the click deleted nothing');

  const approved = await rbmctl(env, ['approve', 'docs', '--yes', '--token', await pendingToken('docs')]);
  assert.equal(approved.code, 0, approved.stdout + approved.stderr);
  const healthy = await dunst.waitFor((n) => n.summary === 'docs: healthy again', 'the healthy-again notification');
  assert.equal(healthy.id, problem.id, 'it replaces the approval notification');
  assert.deepEqual([healthy.urgency, healthy.category], ['LOW', 'transfer.complete']);
  assert.deepEqual(
    dunst.shown().filter((n) => n.appname === 'rclone-bisync-manager').map((n) => [n.id, n.summary]),
    [[problem.id, 'docs: approve 12 changes?'], [problem.id, 'docs: healthy again']],
    'the ordinary first sync and the approved run showed nothing else',
  );
  assert.deepEqual(treeHashes(sides(env, 'docs').local), hashes(NAMES.slice(12)));
  assert.deepEqual(treeHashes(sides(env, 'docs').remote), hashes(NAMES.slice(12)));
});

test('"Sync now" on a failed safety check runs that job; the recovery replaces the notification', { skip }, async (t) => {
  const mock = await startMockNotificationServer(t, suite.bus().address);
  const { env, daemon } = await startService(t, ['usb', 'other']);
  assert.equal((await rbmctl(env, ['sync', 'usb', 'other', '--wait'])).code, 0);

  // The other side is gone (a drive not mounted): the run refuses to touch the pair.
  rmSync(sides(env, 'usb').remote, { recursive: true, force: true });
  const refused = await rbmctl(env, ['sync', 'usb', '--wait']);
  assert.notEqual(refused.code, 0, refused.stdout + refused.stderr);
  const [notice] = await mock.waitForNotifyCalls(1);
  assert.equal(notice!.summary, 'usb: safety check failed: drive not mounted?');
  assert.deepEqual(notice!.actions, ['default', 'Show details', 'sync', 'Sync now']);
  assert.deepEqual(notice!.hints.urgency, { type: 'y', data: 2 });
  assert.deepEqual(notice!.hints.category, { type: 's', data: 'transfer.error' });
  assert.deepEqual(notice!.hints['desktop-entry'], { type: 's', data: 'rclone-bisync-manager' });
  assert.equal(notice!.appName, 'rclone-bisync-manager');

  // The drive is back; the person clicks "Sync now" (the mock's first id is 1).
  seedRemote(env, 'usb');
  const runsBefore = await historyCount(env, 'usb');
  await mock.invokeAction(1, 'sync');
  const [, recovery] = await mock.waitForNotifyCalls(2);
  assert.equal(recovery!.summary, 'usb: healthy again');
  assert.equal(recovery!.replacesId, 1);
  const runs = JSON.parse((await rbmctl(env, ['history', 'usb', '--json'])).stdout) as { trigger: string; result: string }[];
  assert.equal(runs.length, runsBefore + 1, 'one more run');
  assert.deepEqual([runs[0]!.trigger, runs[0]!.result], ['manual', 'no-changes'], 'the drive came back unchanged');
  await waitForOutput(daemon, (out) => /\[usb\] "Sync now" from a notification/.test(out));
  assert.equal(daemon.output().split('\n').filter((l) => /\[usb\] "Sync now" from a notification/.test(l)).length, 1);
  assert.equal((await historyCount(env, 'other')), 1, 'only that job ran');
  assert.deepEqual(treeHashes(sides(env, 'usb').remote), hashes(NAMES));
});

function seedRemote(env: ServiceEnv, job: string): void {
  for (const name of NAMES) {
    writeFiles(sides(env, job).remote, { [name]: content(name) });
    utimesSync(join(sides(env, job).remote, name), MTIME, MTIME);
  }
}

async function historyCount(env: ServiceEnv, job: string): Promise<number> {
  const r = await rbmctl(env, ['history', job, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as unknown[]).length;
}

test('with no notification server on the bus, runs and states are unaffected and one line is logged', { skip }, async (t) => {
  const { env, daemon } = await startService(t, ['docs', 'photos']);
  assert.equal((await rbmctl(env, ['sync', 'docs', 'photos', '--wait'])).code, 0);
  for (const job of ['docs', 'photos']) for (const name of NAMES.slice(0, 12)) unlinkSync(join(sides(env, job).local, name));
  const parked = await rbmctl(env, ['sync', 'docs', 'photos', '--wait']);
  assert.equal(parked.code, 7, parked.stdout + parked.stderr);
  const status = JSON.parse((await rbmctl(env, ['status', '--json'])).stdout) as { jobs: { name: string; state: string }[] };
  assert.deepEqual(status.jobs.map((j) => [j.name, j.state]), [['docs', 'needs-approval'], ['photos', 'needs-approval']]);
  for (const job of ['docs', 'photos']) assert.deepEqual(treeHashes(sides(env, job).remote), hashes(NAMES), `${job}: nothing deleted`);
  // Both events reached the log at their priority; the missing server was reported once.
  await waitForOutput(daemon, (out) => (out.match(/needs a look \(attention\)/g) ?? []).length === 2 && out.includes('no desktop notification server answers'));
  const lines = daemon.output().split('\n');
  assert.equal(lines.filter((l) => l.includes('no desktop notification server answers')).length, 1, daemon.output());
  assert.equal(lines.filter((l) => /needs a look \(attention\)/.test(l) && /ERROR/.test(l)).length, 2);
});

test('20 jobs failing at once (a remote missing from rclone.conf) give at most a few notifications', { skip }, async (t) => {
  const dunst = await startDunst(t, suite.bus().address);
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  const names = Array.from({ length: 20 }, (_, i) => `job${String(i + 1).padStart(2, '0')}`);
  // Every job names a remote rclone has never heard of: each run fails before touching anything.
  const text = env.configText(names.map((name) => ({ name })), 'max_parallel_jobs: 20').replace(/rclone_remote: ""\n(\s+)remote: .*\/(job\d\d)$/gm, 'rclone_remote: nosuchremote\n$1remote: $2');
  env.writeConfig(text);
  const daemon = env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  await env.notify.waitFor(statusMatching(/^20 jobs, idle$/));
  // failures_before_alert is 3 by default: the third failed run of each job makes it failing.
  for (let round = 1; round <= 3; round++) {
    const r = await rbmctl(env, ['sync', '--wait']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
  }
  await waitForOutput(daemon, (out) => (out.match(/needs a look \(failing\)/g) ?? []).length === 20);
  // Wait until every failing job is covered: shown on its own or counted in the summary of the burst.
  const ours = () => dunst.shown().filter((n) => n.appname === 'rclone-bisync-manager');
  const covered = (): number => ours().reduce((sum, n) => sum + (/^(\d+) more jobs need a look$/.exec(n.summary) ? Number(/^(\d+)/.exec(n.summary)![1]) : 1), 0);
  await dunst.waitFor(() => covered() >= 20, 'notifications covering the 20 jobs');
  const shown = ours();
  assert.ok(shown.length <= 3, `at most a few notifications, got ${shown.length}: ${shown.map((n) => n.summary).join(' | ')}`);
  const summary = shown.find((n) => /more jobs need a look/.test(n.summary))!;
  assert.match(summary.body, /job\d\d, job\d\d/);
  assert.match(summary.body, /sync failing/);
  assert.equal(summary.urgency, 'NORMAL');
  for (const n of shown.filter((s) => s !== summary)) {
    assert.match(n.summary, /^job\d\d: sync failing$/);
    assert.deepEqual(n.actions, { default: 'Show details', sync: 'Sync now' });
  }
});
