// The runner's flow with a scripted spawner replaying REAL captured rclone output (no rclone needed):
// plan → seed → run → classify → follow-ups → state and history. Real files in a temp state dir.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../../src/config/types.js';
import { initialJobState } from '../../src/run/rules/job-state.js';
import { conditionsStop } from '../../src/run/rules/stop-policy.js';
import { createJobRunner, filtersFileHash, pairKeyOf } from '../../src/run/runner.js';
import { jobPaths } from '../../src/state/paths.js';
import { createStateStore } from '../../src/state/state-store.js';
import { CAPS_160, CAPS_175 } from '../helpers/caps.js';
import { ManualClock, RecordingLogger, ScriptedSpawner, type Reply } from '../helpers/fake-spawner.js';
import { writeFiles } from '../helpers/engine-env.js';
import { makeGlobal, makeJob } from '../helpers/job.js';
import { loadLog, type LogVersion } from '../helpers/rclone-logs.js';

const fixture = (v: LogVersion, scenario: string): Reply => {
  const log = loadLog(v, scenario);
  return { lines: log.lines, exit: log.exit };
};

interface Setup {
  dir: string;
  job: JobConfig;
  global: GlobalSettings;
  spawner: ScriptedSpawner;
  clock: ManualClock;
  logger: RecordingLogger;
  runner: ReturnType<typeof createJobRunner>;
  stateDir: string;
}

function setup(t: TestContext, replies: Reply[], opts: { caps?: RcloneCapabilities; job?: Partial<JobConfig>; global?: Partial<GlobalSettings>; cpulimitPath?: string } = {}): Setup {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-runner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const job = makeJob({ local: join(dir, 'local'), path2: join(dir, 'remote'), ...opts.job });
  const global = makeGlobal(opts.global);
  const queue = [...replies];
  const spawner = new ScriptedSpawner((_cmd, args) => (args[0] === 'bisync' ? (queue.shift() ?? { exit: { code: 0, signal: null } }) : { exit: { code: 0, signal: null } }));
  const clock = new ManualClock();
  const logger = new RecordingLogger();
  const stateDir = join(dir, 'state');
  const runner = createJobRunner({ spawner, clock, logger, stateDir, probeCaps: () => Promise.resolve(opts.caps ?? CAPS_175), cpulimitPath: opts.cpulimitPath, env: { PATH: '/usr/bin', RCLONE_COLOR: 'NEVER' } });
  return { dir, job, global, spawner, clock, logger, runner, stateDir };
}

/** Pretend the job already completed its resync. */
function markSynced(s: Setup, extra = {}): void {
  const store = createStateStore({ baseDir: s.stateDir, logger: s.logger });
  const paths = jobPaths(s.stateDir, s.job.name);
  store.save(s.job.name, { ...initialJobState(), resyncDone: true, lastRunId: 1, lastOutcome: 'success', filtersHash: filtersFileHash(s.job.filtersFile), pairKey: pairKeyOf(s.job, paths.workdir), ...extra });
}

test('first run: seeds the pair, resyncs with --resync-mode newer, then one bisync for the recovery backup', async (t) => {
  const s = setup(t, [fixture('1.75', 'resync'), fixture('1.75', 'no-change')], { job: { checkAccess: true } });
  const record = await s.runner.run(s.job, s.global, { trigger: 'add-job' }, s.runner.nextRunId());
  assert.equal(record.operation, 'resync');
  assert.equal(record.outcome, 'success');
  assert.equal(record.trigger, 'add-job');
  assert.ok(existsSync(join(s.job.local, 'RCLONE_TEST')), 'check file seeded locally');
  assert.ok(existsSync(join(s.job.path2, 'RCLONE_TEST')), 'check file seeded on path2');
  const [resync, follow] = s.spawner.bisyncCalls();
  assert.ok(resync?.args.includes('--resync') && resync.args.includes('--resync-mode=newer') && resync.args.includes('--check-access'));
  assert.ok(follow && !follow.args.includes('--resync'), 'a plain bisync follows the resync');
  assert.equal(resync?.env?.RCLONE_COLOR, 'NEVER', '1.75 keeps the environment');
  const state = s.runner.readState(s.job.name);
  assert.deepEqual([state.resyncDone, state.interrupted, state.lastOutcome], [true, false, 'success']);
  assert.equal(s.runner.history(s.job.name, 10).length, 1);
});

