// The service half of sync on change (src/service/watching.ts) against the real scheduler on a fake clock and a fake
// tree watcher whose settled() barrier the test releases: a dry run neither swallows the changes waiting for a real
// run nor counts as the job's own writes; only the running run's own end closes its bookkeeping; the run's late
// events (after its end, before the barrier) are its own; changes wait for a retry's backoff and for an approval; the
// global rclone options filter the watch, and a reload that changes them rebuilds it. Every wait is on an event: the
// scheduler's, or the service's own log line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GlobalSettings } from '../../src/config/types.js';
import type { TreeWatcherOptions } from '../../src/platform/tree-watcher.js';
import type { Logger, LogMeta } from '../../src/ports.js';
import { createWatching, SETTLE_LIMIT_MS } from '../../src/service/watching.js';
import type { JobState } from '../../src/run/types.js';
import { createHarness } from '../helpers/scheduler-harness.js';
import { deferred, makeJob } from '../helpers/scheduler-fixtures.js';
import { makeGlobal } from '../helpers/job.js';

const never = '0 0 1 1 *';
const START = Date.UTC(2024, 0, 1, 12);

interface LogEntry {
  message: string;
  meta: LogMeta;
}

/** A logger whose lines a test can wait for (the service's own "after the run" decision, "no sync queued"). */
function waitableLogger() {
  const entries: LogEntry[] = [];
  const waiters: { match: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }[] = [];
  const make = (base: LogMeta): Logger => {
    const add = (message: string, meta: LogMeta = {}): void => {
      const entry = { message, meta: { ...base, ...meta } };
      entries.push(entry);
      for (const w of [...waiters]) {
        if (!w.match(entry)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    };
    return { debug: add, info: add, warn: add, error: add, child: (meta) => make({ ...base, ...meta }) };
  };
  return {
    logger: make({}),
    entries,
    /** The first line (already written or still to come) whose message starts with `prefix`, after `from` lines. */
    next(prefix: string, from = 0): Promise<LogEntry> {
      const found = entries.slice(from).find((e) => e.message.startsWith(prefix));
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match: (e) => e.message.startsWith(prefix), resolve }));
    },
  };
}

interface FakeWatcher {
  options: TreeWatcherOptions;
  /** settled() calls not yet released. */
  barriers: (() => void)[];
  closed: boolean;
}

function watchedWorld(options: { state?: Partial<JobState>; global?: Partial<GlobalSettings>; releaseBarriers?: boolean; settleFails?: boolean } = {}) {
  const job = makeJob('docs', { schedule: never, watch: { enabled: true, delayMs: 1000, maxWaitMs: 10_000 } });
  const h = createHarness({ startMs: START, jobs: [job], ...(options.state ? { states: { docs: options.state } } : {}) });
  const watchers: FakeWatcher[] = [];
  const log = waitableLogger();
  let global = makeGlobal(options.global);
  const watching = createWatching({
    clock: h.clock,
    logger: log.logger,
    scheduler: h.scheduler,
    platform: {
      createTreeWatcher: (watcherOptions) => {
        const fake: FakeWatcher = { options: watcherOptions, barriers: [], closed: false };
        watchers.push(fake);
        return {
          watchedDirs: () => 1,
          settled: () => {
            if (options.settleFails === true) return Promise.reject(new Error('EIO: the barrier folder went away'));
            if (options.releaseBarriers !== false) return Promise.resolve();
            const d = deferred<void>();
            fake.barriers.push(() => d.resolve());
            return d.promise;
          },
          close: () => {
            fake.closed = true;
          },
        };
      },
      workdirOf: () => '/state/jobs/docs/workdir',
      barrierDirOf: () => '/state/jobs/docs/watch-barrier',
      serviceDirs: ['/state', '/config'],
      readText: () => undefined,
    },
    globalSettings: () => global,
    changed: () => undefined,
  });
  watching.start();
  watching.reconcile();
  const watcher = (): FakeWatcher => {
    const w = watchers.at(-1);
    assert.ok(w, 'the job is watched');
    return w;
  };
  const setGlobal = (next: Partial<GlobalSettings>): void => {
    global = makeGlobal(next);
  };
  return { h, watching, watcher, watchers, log, setGlobal };
}

