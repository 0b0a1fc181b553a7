// Scenarios of issue 12 cases 3 and 6 and issue 13 case 3, run on the real service process over a private session
// bus with real rclone; shared by test/integration/service-triggers.test.ts (current rclone) and
// test/compat/service-triggers.test.ts (Debian's 1.60). Trees are compared by sha256 on both sides.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { ManagerSignal, RunView, SyncOptions } from '../../src/dbus/client.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { hashOf, treeHashes, writeFiles } from './engine-env.js';
import { bwlimit, createPairEnv, readArgvLog, sleep, startService, transferStarted, waitForRun, waitUntil, writeRcloneWrapper, type RunningService } from './hardening.js';
import type { Suite } from './service-env.js';

const MiB = 1024 * 1024;
const MTIME = new Date('2024-05-01T12:00:00Z');

/** Files with fixed mtimes; returns their sha256 by relative path. */
function seed(dir: string, files: Record<string, string | Buffer>): Record<string, string> {
  writeFiles(dir, files);
  for (const rel of Object.keys(files)) utimesSync(join(dir, rel), MTIME, MTIME);
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, hashOf(v)]));
}

/** Every JobFinished the service sends from now on, by run id. */
async function collectFinished(svc: RunningService): Promise<Map<bigint, RunView>> {
  const finished = new Map<bigint, RunView>();
  await svc.client.subscribe((s: ManagerSignal) => {
    if (s.kind === 'job-finished') finished.set(s.runId, s.details);
  });
  return finished;
}

async function historyRun(svc: RunningService, job: string, runId: bigint): Promise<RunView | undefined> {
  return (await svc.client.history(job, 50)).find((r) => r.run_id === runId);
}

/**
 * Issue 12.3 as written: while a job runs, `Sync(JOB, dry)` (dry is {dry_run, force} or {dry_run, resync}) and then an
 * ordinary `Sync(JOB)`. Meanwhile 15 of the job's 20 files were deleted locally, so a real `--force` run would delete
 * them on the remote and a real resync would bring them back locally. Expected: a dry run with exactly those flags,
 * then a plain run that stops at the safety limit; every remote file still there, the local deletions not undone.
 */
export async function dryRunThenPlainSync(t: TestContext, suite: Suite, dry: SyncOptions): Promise<void> {
  const { env, local, remote } = await createPairEnv(t, suite.rclone!, ['docs']);
  const small: Record<string, string> = {};
  for (let i = 1; i <= 20; i++) small[`f${String(i).padStart(2, '0')}.txt`] = `file ${i}\n`;
  const expectedRemote = seed(local('docs'), small);
  env.writeConfig(env.configText([{ name: 'docs', extra: bwlimit('256K') }]));
  const svc = await startService(t, env, suite.bus().address);
  const finished = await collectFinished(svc);
  const [first] = await svc.client.sync(['docs']);
  assert.match((await waitForRun(svc.client, 'docs', first!)).result, /^(success|no-changes)$/);
  assert.deepEqual(treeHashes(remote('docs')), expectedRemote, 'the first run copied everything');

  // A long run: a big new file at 256 KiB/s.
  Object.assign(expectedRemote, seed(local('docs'), { 'big.bin': randomBytes(2 * MiB) }));
  const entries = readdirSync(remote('docs')).length;
  const [long] = await svc.client.sync(['docs']);
  await waitUntil('the transfer of big.bin', () => transferStarted(remote('docs'), entries));
  for (let i = 1; i <= 15; i++) unlinkSync(join(local('docs'), `f${String(i).padStart(2, '0')}.txt`));
  const [dryId] = await svc.client.sync(['docs'], dry);
  const [plainId] = await svc.client.sync(['docs']);
  const during = (await svc.client.status()).jobs.find((j) => j.name === 'docs');
  assert.equal(during?.current_run_id, long, 'both requests were queued while the long run was still running');
  assert.notEqual(dryId, plainId, 'each caller gets its own run');

  await waitUntil('both queued runs to finish', () => finished.has(dryId!) && finished.has(plainId!), 120_000);
  const dryRun = (await historyRun(svc, 'docs', dryId!))!;
  const plainRun = (await historyRun(svc, 'docs', plainId!))!;
  assert.equal(dryRun.dry_run, true);
  assert.equal(dryRun.result, 'dry-run', dryRun.message);
  assert.equal(dryRun.operation, dry.resync === true ? 'resync' : 'bisync');
  assert.equal(plainRun.dry_run, false);
  assert.equal(plainRun.operation, 'bisync', 'the plain run is no resync');
  assert.equal(plainRun.result, 'needs-approval', `the plain run is not forced: it stops at the safety limit (${plainRun.message})`);
  assert.ok(dryRun.started_usec >= (await historyRun(svc, 'docs', long!))!.finished_usec, 'never two runs of one job at once');
  assert.ok(plainRun.started_usec >= dryRun.finished_usec);

  assert.deepEqual(treeHashes(remote('docs')), expectedRemote, 'every remote file is still there');
  const expectedLocal = Object.fromEntries(Object.entries(expectedRemote).filter(([k]) => !/^f(0\d|1[0-5])\.txt$/.test(k)));
  assert.deepEqual(treeHashes(local('docs')), expectedLocal, 'the local deletions were not undone by a resync');
  assert.equal((await svc.stop()).code, 0);
}

