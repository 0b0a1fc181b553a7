// The service (ControlApi) in-process with a fake runner, loader, editor and notifier on a fake clock.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Config } from '../../src/config/types.js';
import { ConfigError, RbmError } from '../../src/errors.js';
import type { Notifier } from '../../src/platform/notify.js';
import { nullLogger } from '../../src/ports.js';
import { createService, type ConfigEditor, type Service, type ServiceDeps } from '../../src/service/service.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeRunner, makeConfig } from '../helpers/fake-runner.js';
import { flush, makeJob, makeState } from '../helpers/scheduler-fixtures.js';

process.env.TZ = 'UTC';
const never = '0 0 1 1 *';

interface World {
  service: Service;
  runner: FakeRunner;
  clock: FakeClock;
  notes: string[];
  edits: string[];
  watched: string[][];
  configPath: string;
  setConfig(config: Config | Error): void;
}

type WorldOptions = { forceDryRun?: boolean; pausedJobs?: { load(): string[]; save(names: string[]): void }; checksumNote?: ServiceDeps['checksumNote'] };

function world(t: TestContext, initial: Config | Error, opts: WorldOptions = {}): World {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-svc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const configPath = join(dir, 'config.yaml');
  let current = initial;
  if (!(initial instanceof Error) || initial instanceof ConfigError) writeFileSync(configPath, 'placeholder\n');
  const notes: string[] = [];
  const notifier: Notifier = {
    ready: () => notes.push('READY=1'),
    reloading: () => notes.push('RELOADING=1'),
    stopping: () => notes.push('STOPPING=1'),
    status: (text) => notes.push(`STATUS=${text}`),
    startWatchdog: () => {},
    stopWatchdog: () => {},
  };
  const edits: string[] = [];
  const runner = new FakeRunner();
  const clock = new FakeClock();
  const w: World = {
    service: undefined as unknown as Service,
    runner,
    clock,
    notes,
    edits,
    watched: [],
    configPath,
    setConfig(c) {
      current = c;
      if (!(c instanceof Error) || c instanceof ConfigError) writeFileSync(configPath, 'x\n');
    },
  };
  const editor: ConfigEditor = {
    addJob(_path, name, definition) {
      edits.push(`add ${name} ${JSON.stringify(definition)}`);
      const c = current as Config;
      current = { ...c, jobs: [...c.jobs, makeJob(name, { schedule: never, local: String(definition.local) })] };
      return Promise.resolve();
    },
    removeJob(_path, name) {
      edits.push(`remove ${name}`);
      const c = current as Config;
      current = { ...c, jobs: c.jobs.filter((j) => j.name !== name) };
      return Promise.resolve();
    },
  };
  w.service = createService({
    configPath,
    clock,
    logger: nullLogger,
    runner,
    notifier,
    editor,
    version: '9.9.9',
    loadConfig: () => (current instanceof Error ? Promise.reject(current) : Promise.resolve(current)),
    probeCaps: (binary) => Promise.resolve({ binary, version: '1.75.0', major: 1, minor: 75, patch: 0, flags: new Set<string>() }),
    watchFiles: (paths) => w.watched.push(paths),
    ...(opts.forceDryRun === true ? { forceDryRun: true } : {}),
    ...(opts.pausedJobs ? { pausedJobs: opts.pausedJobs } : {}),
    ...(opts.checksumNote ? { checksumNote: opts.checksumNote } : {}),
  });
  return w;
}

const badConfig = (): ConfigError => new ConfigError([{ file: 'config.yaml', line: 4, col: 15, path: 'sync_jobs.a.schedule', message: 'invalid cron expression' }]);

test('starting with a missing config does not crash: no jobs, the problem and its fix reported, recovery on reload', async (t) => {
  const w = world(t, new Error('ENOENT: no such file'));
  await w.service.start();
  const st = w.service.status();
  assert.equal(st.state, 'running');
  assert.deepEqual(st.jobs, []);
  assert.match(st.configError, /does not exist/);
  assert.match(st.configError, /picks it up as soon as it is saved/);
  assert.match(w.service.statusLine(), /^config error: config file .* does not exist; no config loaded; 0 jobs, idle$/);
  assert.deepEqual(w.watched.at(-1), [w.configPath], 'the config file is watched even when missing');
  w.setConfig(makeConfig([makeJob('a', { schedule: never })], { runInitialSyncOnStartup: true }));
  await w.service.reload();
  assert.equal(w.service.status().configError, '');
  assert.deepEqual(w.service.status().jobs.map((j) => j.name), ['a']);
  await flush();
  assert.deepEqual(w.runner.runs.map((r) => [r.job.name, r.request.trigger]), [['a', 'startup']], 'the first good config counts as start-up');
});

