// Catch-up runs on the real service process (issue 16 point 4, issue 17 point 5): a private session bus for the
// service, a private "system" bus with python-dbusmock's networkmanager, upower and logind templates, real rclone.
// Shared by test/integration/catch-up-service.test.ts (current rclone) and test/compat/catch-up-service.test.ts
// (Debian's 1.60). Every wait is on a signal (JobFinished) or a log line, never a sleep; trees are compared by sha256.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import * as dbus from 'dbus-next';
import type { ManagerSignal, RunView } from '../../src/dbus/client.js';
import { hashOf, treeHashes, writeFiles } from './engine-env.js';
import { bwlimit, createPairEnv, startService, transferStarted, waitUntil, type RunningService } from './hardening.js';
import type { ServiceEnv, Suite } from './service-env.js';
import { startSftpServer } from './sftp-server.js';
import { LOGIND, NM, startSystemBus, type SystemBus } from './system-bus.js';

const MTIME = new Date('2024-05-01T12:00:00Z');
const u32 = (n: number): dbus.Variant => new dbus.Variant('u', n);
/** A slot that never comes during a test (1 January), so only catch-ups and requests run the job. */
const NEVER = '0 0 1 1 *';
const DAY_MS = 86_400_000;

function seed(dir: string, files: Record<string, string>): Record<string, string> {
  writeFiles(dir, files);
  for (const rel of Object.keys(files)) utimesSync(join(dir, rel), MTIME, MTIME);
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, hashOf(v)]));
}

/** Every JobFinished from now on, in order, with a wait for the first one that matches. */
interface Finished {
  runs: RunView[];
  next(what: string, matches: (run: RunView) => boolean): Promise<RunView>;
}

async function collectFinished(svc: RunningService): Promise<Finished> {
  const runs: RunView[] = [];
  await svc.client.subscribe((s: ManagerSignal) => {
    if (s.kind === 'job-finished') runs.push(s.details);
  });
  return {
    runs,
    async next(what, matches) {
      let found: RunView | undefined;
      await waitUntil(what, () => (found = runs.find(matches)) !== undefined, 120_000);
      return found!;
    },
  };
}

/** The system bus with the three mocks; the network starts online (the templates' State 70, Connectivity 4). */
async function systemBusWithMocks(t: TestContext): Promise<SystemBus> {
  const bus = await startSystemBus(t);
  await Promise.all((['networkmanager', 'upower', 'logind'] as const).map((m) => bus.startMock(m)));
  return bus;
}

/** Start the service with the system bus in its environment; resolves once its monitor has read the bus. */
async function startWithSystemBus(t: TestContext, env: ServiceEnv, suite: Suite, system: SystemBus | string): Promise<RunningService> {
  env.env.DBUS_SYSTEM_BUS_ADDRESS = typeof system === 'string' ? system : system.address;
  env.env.RBM_LOG_LEVEL = 'debug';
  const svc = await startService(t, env, suite.bus().address);
  await waitUntil('the service to read the system bus', () => svc.daemon.output().includes('system bus read'));
  return svc;
}

/** Edit a job's state file while the service is stopped (a past that cannot be waited for in a test). */
function editState(svc: RunningService, job: string, patch: Record<string, unknown>): void {
  const path = join(svc.stateDir, 'jobs', job, 'state.json');
  writeFileSync(path, JSON.stringify({ ...(JSON.parse(readFileSync(path, 'utf8')) as object), ...patch }, null, 2) + '\n');
}

const ok = /^(success|no-changes)$/;

/**
 * (a) The remote is unreachable (the sftp server stopped): the job fails retryable with a long backoff. The server
 * comes back, then NetworkManager goes from disconnected (State 20, Connectivity 1) to connected (70, 4): the job
 * runs at once with trigger `network`, succeeds, and brings the edit made meanwhile to the remote.
 */