test('1.60: first run gets no 1.66+ flags, no follow-up run, and RCLONE_COLOR is removed from its environment', async (t) => {
  const s = setup(t, [fixture('1.60', 'resync')], { caps: CAPS_160 });
  const record = await s.runner.run(s.job, s.global, {}, 1);
  assert.equal(record.outcome, 'success');
  const calls = s.spawner.bisyncCalls();
  assert.equal(calls.length, 1);
  assert.ok(!calls[0]?.args.some((a) => /^--(color|recover|resilient|max-lock|resync-mode)/.test(a)));
  assert.equal(calls[0]?.env?.RCLONE_COLOR, undefined);
  assert.ok(existsSync(join(s.job.local, 'RCLONE_TEST')), 'an empty pair gets a sentinel so it cannot lock itself out');
});

for (const v of ['1.60', '1.75'] as const) {
  test(`${v}: a safety abort records the pending deletes from a --dry-run --force, checks again on the next run, then runs with --force`, async (t) => {
    const s = setup(t, [fixture(v, 'too-many-deletes'), fixture(v, 'too-many-deletes-dry-run'), fixture(v, 'too-many-deletes'), fixture(v, 'too-many-deletes-dry-run'), fixture(v, 'success')], { caps: v === '1.60' ? CAPS_160 : CAPS_175 });
    markSynced(s);
    const aborted = await s.runner.run(s.job, s.global, {}, 2);
    assert.equal(aborted.outcome, 'needs-approval');
    const [first, dry] = s.spawner.bisyncCalls();
    assert.ok(!first?.args.includes('--force'), 'the engine never approves on its own');
    assert.deepEqual(dry?.args.slice(-2), ['--dry-run', '--force']);
    const state = s.runner.readState(s.job.name);
    assert.equal(state.needsApproval, true);
    assert.equal(state.pendingDeletes.length, 3);
    assert.match(state.pendingDeletes[0] ?? '', /two\/a\.txt$/);

    assert.match(state.approvalToken, /^[0-9a-f]{64}$/);
    assert.equal(state.pendingDeleteCount, 3);

    const again = await s.runner.run(s.job, s.global, {}, 3);
    assert.equal(again.outcome, 'needs-approval');
    const [, , plain, dryAgain] = s.spawner.bisyncCalls();
    assert.ok(!plain?.args.includes('--force'), 'the next run checks again without --force');
    assert.deepEqual(dryAgain?.args.slice(-2), ['--dry-run', '--force']);
    assert.equal(s.runner.readState(s.job.name).approvalToken, state.approvalToken, 'the same deletes keep the same token');

    const approved = await s.runner.run(s.job, s.global, { force: true }, 4);
    assert.equal(approved.outcome, 'success');
    assert.ok(s.spawner.bisyncCalls()[4]?.args.includes('--force'));
    assert.equal(s.runner.readState(s.job.name).needsApproval, false);
    assert.deepEqual(s.runner.readState(s.job.name).pendingDeletes, []);
  });
}