test('a dry run does not swallow a change waiting for its quiet period: the watch run still comes', async () => {
  const { h, watcher } = watchedWorld();
  watcher().options.onChange(['notes.txt']);
  h.scheduler.trigger('docs', { trigger: 'manual', dryRun: true });
  assert.equal(h.runs.length, 1, 'the dry run started at once');
  await h.runs[0]!.finish({ dryRun: true, outcome: 'dry-run' });
  await h.advance(1000);
  assert.equal(h.runs.length, 2, 'the change still starts a real run');
  assert.equal(h.runs[1]!.request.trigger, 'watch');
});

test('under the service\'s global dry run (-d) a run is a dry run too: it does not swallow a waiting change', async () => {
  const { h, watcher } = watchedWorld({ global: { dryRun: true } });
  watcher().options.onChange(['notes.txt']);
  h.scheduler.trigger('docs', { trigger: 'manual' });
  assert.equal(h.runs.length, 1);
  await h.runs[0]!.finish({ dryRun: true, outcome: 'dry-run' });
  await h.advance(1000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual', 'watch'], 'the change still gets its own run');
});

test('what the running run still writes after a cancel dropped the queued run is its own write, not a change to sync', async () => {
  const { h, watching, watcher, log } = watchedWorld();
  h.scheduler.trigger('docs', { trigger: 'manual' });
  assert.equal(h.runs.length, 1, 'running');
  h.scheduler.trigger('docs', { trigger: 'manual' }); // queued behind the running one
  h.scheduler.cancel('docs'); // drops the queued run first: its run-finished comes before the running run's end
  // rclone >= 1.66 lets transfers in flight finish after the stop: the download lands, and inotify reports it.
  watching.messageHook('docs')({ text: '- Path2    Queue copy to Path1       - /data/docs/downloaded.txt' });
  watcher().options.onChange(['downloaded.txt']);
  await h.runs[0]!.finish({ outcome: 'cancelled' });
  assert.deepEqual((await log.next('after the run')).meta, { component: 'watch', job: 'docs', runId: 1, followUp: 'none', reason: 'own-writes', unexplained: [] });
  await h.advance(1000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual'], 'no watch run for the run\'s own download');
});

test('the run\'s last events, reported after its end but before the watcher settled, are its own writes: no follow-up', async () => {
  const { h, watching, watcher, log } = watchedWorld({ releaseBarriers: false });
  h.scheduler.trigger('docs', { trigger: 'manual' });
  const hook = watching.messageHook('docs');
  for (let i = 0; i < 50; i++) hook({ text: `- Path2    Queue copy to Path1       - /data/docs/incoming/f${i}.txt` });
  watcher().options.onChange(['incoming', ...Array.from({ length: 30 }, (_, i) => `incoming/f${i}.txt`)]);
  await h.runs[0]!.finish();
  assert.equal(watcher().barriers.length, 1, 'the service waits for the watcher to settle');
  // inotify and the watcher's lstat were still on their way when the run ended:
  watcher().options.onChange(['incoming', ...Array.from({ length: 20 }, (_, i) => `incoming/f${30 + i}.txt`)]);
  watcher().barriers[0]!();
  assert.deepEqual((await log.next('after the run')).meta, { component: 'watch', job: 'docs', runId: 1, followUp: 'none', reason: 'own-writes', unexplained: [] });
  await h.advance(60_000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual'], 'no extra run for the late echo');
});

test('a change while a retryable failure backs off queues no run before the retry time: the retry is that run', async () => {
  const retryAtMs = START + 5 * 60_000;
  const { h, watcher, log } = watchedWorld({ state: { lastOutcome: 'retryable', consecutiveFailures: 1, retryAtMs } });
  watcher().options.onChange(['edited-offline.txt']);
  await h.advance(1000);
  const held = await log.next('local changes seen; no sync queued');
  assert.equal(held.message, 'local changes seen; no sync queued: the job waits for its retry');
  assert.deepEqual(held.meta.first, ['edited-offline.txt']);
  assert.equal(h.runs.length, 0, 'no run before the retry time');
  watcher().options.onChange(['edited-again.txt']);
  await h.advance(retryAtMs - h.clock.now());
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['retry'], 'the retry runs at its time, and only it');
  h.states.set('docs', { ...h.states.get('docs')!, lastOutcome: 'success', consecutiveFailures: 0, retryAtMs: 0 });
  await h.runs[0]!.finish();
  await log.next('after the run');
  watcher().options.onChange(['after-the-retry.txt']);
  await h.advance(1000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['retry', 'watch'], 'once the retry succeeded, a change runs again');
});

test('a job waiting for an approval is not run by changes (no run per saved file); its log says why', async () => {
  const { h, watcher, log } = watchedWorld({ state: { needsApproval: true, lastOutcome: 'needs-approval' } });
  watcher().options.onChange(['still-editing.txt']);
  await h.advance(1000);
  assert.equal((await log.next('local changes seen; no sync queued')).message, 'local changes seen; no sync queued: the job waits for an approval');
  await h.advance(60_000);
  assert.equal(h.runs.length, 0);
});

test('the global rclone options filter the watch; a reload that adds a global exclude rebuilds the watch with it', () => {
  const { watching, watcher, watchers, setGlobal } = watchedWorld({ global: { rcloneOptions: { exclude: ['*.tmp'] } } });
  assert.equal(watcher().options.ignore?.('scratch.tmp'), true, 'the global exclude applies');
  assert.equal(watcher().options.ignore?.('build/out.o'), false);
  assert.equal(watcher().options.ignore?.('big.iso.3f2a9c1d.partial'), true, 'rclone\'s temporaries, from the argv\'s own filter');
  watching.reconcile(true); // a reload with nothing changed keeps the watch
  assert.equal(watchers.length, 1);
  setGlobal({ rcloneOptions: { exclude: ['*.tmp'] }, bisyncOptions: { filter: ['- build/**'] } });
  watching.reconcile(true);
  assert.equal(watchers.length, 2, 'rebuilt');
  assert.equal(watchers[0]!.closed, true);
  assert.equal(watcher().options.ignore?.('build/out.o'), true, 'the new global filter applies');
});

test('a run that ends before the previous run\'s watcher settled decides both: one decision line, the later run\'s', async () => {
  const { h, watching, watcher, log } = watchedWorld({ releaseBarriers: false });
  h.scheduler.trigger('docs', { trigger: 'manual' });
  h.scheduler.trigger('docs', { trigger: 'schedule' }); // queued behind it: starts as soon as the first one ends
  watching.messageHook('docs')({ text: '- Path2    Queue copy to Path1       - /data/docs/first.txt' });
  await h.runs[0]!.finish();
  assert.equal(h.runs.length, 2, 'the queued run started at once');
  watcher().options.onChange(['first.txt']); // the first run's echo, late
  watching.messageHook('docs')({ text: '- Path2    Queue copy to Path1       - /data/docs/second.txt' });
  watcher().options.onChange(['second.txt']);
  await h.runs[1]!.finish();
  const [first, second] = watcher().barriers;
  first!();
  second!();
  const line = await log.next('after the run');
  assert.deepEqual(line.meta, { component: 'watch', job: 'docs', runId: 2, followUp: 'none', reason: 'own-writes', unexplained: [] });
  await h.advance(60_000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual', 'schedule'], 'no follow-up for either run');
  assert.equal(log.entries.filter((e) => e.message === 'after the run').length, 1);
});

test('review finding 2: a watcher that never settles (an lstat on a hung mount) does not stop the watch: the run is decided at the limit', async () => {
  const { h, watching, watcher, log } = watchedWorld({ releaseBarriers: false });
  h.scheduler.trigger('docs', { trigger: 'manual' });
  watching.messageHook('docs')({ text: '- Path2    Queue copy to Path1       - /data/docs/downloaded.txt' });
  watcher().options.onChange(['downloaded.txt', 'typed-during-the-run.txt']);
  await h.runs[0]!.finish();
  assert.equal(watcher().barriers.length, 1, 'the service waits for the watcher to settle');
  await h.advance(SETTLE_LIMIT_MS - 1);
  assert.equal(log.entries.filter((e) => e.message === 'after the run').length, 0, 'not before the limit');
  await h.advance(1);
  assert.equal((await log.next('the watcher did not settle in time')).meta.runId, 1);
  assert.deepEqual((await log.next('after the run')).meta, { component: 'watch', job: 'docs', runId: 1, followUp: 'follow-up', reason: undefined, unexplained: ['typed-during-the-run.txt'] });
  await h.advance(1000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual', 'watch'], 'the user\'s change is synced');
  await h.runs[1]!.finish(); // its barrier never passes either
  const decided = log.entries.length;
  await h.advance(SETTLE_LIMIT_MS);
  await log.next('after the run', decided);
  for (let i = 0; i < 3; i++) {
    watcher().options.onChange([`user-edit-${i}.txt`]);
    await h.advance(1000);
    assert.equal(h.runs.length, 3 + i, `edit ${i} starts a run`);
    await h.runs.at(-1)!.finish();
    await h.advance(SETTLE_LIMIT_MS);
  }
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual', 'watch', 'watch', 'watch', 'watch']);
});

test('review finding 2: a settled() that fails is logged and the run is decided with what was seen; the watch goes on', async () => {
  const { h, watcher, log } = watchedWorld({ settleFails: true });
  h.scheduler.trigger('docs', { trigger: 'manual' });
  watcher().options.onChange(['typed-during-the-run.txt']);
  await h.runs[0]!.finish();
  assert.match(String((await log.next('the watcher could not settle')).meta.error), /EIO/);
  assert.equal((await log.next('after the run')).meta.followUp, 'follow-up');
  await h.advance(1000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual', 'watch']);
  await h.runs[1]!.finish();
  watcher().options.onChange(['later.txt']);
  await h.advance(1000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual', 'watch', 'watch'], 'later changes still run');
});

test('review finding 3: a reload that changes only options outside the filters (transfers) keeps the watch and its waiting change', async () => {
  const { h, watching, watchers, watcher, setGlobal } = watchedWorld({ global: { rcloneOptions: { transfers: 4 } } });
  watcher().options.onChange(['notes.txt']);
  await h.advance(500);
  setGlobal({ rcloneOptions: { transfers: 8, bwlimit: '1M' } });
  watching.reconcile(true);
  assert.equal(watchers.length, 1, 'not rebuilt');
  await h.advance(500);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['watch'], 'the change runs at the end of its quiet period');
});

test('review finding 3: a reload that changes the filters rebuilds the watch; the changes waiting go on to the new one', async () => {
  const { h, watching, watchers, watcher, setGlobal, log } = watchedWorld();
  watcher().options.onChange(['notes.txt', 'build.log']);
  await h.advance(500);
  setGlobal({ rcloneOptions: { exclude: ['*.log'] } });
  watching.reconcile(true);
  assert.equal(watchers.length, 2, 'rebuilt');
  await h.advance(1000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['watch'], 'the waiting change still runs');
  assert.deepEqual((await log.next('local changes: sync queued')).meta.first, ['notes.txt'], 'the path the new filters leave out is dropped, the other kept');
});

test('review finding 3: a rebuild during a run keeps the changes seen during it and its list of writes: one follow-up for the user\'s change only', async () => {
  const { h, watching, watchers, watcher, setGlobal, log } = watchedWorld();
  h.scheduler.trigger('docs', { trigger: 'manual' });
  watching.messageHook('docs')({ text: '- Path2    Queue copy to Path1       - /data/docs/downloaded.txt' });
  watcher().options.onChange(['downloaded.txt', 'typed.txt']);
  setGlobal({ rcloneOptions: { exclude: ['*.log'] } });
  watching.reconcile(true);
  assert.equal(watchers.length, 2, 'rebuilt while the run goes');
  watching.messageHook('docs')({ text: '- Path2    Queue copy to Path1       - /data/docs/second.txt' });
  watcher().options.onChange(['second.txt']);
  await h.runs[0]!.finish();
  assert.deepEqual((await log.next('after the run')).meta, { component: 'watch', job: 'docs', runId: 1, followUp: 'follow-up', reason: undefined, unexplained: ['typed.txt'] });
  await h.advance(1000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual', 'watch']);
});

test('review finding 3: a rebuild while a run is ending keeps its follow-up', async () => {
  const { h, watching, watchers, watcher, setGlobal } = watchedWorld({ releaseBarriers: false });
  h.scheduler.trigger('docs', { trigger: 'manual' });
  watcher().options.onChange(['typed.txt']);
  await h.runs[0]!.finish(); // its barrier has not passed yet
  setGlobal({ rcloneOptions: { exclude: ['*.log'] } });
  watching.reconcile(true);
  assert.equal(watchers.length, 2, 'rebuilt while the run ends');
  watchers[0]!.barriers[0]!();
  await h.advance(1000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual', 'watch'], 'the change seen during the run is synced');
});