export async function networkBackRetriesAtOnce(t: TestContext, suite: Suite): Promise<void> {
  const system = await systemBusWithMocks(t);
  const { env, local } = await createPairEnv(t, suite.rclone!, ['docs']);
  const server = await startSftpServer(t, suite.rclone!, env.dir);
  env.env.RCLONE_CONFIG = server.env.RCLONE_CONFIG;
  env.env.RCLONE_CACHE_DIR = server.env.RCLONE_CACHE_DIR;
  const expected = seed(local('docs'), { 'a.txt': 'alpha\n', 'sub/b.txt': 'beta\n' });
  env.writeConfig(
    env
      .configText([{ name: 'docs', schedule: NEVER }])
      .replace('rclone_remote: ""', `rclone_remote: ${server.name}`)
      .replace(/remote: .*\/remote\/docs/, 'remote: docs'),
  );
  let svc = await startWithSystemBus(t, env, suite, system);
  const [first] = await svc.client.sync(['docs']);
  let finished = await collectFinished(svc);
  assert.match((await finished.next('the first sync', (r) => r.run_id === first)).result, ok);
  assert.deepEqual(treeHashes(join(server.root, 'docs')), expected);

  // A long backoff: the job has failed many times before, so the next failure waits 30 minutes (run/rules/retry.ts).
  assert.equal((await svc.stop()).code, 0);
  editState(svc, 'docs', { consecutiveFailures: 8 });
  svc = await startWithSystemBus(t, env, suite, system);
  finished = await collectFinished(svc);

  await system.updateProperties(NM, NM.iface, { State: u32(20), Connectivity: u32(1) });
  await server.stop();
  Object.assign(expected, seed(local('docs'), { 'while-offline.txt': 'written while the network was down\n' }));
  const [down] = await svc.client.sync(['docs']);
  const failed = await finished.next('the sync while the remote is down', (r) => r.run_id === down);
  assert.equal(failed.result, 'retryable', `${failed.message} ${failed.error}`);
  const retryAtUsec = (await svc.client.status()).jobs.find((j) => j.name === 'docs')!.next_run_usec;
  assert.ok(retryAtUsec >= failed.finished_usec + 29n * 60n * 1_000_000n, `a backoff of 30 minutes (next run ${retryAtUsec}, failed at ${failed.finished_usec})`);

  await server.start();
  await system.updateProperties(NM, NM.iface, { State: u32(70), Connectivity: u32(4) });
  const caughtUp = await finished.next('the catch-up run', (r) => r.job === 'docs' && r.run_id > down!);
  assert.equal(caughtUp.trigger, 'network');
  assert.match(caughtUp.result, ok, `${caughtUp.message} ${caughtUp.error}`);
  assert.ok(caughtUp.started_usec < retryAtUsec, 'long before its backoff ended');
  assert.deepEqual(treeHashes(join(server.root, 'docs')), expected, 'the edit made while offline reached the remote');
  assert.deepEqual(treeHashes(local('docs')), expected);
  const history = await svc.client.history('docs', 10);
  assert.equal(history.find((r) => r.run_id === caughtUp.run_id)?.trigger, 'network', 'the history names the trigger');
  assert.equal(finished.runs.filter((r) => r.run_id > down!).length, 1, 'one catch-up run');
  assert.equal((await svc.stop()).code, 0);
}

/**
 * (b) A job whose daily slot passed while the machine was "asleep" (its last run two days ago, run_missed_jobs off so
 * the start-up does not run it): PrepareForSleep(true) then (false) → it runs with trigger `resume` and syncs the
 * change waiting on the remote side.
 */