test('a stale rclone lock (dead PID) is removed and the run repeated once', async (t) => {
  const s = setup(t, [fixture('1.75', 'lock-present'), fixture('1.75', 'success')]);
  markSynced(s);
  const workdir = jobPaths(s.stateDir, s.job.name).workdir;
  mkdirSync(workdir, { recursive: true });
  // A lock created after the pre-run check, as if another rclone died right then.
  const lock = join(workdir, 'x..y.lck');
  s.spawner.calls.length = 0;
  const original = s.spawner.spawn.bind(s.spawner);
  s.spawner.spawn = (cmd, args, o) => {
    if (s.spawner.calls.length === 0) writeFileSync(lock, JSON.stringify({ Session: 'x..y', PID: '999999999' }));
    return original(cmd, args, o);
  };
  const record = await s.runner.run(s.job, s.global, {}, 2);
  assert.equal(record.outcome, 'success');
  assert.match(record.message, /removed a stale rclone lock/);
  assert.equal(existsSync(lock), false);
  assert.equal(s.spawner.bisyncCalls().length, 2);
});

test('a lock held by a live process is left alone: outcome locked, retried later', async (t) => {
  const s = setup(t, [fixture('1.75', 'lock-present')]);
  markSynced(s);
  const workdir = jobPaths(s.stateDir, s.job.name).workdir;
  mkdirSync(workdir, { recursive: true });
  const lock = join(workdir, 'x..y.lck');
  writeFileSync(lock, JSON.stringify({ PID: String(process.ppid) }));
  const record = await s.runner.run(s.job, s.global, {}, 2);
  assert.equal(record.outcome, 'locked');
  assert.ok(existsSync(lock));
  assert.equal(s.spawner.bisyncCalls().length, 1);
  const state = s.runner.readState(s.job.name);
  assert.equal(state.consecutiveFailures, 1);
  assert.equal(state.retryAtMs, s.clock.now() + 30_000);
});

test('filters-changed: the engine resyncs automatically and says why', async (t) => {
  const s = setup(t, [fixture('1.75', 'filters-changed'), fixture('1.75', 'resync'), fixture('1.75', 'no-change')]);
  markSynced(s);
  const record = await s.runner.run(s.job, s.global, {}, 2);
  assert.equal(record.operation, 'resync');
  assert.equal(record.outcome, 'success');
  assert.match(record.message, /automatic resync/);
  assert.match(record.message, /filters file changed/);
  assert.ok(s.spawner.bisyncCalls()[1]?.args.includes('--resync-mode=newer'));
  assert.ok(s.logger.messages('warn').some((m) => /resyncing automatically/.test(m)));
});

for (const v of ['1.60', '1.75'] as const) {
  test(`${v}: rclone's own check-access failure is check-failed, never a resync; the next run bisyncs normally`, async (t) => {
    const s = setup(t, [fixture(v, 'check-access'), fixture(v, 'success')], { caps: v === '1.60' ? CAPS_160 : CAPS_175, job: { checkAccess: true } });
    markSynced(s);
    writeFiles(s.job.local, { RCLONE_TEST: '', 'a.txt': 'a' });
    writeFiles(s.job.path2, { RCLONE_TEST: '', 'a.txt': 'a' });
    const workdir = jobPaths(s.stateDir, s.job.name).workdir;
    const listing = '# bisync listing v1\n-        1 - - 2026-01-01T00:00:00.000000000+0000 "a.txt"\n';
    writeFiles(workdir, { 'l..r.path1.lst': listing, 'l..r.path2.lst': listing });
    if (v === '1.60') {
      // What 1.60 does on a failed check: its listings become *-err (a lockout).
      const original = s.spawner.spawn.bind(s.spawner);
      s.spawner.spawn = (cmd, args, o) => {
        if (args[0] === 'bisync' && s.spawner.bisyncCalls().length === 0) {
          for (const side of ['path1', 'path2']) renameSync(join(workdir, `l..r.${side}.lst`), join(workdir, `l..r.${side}.lst-err`));
        }
        return original(cmd, args, o);
      };
    }
    const record = await s.runner.run(s.job, s.global, { trigger: 'schedule' }, 2);
    assert.equal(record.outcome, 'check-failed', record.message);
    assert.equal(record.operation, 'bisync');
    assert.equal(s.spawner.bisyncCalls().length, 1, 'no automatic resync');
    assert.match(record.message, /check-access test failed/);
    const state = s.runner.readState(s.job.name);
    assert.equal(state.needsResync, false);
    assert.equal(state.retryAtMs, 0, 'no retry storm: the next scheduled run checks again');
    assert.notEqual(state.sideCheck, null);
    assert.deepEqual(readdirSync(workdir).filter((n) => n.includes('.lst')).sort(), ['l..r.path1.lst', 'l..r.path2.lst'], 'listings in place, no -err left');
    assert.equal(readFileSync(join(workdir, 'l..r.path1.lst'), 'utf8'), listing);
    const healed = await s.runner.run(s.job, s.global, { trigger: 'schedule' }, 3);
    assert.equal(healed.operation, 'bisync');
    assert.equal(healed.outcome, 'success', healed.message);
    assert.equal(s.runner.readState(s.job.name).sideCheck, null);
  });
}