test('an invalid reload keeps the last good config, reports it, and a fixed file recovers', async (t) => {
  const w = world(t, makeConfig([makeJob('a', { schedule: never }), makeJob('b', { schedule: never })]));
  await w.service.start();
  const reloaded: boolean[] = [];
  w.service.on('configReloaded', (ok) => reloaded.push(ok));
  w.setConfig(badConfig());
  await assert.rejects(w.service.reload(), (e: unknown) => e instanceof ConfigError && e.code === 'InvalidConfig');
  assert.deepEqual(w.service.status().jobs.map((j) => j.name), ['a', 'b']);
  assert.match(w.service.status().configError, /config.yaml:4:15 sync_jobs.a.schedule: invalid cron expression/);
  assert.equal(w.service.statusLine(), 'config error: config.yaml:4:15 sync_jobs.a.schedule: invalid cron expression; last good config in force; 2 jobs, idle');
  w.setConfig(makeConfig([makeJob('a', { schedule: never })]));
  await w.service.reload();
  assert.deepEqual(w.service.status().jobs.map((j) => j.name), ['a']);
  assert.equal(w.service.status().configError, '');
  assert.deepEqual(reloaded, [false, true]);
  const order = w.notes.filter((n) => !n.startsWith('STATUS='));
  assert.deepEqual(order, ['RELOADING=1', 'READY=1', 'RELOADING=1', 'READY=1'], 'every reload is wrapped in RELOADING=1 … READY=1');
});

test('STATUS= follows the running jobs', async (t) => {
  const w = world(t, makeConfig(['photos', 'docs', 'music'].map((n) => makeJob(n, { schedule: never }))));
  await w.service.start();
  assert.equal(w.service.statusLine(), '3 jobs, idle');
  await w.service.sync(['photos'], {});
  await flush();
  assert.equal(w.service.statusLine(), '3 jobs, 1 running: photos');
  assert.ok(w.notes.includes('STATUS=3 jobs, 1 running: photos'));
  w.runner.runs[0]!.finish();
  await flush();
  assert.equal(w.service.statusLine(), '3 jobs, idle');
});

// Malformed arguments (bad names, too many, unknown options) are the request parser's: test/unit/api-requests.test.ts.
test('calls the service refuses (unknown job, paused, needs resync, exists) change nothing', async (t) => {
  const w = world(t, makeConfig([makeJob('a', { schedule: never }), makeJob('p', { schedule: never }), makeJob('r', { schedule: never })]));
  await w.service.start();
  w.runner.states.set('r', makeState({ needsResync: true }));
  w.service.pause(['p']);
  const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof RbmError && e.code === c && (re === undefined || re.test(e.message));
  await assert.rejects(w.service.sync(['a', 'nope'], {}), code('NoSuchJob', /'nope'/));
  await assert.rejects(w.service.sync(['p'], {}), code('Paused'));
  await assert.rejects(w.service.sync(['r'], {}), code('NeedsResync'));
  // The adapters refuse this first; the service guards the safety rule again, whoever calls it.
  await assert.rejects(w.service.sync([], { force: true }), code('InvalidArgs', /needs the jobs named/));
  await flush();
  assert.equal(w.runner.runs.length, 0, 'no failed call queued anything');
  assert.throws(() => w.service.jobStatus('nope'), code('NoSuchJob'));
  assert.throws(() => w.service.history('a', -1), code('InvalidArgs', /^limit:/));
  await assert.rejects(w.service.addJob('a', { local: '/x' }), code('JobExists'));
  await assert.rejects(w.service.removeJob('nope'), code('NoSuchJob'));
  assert.deepEqual(w.edits, []);
  const ids = await w.service.sync(['r'], { resync: true });
  assert.equal(ids.length, 1);
});

test('sync with no names runs every active job that is not paused or locked out (a waiting job previews again); duplicate names queue once', async (t) => {
  const w = world(t, makeConfig([makeJob('a', { schedule: never, local: '/a' }), makeJob('off', { schedule: never, active: false }), makeJob('p', { schedule: never, local: '/p' }), makeJob('r', { schedule: never, local: '/r' }), makeJob('x', { schedule: never, local: '/x' })], { maxParallelJobs: 4 }));
  await w.service.start();
  w.runner.states.set('r', makeState({ needsApproval: true }));
  w.runner.states.set('x', makeState({ needsResync: true }));
  w.service.pause(['p']);
  const ids = await w.service.sync([], { dryRun: true });
  assert.equal(ids.length, 2);
  await flush();
  assert.deepEqual(w.runner.runs.map((r) => [r.job.name, r.request.dryRun, r.request.trigger, r.request.force]), [['a', true, 'manual', undefined], ['r', true, 'manual', undefined]]);
  const again = await w.service.sync(['a', 'a'], {});
  assert.equal(again.length, 1);
});