/**
 * Issue 13.3: a one-shot `rbmctl sync --standalone` holds the job; a Sync on the service meanwhile is refused by the job
 * lock. Expected: the refused run is in the history and in JobFinished (locked), and it is retried (after 30 s)
 * once the one-shot run is over; both sides end up equal.
 */
export async function refusedRunRetried(t: TestContext, suite: Suite): Promise<void> {
  const { env, local, remote } = await createPairEnv(t, suite.rclone!, ['docs']);
  const expected = seed(local('docs'), { 'a.txt': 'alpha\n', 'dir/b.txt': 'beta\n' });
  env.writeConfig(env.configText([{ name: 'docs', extra: bwlimit('512K') }]));
  const svc = await startService(t, env, suite.bus().address);
  const finished = await collectFinished(svc);
  const [first] = await svc.client.sync(['docs']);
  assert.match((await waitForRun(svc.client, 'docs', first!)).result, /^(success|no-changes)$/);

  Object.assign(expected, seed(local('docs'), { 'big.bin': randomBytes(2 * MiB) }));
  Object.assign(expected, seed(remote('docs'), { 'from-remote.txt': 'made on the remote\n' }));
  const entries = readdirSync(remote('docs')).length;
  const oneShot = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'bin', 'rbmctl.ts'), 'sync', '--standalone', 'docs'], {
    cwd: PROJECT_ROOT,
    env: env.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let oneShotOut = '';
  oneShot.stdout.on('data', (c: Buffer) => (oneShotOut += c.toString()));
  oneShot.stderr.on('data', (c: Buffer) => (oneShotOut += c.toString()));
  const oneShotExit = new Promise<number | null>((resolve) => oneShot.once('exit', (code) => resolve(code)));
  t.after(() => oneShot.kill('SIGKILL'));
  const lockPath = join(svc.stateDir, 'jobs', 'docs', 'lock');
  await waitUntil('the one-shot run to hold the job and transfer', () => existsSync(lockPath) && transferStarted(remote('docs'), entries));
  assert.equal((JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number }).pid, oneShot.pid, 'the one-shot process holds the job lock');

  const [refusedId] = await svc.client.sync(['docs']);
  await waitUntil('JobFinished of the refused run', () => finished.has(refusedId!));
  const signalled = finished.get(refusedId!)!;
  assert.equal(signalled.result, 'locked');
  assert.match(signalled.message, new RegExp(`^refused: job docs is already running \\(process ${oneShot.pid}\\); nothing was run$`));
  const recorded = await historyRun(svc, 'docs', refusedId!);
  assert.equal(recorded?.result, 'locked', 'the refused run is in the history');
  assert.equal(await oneShotExit, 0, oneShotOut);

  // The retry comes on its own, 30 s after the refusal, and gets through now that the one-shot run is over.
  await waitUntil('the retry of the refused run', () => [...finished.values()].some((r) => r.run_id > refusedId! && r.trigger === 'retry'), 120_000);
  const retry = [...finished.values()].find((r) => r.run_id > refusedId! && r.trigger === 'retry')!;
  assert.match(retry.result, /^(success|no-changes)$/, retry.message);
  assert.ok(Number(retry.started_usec - recorded.finished_usec) >= 30_000_000, 'retried with backoff (30 s)');
  assert.deepEqual(treeHashes(local('docs')), expected);
  assert.deepEqual(treeHashes(remote('docs')), expected);
  assert.equal((await svc.stop()).code, 0);
}