test('a lockout --recover cannot heal becomes needs-resync and stops the job until --resync', async (t) => {
  const s = setup(t, [fixture('1.60', 'first-run'), fixture('1.60', 'resync')], { caps: CAPS_160 });
  markSynced(s);
  const record = await s.runner.run(s.job, s.global, {}, 2);
  assert.equal(record.outcome, 'needs-resync');
  assert.equal(s.runner.readState(s.job.name).needsResync, true);
  const refused = await s.runner.run(s.job, s.global, { trigger: 'schedule' }, 3);
  assert.equal(refused.outcome, 'needs-resync');
  assert.equal(s.spawner.bisyncCalls().length, 1);
  const resynced = await s.runner.run(s.job, s.global, { resync: true }, 4);
  assert.equal(resynced.outcome, 'success');
  assert.equal(s.runner.readState(s.job.name).needsResync, false);
});

test('auto_resync: a lockout resyncs on its own with --resync-mode newer', async (t) => {
  const s = setup(t, [fixture('1.75', 'first-run'), fixture('1.75', 'resync'), fixture('1.75', 'no-change')], { job: { autoResync: true } });
  markSynced(s);
  const record = await s.runner.run(s.job, s.global, {}, 2);
  assert.equal(record.operation, 'resync');
  assert.equal(record.outcome, 'success');
  assert.ok(s.spawner.bisyncCalls()[1]?.args.includes('--resync-mode=newer'));
});

test('a run interrupted by a crash (interrupted flag) that ends locked out resyncs itself on 1.66+', async (t) => {
  const s = setup(t, [fixture('1.75', 'first-run'), fixture('1.75', 'resync'), fixture('1.75', 'no-change')]);
  markSynced(s, { interrupted: true });
  const record = await s.runner.run(s.job, s.global, {}, 2);
  assert.equal(record.operation, 'resync');
  assert.match(record.message, /interrupted/);
  assert.ok(s.logger.messages('warn').some((m) => /previous run of this job was interrupted/.test(m)));
});

test('retryable: remote down counts failures and schedules a retry with backoff', async (t) => {
  const s = setup(t, [fixture('1.75', 'remote-down'), fixture('1.75', 'remote-down')]);
  markSynced(s);
  await s.runner.run(s.job, s.global, {}, 2);
  const second = await s.runner.run(s.job, s.global, { trigger: 'retry' }, 3);
  assert.equal(second.outcome, 'retryable');
  const state = s.runner.readState(s.job.name);
  assert.equal(state.consecutiveFailures, 2);
  assert.equal(state.retryAtMs, second.finishedMs + 60_000);
});

test('a dry run writes no state and never seeds', async (t) => {
  const s = setup(t, [fixture('1.75', 'resync')]);
  const record = await s.runner.run(s.job, s.global, { dryRun: true }, 1);
  assert.equal(record.outcome, 'dry-run');
  assert.ok(s.spawner.bisyncCalls()[0]?.args.includes('--dry-run'));
  assert.equal(existsSync(jobPaths(s.stateDir, s.job.name).state), false);
  assert.equal(existsSync(s.job.local), false, 'nothing created on disk');
  assert.equal(s.runner.history(s.job.name, 5)[0]?.dryRun, true, 'the history still records it');
});