test('addJob with a definition edits the file, reloads and runs the first sync; removeJob edits and reloads', async (t) => {
  const w = world(t, makeConfig([makeJob('a', { schedule: never })]));
  await w.service.start();
  const added: string[] = [];
  const removed: string[] = [];
  w.service.on('jobAdded', (s) => added.push(s.name));
  w.service.on('jobRemoved', (n) => removed.push(n));
  await w.service.addJob('new', { local: '/data/new', remote: 'x' });
  await flush();
  assert.deepEqual(w.edits, ['add new {"local":"/data/new","remote":"x"}']);
  assert.deepEqual(added, ['new']);
  assert.deepEqual(w.runner.runs.map((r) => [r.job.name, r.request.trigger]), [['new', 'add-job']]);
  await w.service.removeJob('new');
  assert.deepEqual(removed, [], 'the running job finishes first');
  w.runner.runs[0]!.finish();
  await flush();
  assert.deepEqual(removed, ['new']);
  assert.throws(() => w.service.jobStatus('new'), { code: 'NoSuchJob' });
});

test('addJob with an empty definition picks up a job already in the file and runs it', async (t) => {
  const w = world(t, makeConfig([makeJob('a', { schedule: never })]));
  await w.service.start();
  await assert.rejects(w.service.addJob('later', {}), { code: 'NoSuchJob' });
  w.setConfig(makeConfig([makeJob('a', { schedule: never }), makeJob('later', { schedule: never })]));
  await w.service.addJob('later', {});
  await flush();
  assert.deepEqual(w.runner.runs.map((r) => r.job.name), ['later']);
});

test('events: jobStarted, jobProgress and jobFinished carry the run id; the global dry run reaches the runner', async (t) => {
  const w = world(t, makeConfig([makeJob('a', { schedule: never })]), { forceDryRun: true });
  await w.service.start();
  const seen: string[] = [];
  w.service.on('jobStarted', (job, id, op) => seen.push(`started ${job} ${id} ${op}`));
  w.service.on('jobProgress', (job, id, p) => seen.push(`progress ${job} ${id} ${p.bytes}`));
  w.service.on('jobFinished', (r) => seen.push(`finished ${r.job} ${r.runId} ${r.outcome}`));
  const [id] = await w.service.sync(['a'], {});
  await flush();
  const run = w.runner.runs[0]!;
  assert.equal(run.request.dryRun, true);
  assert.equal(run.global.dryRun, true);
  run.hooks!.onProgress!({ bytes: 10, totalBytes: 100, transfers: 0, totalTransfers: 1, speed: 5, etaSec: 18 });
  assert.equal(w.service.jobStatus('a').progress?.bytes, 10);
  run.finish();
  await flush();
  assert.deepEqual(seen, [`started a ${id} bisync`, `progress a ${id} 10`, `finished a ${id} success`]);
  assert.equal(w.service.jobStatus('a').progress, undefined);
});

test('shutdown lets a running sync finish within the grace period', async (t) => {
  const w = world(t, makeConfig([makeJob('a', { schedule: never })], { shutdownGraceSec: 30 }));
  await w.service.start();
  await w.service.sync(['a'], {});
  await flush();
  let done = false;
  void w.service.shutdown().then(() => (done = true));
  await flush();
  assert.equal(w.service.status().state, 'stopping');
  assert.ok(w.notes.includes('STOPPING=1'));
  assert.equal(w.service.statusLine(), 'stopping: waiting for a');
  await assert.rejects(w.service.sync(['a'], {}), { code: 'ServiceUnavailable' });
  w.clock.advance(10_000);
  await flush();
  assert.equal(done, false);
  assert.equal(w.runner.runs[0]!.hooks!.signal!.aborted, false);
  w.runner.runs[0]!.finish();
  await flush();
  assert.equal(done, true);
});

test('shutdown cancels the running syncs once the grace period is over', async (t) => {
  const w = world(t, makeConfig([makeJob('a', { schedule: never })], { shutdownGraceSec: 30 }));
  await w.service.start();
  await w.service.sync(['a'], {});
  await flush();
  const finished: string[] = [];
  w.service.on('jobFinished', (r) => finished.push(r.outcome));
  const stopped = w.service.shutdown();
  await flush();
  w.clock.advance(30_000);
  await stopped;
  assert.equal(w.runner.runs[0]!.hooks!.signal!.aborted, true);
  assert.deepEqual(finished, ['cancelled']);
});