/**
 * Issue 12.6: the config file is rewritten in place by a slow writer (chunks with pauses longer than the old 300 ms
 * debounce), cut inside the job's remote path, while runs are asked for. Expected: no run ever uses a cut path; the
 * complete file is applied and the next run uses its path; the parent folder's other files never join the job.
 */
export async function slowConfigWriter(t: TestContext, suite: Suite): Promise<void> {
  const { env, local } = await createPairEnv(t, suite.rclone!, []);
  const remoteRoot = join(env.syncRoot, 'remote');
  const oldRemote = join(remoteRoot, 'parent', 'docs');
  const newRemote = join(remoteRoot, 'parent', 'docs-2024');
  mkdirSync(local('docs'), { recursive: true });
  mkdirSync(oldRemote, { recursive: true });
  mkdirSync(newRemote, { recursive: true });
  const expected = seed(local('docs'), { 'a.txt': 'alpha\n', 'sub/b.txt': 'beta\n' });
  const bystanders = seed(join(remoteRoot, 'parent', 'other'), { 'private.txt': 'not part of the job\n' });
  const argvLog = join(env.dir, 'argv.log');
  const rcloneWrapper = writeRcloneWrapper(env.dir, suite.rclone!, { argvLog });
  const configFor = (remotePath: string): string =>
    [`local_base_path: ${join(env.syncRoot, 'local')}`, `rclone_binary: ${rcloneWrapper}`, 'sync_jobs:', '  docs:', `    local: ${local('docs')}`, '    rclone_remote: ""', '    schedule: "0 0 1 1 *"', `    remote: ${remotePath}`, ''].join('\n');
  env.writeConfig(configFor(oldRemote));
  const svc = await startService(t, env, suite.bus().address);
  const finished = await collectFinished(svc);
  const reloads: boolean[] = [];
  await svc.client.subscribe((s) => {
    if (s.kind === 'config-reloaded') reloads.push(s.ok);
  });
  const [first] = await svc.client.sync(['docs']);
  await waitForRun(svc.client, 'docs', first!);

  // The final text, written in chunks cut inside the path (the last key, so every cut parses, as in the issue): at a
  // missing folder, at the parent, at another missing name.
  const text = configFor(newRemote);
  const at = (s: string): number => text.indexOf(s) + s.length;
  const cuts = [at(`remote: ${remoteRoot}/pa`), at(`remote: ${remoteRoot}/parent/`), at(`remote: ${oldRemote}-2`), text.length];
  const fd = openSync(env.configPath, 'w');
  const ids: bigint[] = [];
  try {
    let from = 0;
    for (const cut of cuts) {
      writeSync(fd, text.slice(from, cut));
      from = cut;
      // A run asked for while the file is cut (as the schedule or a user would), then the writer's pause.
      ids.push(...(await svc.client.sync(['docs'])));
      await sleep(700);
    }
  } finally {
    closeSync(fd);
  }
  await waitUntil('the complete file to be in force', async () => (await svc.client.status()).jobs.find((j) => j.name === 'docs')?.remote === newRemote);
  const [last] = await svc.client.sync(['docs']);
  await waitUntil('every run to finish', () => [...ids, last!].every((id) => finished.has(id)), 120_000);

  const allowed = new Set([oldRemote, newRemote]);
  const used = readArgvLog(argvLog)
    .filter((argv) => argv[0] === 'bisync' && !argv.includes('--help')) // not the capability probe
    .map((argv) => argv[2]!);
  assert.ok(used.length >= 2);
  for (const path2 of used) assert.ok(allowed.has(path2), `a run used the cut path ${path2}`);
  assert.equal(used.at(-1), newRemote, 'the final file is applied');
  assert.ok(reloads.includes(true));
  assert.deepEqual(treeHashes(newRemote), expected, 'the new remote holds exactly the job files');
  assert.deepEqual(treeHashes(local('docs')), expected, 'nothing from the parent folder joined the job');
  assert.deepEqual(treeHashes(join(remoteRoot, 'parent', 'other')), bystanders);
  assert.equal((await svc.stop()).code, 0);
}