test('cancel on 1.66+: one SIGTERM, SIGKILL only after the grace period', async (t) => {
  const s = setup(t, [{ hang: true, lines: loadLog('1.75', 'interrupted').lines.slice(0, 3) }]);
  markSynced(s);
  const controller = new AbortController();
  const started = new Promise<void>((resolve) => {
    const running = s.runner.run(s.job, s.global, {}, 2, { signal: controller.signal, onStarted: () => resolve() });
    t.after(() => running.then(() => undefined));
  });
  await started;
  await new Promise((r) => setImmediate(r));
  controller.abort();
  const call = s.spawner.bisyncCalls()[0];
  assert.deepEqual(call?.signals, ['SIGTERM']);
  s.clock.advance(94_000);
  assert.deepEqual(call?.signals, ['SIGTERM'], 'no second signal during the graceful shutdown');
  s.clock.advance(2_000);
  assert.deepEqual(call?.signals, ['SIGTERM', 'SIGKILL']);
});

test('cancel on 1.60: SIGKILL at once (a signal would force a resync); the run ends cancelled', async (t) => {
  const s = setup(t, [{ hang: true }], { caps: CAPS_160 });
  markSynced(s);
  const controller = new AbortController();
  let resolveStarted: () => void = () => {};
  const started = new Promise<void>((r) => (resolveStarted = r));
  const running = s.runner.run(s.job, s.global, {}, 2, { signal: controller.signal, onStarted: () => resolveStarted() });
  await started;
  await new Promise((r) => setImmediate(r));
  controller.abort();
  const record = await running;
  assert.equal(record.outcome, 'cancelled');
  assert.deepEqual(s.spawner.bisyncCalls()[0]?.signals, ['SIGKILL']);
  assert.equal(s.runner.readState(s.job.name).interrupted, false);
});

test('a stop for the run conditions: onStarted reports the rclone the run uses; one SIGTERM; the record says what stopped it and that it runs again when they are met (still a graceful cancelled)', async (t) => {
  const s = setup(t, [{ hang: true, lines: loadLog('1.75', 'interrupted').lines.slice(0, 3), onSignal: () => ({ code: 143, signal: null }) }]);
  markSynced(s);
  const controller = new AbortController();
  const reported: string[] = [];
  let resolveStarted: () => void = () => {};
  const started = new Promise<void>((r) => (resolveStarted = r));
  const running = s.runner.run(s.job, s.global, { trigger: 'schedule' }, 2, {
    signal: controller.signal,
    onStarted: (_id, operation, rclone) => {
      reported.push(`${operation} ${rclone.version}`);
      resolveStarted();
    },
  });
  await started;
  assert.deepEqual(reported, [`bisync ${CAPS_175.version}`], 'the capabilities the attempt and its stop policy use');
  await new Promise((r) => setImmediate(r));
  controller.abort(conditionsStop('its time window ended'));
  const record = await running;
  assert.deepEqual(s.spawner.bisyncCalls()[0]?.signals, ['SIGTERM'], 'the graceful stop of 1.66+');
  assert.equal(record.outcome, 'cancelled', 'a graceful stop: not a failure, no retry, no alert');
  assert.equal(record.message, 'the bisync was stopped for its run conditions (its time window ended) before it finished');
  assert.equal(record.hint, `It runs again by itself when its run conditions are met (rbmctl status ${s.job.name} shows what it waits for), or now with rbmctl sync ${s.job.name}.`);
  const state = s.runner.readState(s.job.name);
  assert.deepEqual([state.needsResync, state.retryAtMs, state.consecutiveFailures, state.lastMessage], [false, 0, 0, record.message]);
  assert.equal(s.runner.history(s.job.name, 1)[0]?.message, record.message, 'the history says it too');
});