export async function resumeRunsMissedSlot(t: TestContext, suite: Suite): Promise<void> {
  const system = await systemBusWithMocks(t);
  const { env, local, remote } = await createPairEnv(t, suite.rclone!, ['photos', 'other']);
  const expected = seed(local('photos'), { 'p1.jpg': 'one\n' });
  const expectedOther = seed(local('other'), { 'o.txt': 'other\n' });
  env.writeConfig(env.configText([{ name: 'photos', schedule: '0 3 * * *' }, { name: 'other', schedule: NEVER }], 'run_missed_jobs: false'));
  let svc = await startWithSystemBus(t, env, suite, system);
  const ids = await svc.client.sync(['photos', 'other']);
  let finished = await collectFinished(svc);
  for (const id of ids) assert.match((await finished.next(`first sync ${id}`, (r) => r.run_id === id)).result, ok);
  assert.equal((await svc.stop()).code, 0);
  // Its last run two days ago: the 03:00 slot passed since (the same record run_missed_jobs reads).
  const twoDaysAgo = Date.now() - 2 * DAY_MS;
  editState(svc, 'photos', { lastStartedMs: twoDaysAgo, lastFinishedMs: twoDaysAgo, lastScheduledMs: twoDaysAgo });
  svc = await startWithSystemBus(t, env, suite, system);
  finished = await collectFinished(svc);
  const lastId = ids.reduce((a, b) => (a > b ? a : b));

  Object.assign(expected, seed(remote('photos'), { 'from-phone.jpg': 'taken while the laptop slept\n' }));
  await system.emitSignal(LOGIND, LOGIND.iface, 'PrepareForSleep', 'b', [new dbus.Variant('b', true)]);
  await system.emitSignal(LOGIND, LOGIND.iface, 'PrepareForSleep', 'b', [new dbus.Variant('b', false)]);
  const caughtUp = await finished.next('the catch-up run', (r) => r.job === 'photos' && r.run_id > lastId);
  assert.equal(caughtUp.trigger, 'resume');
  assert.match(caughtUp.result, ok, `${caughtUp.message} ${caughtUp.error}`);
  assert.deepEqual(treeHashes(local('photos')), expected);
  assert.deepEqual(treeHashes(remote('photos')), expected);
  // The job that missed nothing was not run (its history still ends with the first sync).
  const other = await svc.client.history('other', 10);
  assert.deepEqual(other.map((r) => r.trigger), ['manual']);
  assert.deepEqual(treeHashes(remote('other')), expectedOther);
  assert.match(svc.daemon.output(), /the machine is about to suspend/);
  assert.match(svc.daemon.output(), /the machine resumed/);
  assert.equal((await svc.stop()).code, 0);
}

/**
 * (c) No system bus at all (DBUS_SYSTEM_BUS_ADDRESS names a missing socket): the service starts, runs its start-up
 * sync and a requested one, and logs the monitor's line once per missing part, nothing else about it.
 */
