// rbmctl against the D-Bus adapter on a real private bus: the real client and, for a few commands, the real
// rbmctl executable as a separate process. The service is stood in for by the in-memory fake ControlApi.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_TABLE, RbmError, exitCodeFor, type ErrorCode } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { main } from '../../src/cli/main.js';
import { startDbusServer, type DbusServer } from '../../src/dbus/server.js';
import { nullLogger } from '../../src/ports.js';
import { startPrivateBus, type PrivateBus } from '../helpers/dbus-daemon.js';
import { createFakeControl, type FakeControl } from '../helpers/fake-control.js';
import { run } from '../helpers/procs.js';
import { IN_CI, findProgram } from '../helpers/tools.js';

const missing = ['dbus-daemon'].filter((p) => !findProgram(p));
if (missing.length > 0 && IN_CI) throw new Error('CI=true and dbus-daemon is missing');
const skip = missing.length > 0 ? 'dbus-daemon not installed' : false;

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

/** The real rbmctl executable (through tsx), as a user would run it. */
function rbmctlProcess(args: string[], address = bus.address, env: Record<string, string> = {}) {
  return run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: address, ...env } });
}

/** main() in this process with the real D-Bus client. */
async function rbmctl(args: string[], options: { abort?: AbortSignal } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, stdin: process.stdin, env: { DBUS_SESSION_BUS_ADDRESS: bus.address } }, options.abort ? { abort: options.abort } : {});
  return { code, stdout, stderr };
}

test('rbmctl status and jobs (human and --json) from a separate process', { skip }, async () => {
  const human = await rbmctlProcess(['status']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^rclone-bisync-manager 0\.1\.0: running, rclone 1\.75\.2$/m);
  assert.match(human.stdout, /^photos +idle +ok +never +never/m);
  const json = await rbmctlProcess(['--json', 'jobs']);
  assert.equal(json.code, 0, json.stderr);
  const jobs = JSON.parse(json.stdout) as { name: string; last_run_id: string; path: string }[];
  assert.deepEqual(jobs.map((j) => [j.name, j.last_run_id, j.path]), [
    ['photos', '0', '/io/github/rbmanager/RcloneBisyncManager1/job/photos'],
    ['docs', '0', '/io/github/rbmanager/RcloneBisyncManager1/job/docs'],
  ]);
});

test('rbmctl sync --wait follows the real signals to the outcome and its exit code', { skip }, async () => {
  const ok = await rbmctlProcess(['sync', 'photos', '--wait', '-d']);
  assert.equal(ok.code, 0, ok.stderr);
  const runId = /^photos: dry-run \(run (\d+)\): fake run dry-run$/m.exec(ok.stdout)?.[1];
  assert.ok(runId, ok.stdout);
  const history = await rbmctl(['history', 'photos', '--json', '--limit', '1']);
  assert.equal((JSON.parse(history.stdout) as { run_id: string }[])[0]?.run_id, runId);

  fake.setOutcome('docs', 'failed');
  const failed = await rbmctl(['sync', 'docs', '--wait']);
  fake.setOutcome('docs', 'success');
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /^docs: failed \(run \d+\): fake run failed\n {2}3 files, 3\.0 KiB transferred, 1 deleted\n {2}error: fake failure\n {2}next: look at the log$/m);
  fake.setOutcome('docs', 'needs-approval');
  assert.equal((await rbmctl(['sync', 'docs', '--wait'])).code, 7);
  fake.setOutcome('docs', 'success');
  const token = 'c'.repeat(64);
  fake.setJobState('docs', { needsApproval: true, pendingDeletes: ['gone.txt'], approvalToken: token });
  const stale = await rbmctl(['approve', 'docs', '--yes', '--token', 'd'.repeat(64)]);
  assert.equal(stale.code, 12, 'a token that is not the pending list\'s is ApprovalStale through the bus');
  assert.match(stale.stderr, /^rbmctl: job 'docs': the token is not the one of the pending list/);
  const approve = await rbmctl(['approve', 'docs', '--yes', '--token', token]);
  assert.equal(approve.code, 0, approve.stderr);
  assert.match(approve.stdout, new RegExp(`the last run stopped before deleting 1 file:\\n {2}gone\\.txt\\ntoken: ${token}\\n`));
  assert.match(approve.stdout, /^docs: success \(run \d+\)/m);
  assert.deepEqual(fake.calls.filter((c) => c.method === 'approve').map((c) => c.args), [['docs', 'd'.repeat(64)], ['docs', token]]);
  fake.setJobState('docs', { needsApproval: false, pendingDeletes: [], approvalToken: '' });
});