test('one run per job: a second run while the first holds the job lock is AlreadyRunning', async (t) => {
  const s = setup(t, [{ hang: true, onSignal: () => ({ code: 143, signal: null }) }]);
  markSynced(s);
  const controller = new AbortController();
  let resolveStarted: () => void = () => {};
  const started = new Promise<void>((r) => (resolveStarted = r));
  const first = s.runner.run(s.job, s.global, {}, 2, { signal: controller.signal, onStarted: () => resolveStarted() });
  await started;
  await assert.rejects(s.runner.run(s.job, s.global, {}, 3), (e: unknown) => (e as { code?: string }).code === 'AlreadyRunning' && /already running \(process \d+\)/.test((e as Error).message));
  // Issue 13.3: the refused run is in the history (and carried by the error for JobFinished), as `locked`.
  const refused = s.runner.history(s.job.name, 10).find((r) => r.runId === 3);
  assert.equal(refused?.outcome, 'locked');
  assert.match(refused?.message ?? '', /^refused: job .* is already running \(process \d+\); nothing was run$/);
  controller.abort();
  assert.equal((await first).outcome, 'cancelled');
  assert.equal(existsSync(jobPaths(s.stateDir, s.job.name).lock), false, 'the lock is released');
});

test('a corrupt state file is reported and rebuilt; rclone listings present → bisync with recovery, not a resync', async (t) => {
  const s = setup(t, [fixture('1.75', 'no-change')]);
  const paths = jobPaths(s.stateDir, s.job.name);
  mkdirSync(paths.workdir, { recursive: true });
  writeFileSync(paths.state, '{"version":1, "resyncDone": tr');
  writeFileSync(join(paths.workdir, 'a..b.path1.lst'), '');
  writeFileSync(join(paths.workdir, 'a..b.path2.lst'), '');
  const record = await s.runner.run(s.job, s.global, {}, 2);
  assert.equal(record.operation, 'bisync');
  assert.equal(record.outcome, 'no-changes');
  assert.ok(s.logger.messages('error').some((m) => /corrupt/.test(m)));
  assert.equal(s.runner.readState(s.job.name).lastOutcome, 'no-changes');
});

test('a corrupt state without listings rebuilds into a resync', async (t) => {
  const s = setup(t, [fixture('1.75', 'resync'), fixture('1.75', 'no-change')]);
  const paths = jobPaths(s.stateDir, s.job.name);
  mkdirSync(paths.dir, { recursive: true });
  writeFileSync(paths.state, 'garbage');
  const record = await s.runner.run(s.job, s.global, {}, 2);
  assert.equal(record.operation, 'resync');
});

test('hash warnings flag the job with the advice', async (t) => {
  const s = setup(t, [fixture('1.75', 'hash-blank')]);
  markSynced(s);
  const record = await s.runner.run(s.job, s.global, {}, 2);
  assert.equal(record.hashWarnings, 4);
  assert.match(record.hint, /--resync after changing them/);
  assert.equal(s.runner.readState(s.job.name).hashWarning, true);
});

test('conflicts are recorded with their copies', async (t) => {
  const s = setup(t, [fixture('1.60', 'conflict')], { caps: CAPS_160 });
  markSynced(s);
  const record = await s.runner.run(s.job, s.global, {}, 2);
  assert.equal(record.outcome, 'conflicts');
  assert.equal(record.conflicts[0]?.path, 'b.txt');
  assert.equal(record.conflicts[0]?.copies.length, 2);
});

test('rclone lines go to the log only with redirect_rclone_log_output', async (t) => {
  const quiet = setup(t, [fixture('1.75', 'success')]);
  markSynced(quiet);
  await quiet.runner.run(quiet.job, quiet.global, {}, 2);
  assert.ok(!quiet.logger.entries.some((e) => e.meta.source === 'rclone'));
  const loud = setup(t, [fixture('1.75', 'success')], { global: { redirectRcloneLogOutput: true } });
  markSynced(loud);
  await loud.runner.run(loud.job, loud.global, {}, 2);
  assert.ok(loud.logger.entries.some((e) => e.meta.source === 'rclone' && /Bisync successful/.test(e.message)));
});