test('paused jobs stay paused across a restart, before any start-up run; jobs that left the config are forgotten', async (t) => {
  let stored: string[] = [];
  const pausedJobs = { load: () => [...stored], save: (names: string[]) => void (stored = [...names]) };
  const config = makeConfig(['a', 'b', 'c'].map((n) => makeJob(n, { schedule: never })), { runInitialSyncOnStartup: true });
  const first = world(t, config, { pausedJobs });
  await first.service.start();
  first.service.pause(['b', 'c']);
  first.service.resume(['c']);
  assert.deepEqual(stored, ['b'], 'the paused set is recorded on every pause and resume');

  stored = ['b', 'gone'];
  const second = world(t, config, { pausedJobs });
  await second.service.start();
  await flush();
  assert.equal(second.service.jobStatus('b').paused, true, 'b is still paused');
  assert.deepEqual(second.runner.runs.map((r) => r.job.name).sort(), ['a', 'c'], 'the initial sync skips the paused job');
  assert.deepEqual(stored, ['b'], 'a name no longer in the config is forgotten');
  second.service.resume(['b']);
  assert.deepEqual(stored, []);
});

test('approve: queues a run carrying the token only when it is the pending list\'s; pendingApproval pages with the token of the whole list', async (t) => {
  const w = world(t, makeConfig([makeJob('docs', { schedule: never, local: '/d' }), makeJob('ok', { schedule: never, local: '/o' })], { maxParallelJobs: 4 }));
  await w.service.start();
  const token = 'e'.repeat(64);
  const deletes = Array.from({ length: 30 }, (_, i) => `/r/${i}`);
  w.runner.states.set('docs', makeState({ needsApproval: true, pendingDeletes: deletes, approvalToken: token, pendingDeleteCount: 30 }));
  assert.deepEqual(w.service.pendingApproval('docs', 10, 5), { token, total: 30, deletes: deletes.slice(10, 15) });
  assert.deepEqual(w.service.pendingApproval('ok', 0, 0), { token: '', total: 0, deletes: [] });
  assert.throws(() => w.service.pendingApproval('docs', -1, 0), { code: 'InvalidArgs' });

  await assert.rejects(w.service.approve('docs', 'f'.repeat(64)), (e: unknown) => e instanceof RbmError && e.code === 'ApprovalStale' && /changed since you reviewed it/.test(e.message) && /rbmctl approve docs/.test(e.hint ?? ''));
  await assert.rejects(w.service.approve('ok', token), (e: unknown) => e instanceof RbmError && e.code === 'ApprovalStale' && /nothing waiting for approval/.test(e.message));
  await assert.rejects(w.service.approve('nope', token), { code: 'NoSuchJob' });
  w.service.pause(['docs']);
  await assert.rejects(w.service.approve('docs', token), { code: 'Paused' });
  w.service.resume(['docs']);
  assert.equal(w.runner.runs.length, 0, 'nothing ran for a refused approval');

  const id = await w.service.approve('docs', token);
  await flush();
  assert.deepEqual(w.runner.runs.map((r) => [r.runId, r.job.name, r.request.approvalToken, r.request.force, r.request.trigger]), [[id, 'docs', token, undefined, 'manual']]);
});

test('a plain sync of a job waiting for approval runs (the run checks again) instead of being refused', async (t) => {
  const w = world(t, makeConfig([makeJob('docs', { schedule: never, local: '/d' })]));
  await w.service.start();
  w.runner.states.set('docs', makeState({ needsApproval: true, pendingDeletes: ['/r/a'] }));
  await w.service.sync(['docs'], {});
  await flush();
  assert.deepEqual(w.runner.runs.map((r) => [r.job.name, r.request.force, r.request.approvalToken]), [['docs', undefined, undefined]]);
});

test('status carries the engine\'s checksum note per job (issue 12.8), with the rclone in use', async (t) => {
  const seen: string[] = [];
  const w = world(t, makeConfig([makeJob('a', { schedule: never }), makeJob('b', { schedule: never })]), {
    checksumNote: (job, _global, caps) => {
      seen.push(`${job.name} ${caps.version}`);
      return job.name === 'a' ? 'same-size edits within the remote\'s modtime precision are not detected: no common hash' : undefined;
    },
  });
  await w.service.start();
  const jobs = w.service.status().jobs;
  assert.deepEqual(jobs.map((j) => [j.name, j.checksumNote]), [['a', 'same-size edits within the remote\'s modtime precision are not detected: no common hash'], ['b', undefined]]);
  assert.ok(seen.includes('a 1.75.0'), 'asked with the detected rclone');
});