test('every error name the API produces arrives as its rbmctl exit code through the bus', { skip }, async () => {
  for (const [code, [, exit]] of Object.entries(ERROR_TABLE) as [ErrorCode, readonly [string, number]][]) {
    if (code === 'ServiceUnavailable') continue; // a client-side condition, tested below
    fake.failNext('history', new RbmError(code, `injected ${code}`));
    const r = await rbmctl(['history', 'photos']);
    assert.equal(r.code, exit, code);
    assert.match(r.stderr, new RegExp(`^rbmctl: injected ${code}`));
  }
  // Natural errors, not injected ones:
  assert.equal((await rbmctl(['status', 'nope'])).code, 3);
  assert.equal((await rbmctl(['pause', 'nope'])).code, 3);
  assert.equal((await rbmctl(['sync', 'bad/name'])).code, 2);
  assert.equal((await rbmctl(['add-job', 'photos', '--local', '/x', '--remote', 'r:x', '--schedule', '* * * * *'])).code, 4);
  fake.setConfigError('broken');
  const reload = await rbmctl(['reload']);
  fake.setConfigError('');
  assert.equal(reload.code, 78);
  assert.match(reload.stderr, /^rbmctl: invalid config \(1 problem\):\n.*broken\n/);
  fake.hold('photos');
  await rbmctl(['sync', 'photos']);
  await fake.waitRunning('photos');
  assert.equal((await rbmctl(['sync', 'photos'])).code, 5, 'AlreadyRunning');
  const cancelled = rbmctl(['sync', 'docs', '--wait']);
  fake.hold('docs');
  await fake.waitRunning('docs');
  assert.equal((await rbmctl(['cancel', 'docs', 'photos'])).code, 0);
  assert.equal((await cancelled).code, 8, 'Cancelled');
  fake.release('photos');
  fake.release('docs');
  assert.equal((await rbmctl(['pause', 'docs'])).code, 0);
  assert.equal((await rbmctl(['sync', 'docs'])).code, 9, 'Paused');
  assert.equal((await rbmctl(['resume', 'docs'])).code, 0);
});

test('no service on the bus: one line and exit 69 (no auto-start); status and sync work without it', { skip }, async () => {
  const empty = await startPrivateBus();
  const home = mkdtempSync(join(tmpdir(), 'rbm-nosvc-'));
  try {
    const r = await rbmctlProcess(['jobs'], empty.address);
    assert.equal(r.code, 69);
    assert.equal(r.stderr, 'rbmctl: the rclone-bisync-manager service is not running; start it with: systemctl --user start rclone-bisync-manager (or rbmctl daemon start).\n');
    const noAutoJobs = await rbmctlProcess(['--no-auto-start', 'jobs'], empty.address);
    assert.equal(noAutoJobs.code, 69);
    const noAuto = await rbmctlProcess(['--no-auto-start', 'sync', '--config', join(home, 'missing.yaml')], empty.address, { HOME: home, XDG_STATE_HOME: join(home, 'state') });
    assert.equal(noAuto.code, exitCodeFor('InvalidConfig'), 'sync without a service runs in this process, which needs a config');
    assert.match(noAuto.stderr, /^rbmctl: the service is not running; syncing once in this process$/m);
    // status does not start the service either: it shows what the state directory holds, and says so.
    const offline = await rbmctlProcess(['status'], empty.address, { HOME: home, XDG_STATE_HOME: join(home, 'state') });
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(offline.stderr.split('\n')[0], 'rbmctl: the service is not running; showing what its state directory holds');
    assert.match(offline.stdout, /^rclone-bisync-manager \S+: not running, /);
  } finally {
    await empty.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

test('rbmctl watch prints one line per signal until interrupted', { skip }, async () => {
  const stop = new AbortController();
  let stdout = '';
  let stderr = '';
  const watching = main(['watch'], { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, stdin: process.stdin, env: { DBUS_SESSION_BUS_ADDRESS: bus.address } }, { abort: stop.signal });
  // The "watching" line is written once the match rules are in place.
  let ended = false;
  void watching.finally(() => (ended = true));
  while (!stderr.includes('watching') && !ended) await new Promise((r) => setImmediate(r));
  assert.ok(!ended, stderr);
  const sync = await rbmctl(['sync', 'photos', '--wait']);
  assert.equal(sync.code, 0);
  await rbmctl(['reload']);
  // The watcher has its own bus connection: a signal sent before another client's reply may reach it after that reply.
  const deadline = Date.now() + 10_000;
  while (!/config reloaded$/m.test(stdout) && !ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  stop.abort();
  const r = { code: await watching, stdout };
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d\d:\d\d:\d\d photos: started bisync \(run \d+\)$/m);
  assert.match(r.stdout, /^\d\d:\d\d:\d\d photos: success \(run \d+\): fake run success$/m);
  assert.match(r.stdout, /^\d\d:\d\d:\d\d photos: State=running/m);
  assert.match(r.stdout, /^\d\d:\d\d:\d\d config reloaded$/m);
});