test('cpulimit is attached to the rclone PID; without cpulimit the limit is reported as not applied', async (t) => {
  const s = setup(t, [fixture('1.75', 'no-change')], { global: { maxCpuUsagePercent: 30 }, cpulimitPath: '/usr/bin/cpulimit' });
  markSynced(s);
  await s.runner.run(s.job, s.global, {}, 2);
  const limiter = s.spawner.calls.find((c) => c.command === '/usr/bin/cpulimit');
  assert.ok(limiter);
  assert.deepEqual(limiter.args, [`--pid=${4_000_000 + 1}`, '--limit=30', '--lazy', '--quiet']);
  assert.equal(s.runner.cpuLimitNotApplied(s.global), false);
  const bare = setup(t, [fixture('1.75', 'no-change')], { global: { maxCpuUsagePercent: 30 } });
  markSynced(bare);
  await bare.runner.run(bare.job, bare.global, {}, 2);
  assert.equal(bare.runner.cpuLimitNotApplied(bare.global), true);
  assert.ok(bare.logger.messages('warn').some((m) => /cpulimit is not installed/.test(m)));
});

test('run ids increase across runner instances: a restart starts above the durable mark', (t) => {
  const s = setup(t, []);
  const first = [s.runner.nextRunId(), s.runner.nextRunId()];
  assert.deepEqual(first, [1, 2]);
  const again = createJobRunner({ spawner: s.spawner, clock: s.clock, logger: s.logger, stateDir: s.stateDir, probeCaps: () => Promise.resolve(CAPS_175) });
  const next = again.nextRunId();
  assert.ok(next > 2, `a restart never repeats an id (got ${next})`);
  assert.ok(Number(readFileSync(join(s.stateDir, 'run-id'), 'utf8').trim()) >= next, 'the stored mark covers every id handed out');
});

test('rclone is spawned rclone_nice below the service (the adapter applies it); 0 leaves the priority alone', async (t) => {
  const s = setup(t, [fixture('1.75', 'no-change')], { global: { rcloneNice: 7, maxCpuUsagePercent: 30 }, cpulimitPath: '/usr/bin/cpulimit' });
  markSynced(s);
  await s.runner.run(s.job, s.global, {}, 2);
  const [bisync] = s.spawner.bisyncCalls();
  assert.equal(bisync?.options.nice, 7);
  assert.equal(s.spawner.calls.find((c) => c.command === '/usr/bin/cpulimit')?.options.nice, undefined, 'cpulimit keeps the service priority, so it can still pace rclone');
  const same = setup(t, [fixture('1.75', 'no-change')], { global: { rcloneNice: 0 } });
  markSynced(same);
  await same.runner.run(same.job, same.global, {}, 2);
  assert.equal(same.spawner.bisyncCalls()[0]?.options.nice, undefined);
});

test('a failure to lower the priority is a warning, logged once, and the runs go on', async (t) => {
  const s = setup(t, [fixture('1.75', 'no-change'), fixture('1.75', 'no-change')]);
  markSynced(s);
  const spawner = s.spawner;
  const runner = createJobRunner({
    spawner: {
      spawn(command, args, options) {
        options?.onNiceError?.(new Error('setpriority: EACCES'));
        return spawner.spawn(command, args, options);
      },
    },
    clock: s.clock, logger: s.logger, stateDir: s.stateDir, probeCaps: () => Promise.resolve(CAPS_175),
  });
  const a = await runner.run(s.job, s.global, {}, 2);
  const b = await runner.run(s.job, s.global, {}, 3);
  assert.deepEqual([a.outcome, b.outcome], ['no-changes', 'no-changes']);
  const warnings = s.logger.messages('warn').filter((m) => /cannot lower the CPU priority of rclone/.test(m));
  assert.equal(warnings.length, 1);
});