export async function noSystemBus(t: TestContext, suite: Suite): Promise<void> {
  const { env, local, remote } = await createPairEnv(t, suite.rclone!, ['docs']);
  const expected = seed(local('docs'), { 'a.txt': 'alpha\n' });
  env.writeConfig(env.configText([{ name: 'docs', schedule: NEVER }], 'run_initial_sync_on_startup: true'));
  const svc = await startWithSystemBus(t, env, suite, `unix:path=${join(env.dir, 'no-system-bus')}`);
  const startup = await waitForHistory(svc, 'docs', (r) => r.trigger === 'startup');
  assert.match(startup.result, ok, `${startup.message} ${startup.error}`);
  assert.deepEqual(treeHashes(remote('docs')), expected);
  Object.assign(expected, seed(local('docs'), { 'b.txt': 'beta\n' }));
  const [id] = await svc.client.sync(['docs']);
  const asked = await waitForHistory(svc, 'docs', (r) => r.run_id === id);
  assert.match(asked.result, ok);
  assert.deepEqual(treeHashes(remote('docs')), expected);
  const out = svc.daemon.output();
  assert.ok(out.search(/ INFO {2}ready \{/) >= 0, 'the service got ready without a system bus');
  for (const name of ['org.freedesktop.NetworkManager', 'org.freedesktop.UPower', 'org.freedesktop.login1']) {
    assert.equal(out.split(`${name} is not available on the system bus`).length - 1, 1, `one line for ${name}:\n${out}`);
  }
  // At the info level and above, the system bus is these three lines and nothing else (debug lines aside).
  const loud = out.split('\n').filter((line) => !/^\S+ DEBUG /.test(line));
  const aboutTheMachine = loud.filter((line) => /system bus|system-bus|catch-up|catching up|suspend|resumed|logind|NetworkManager|UPower|login1/i.test(line));
  assert.equal(aboutTheMachine.length, 3, aboutTheMachine.join('\n'));
  assert.equal((await svc.stop()).code, 0);
}

async function waitForHistory(svc: RunningService, job: string, matches: (r: RunView) => boolean): Promise<RunView> {
  let found: RunView | undefined;
  await waitUntil(`a run of ${job}`, async () => (found = (await svc.client.history(job, 20)).find(matches)) !== undefined, 120_000);
  return found!;
}

/**
 * A suspend during a run: the remote goes away while the machine "sleeps" (the sftp server stopped after
 * PrepareForSleep(true)), so the run in flight fails retryable; the server is back and PrepareForSleep(false) comes:
 * the job is retried at once with trigger `resume`, the big file arrives whole, and no lockout is left.
 */
export async function suspendDuringRun(t: TestContext, suite: Suite): Promise<void> {
  const system = await systemBusWithMocks(t);
  const { env, local } = await createPairEnv(t, suite.rclone!, ['docs']);
  const server = await startSftpServer(t, suite.rclone!, env.dir);
  env.env.RCLONE_CONFIG = server.env.RCLONE_CONFIG;
  env.env.RCLONE_CACHE_DIR = server.env.RCLONE_CACHE_DIR;
  const expected = seed(local('docs'), { 'a.txt': 'alpha\n' });
  env.writeConfig(
    env
      // One low-level retry and a short connect timeout: the lost remote ends the run instead of rclone waiting on it.
      .configText([{ name: 'docs', schedule: NEVER, extra: `${bwlimit('256K')}\n      low_level_retries: 1\n      contimeout: "5s"` }])
      .replace('rclone_remote: ""', `rclone_remote: ${server.name}`)
      .replace(/remote: .*\/remote\/docs/, 'remote: docs'),
  );
  const svc = await startWithSystemBus(t, env, suite, system);
  const finished = await collectFinished(svc);
  const [first] = await svc.client.sync(['docs']);
  assert.match((await finished.next('the first sync', (r) => r.run_id === first)).result, ok);

  const big = randomBytes(2 * 1024 * 1024).toString('base64');
  Object.assign(expected, seed(local('docs'), { 'big.txt': big }));
  const remoteDir = join(server.root, 'docs');
  const entries = readdirSync(remoteDir).length;
  const [running] = await svc.client.sync(['docs']);
  await waitUntil('the transfer of big.txt', () => transferStarted(remoteDir, entries));
  await system.emitSignal(LOGIND, LOGIND.iface, 'PrepareForSleep', 'b', [new dbus.Variant('b', true)]);
  await server.stop();
  const cut = await finished.next('the run cut by the lost remote', (r) => r.run_id === running);
  assert.equal(cut.result, 'retryable', `${cut.message} ${cut.error}`);
  await server.start();
  await system.emitSignal(LOGIND, LOGIND.iface, 'PrepareForSleep', 'b', [new dbus.Variant('b', false)]);
  const retried = await finished.next('the retry at the resume', (r) => r.job === 'docs' && r.run_id > running!);
  assert.equal(retried.trigger, 'resume');
  assert.match(retried.result, ok, `${retried.message} ${retried.error}`);
  assert.deepEqual(treeHashes(remoteDir), expected, 'the big file arrived whole');
  assert.deepEqual(treeHashes(local('docs')), expected);
  const job = (await svc.client.status()).jobs.find((j) => j.name === 'docs')!;
  assert.equal(job.needs_resync, false);
  assert.equal(job.state, 'idle');
  assert.equal((await svc.stop()).code, 0);
}
