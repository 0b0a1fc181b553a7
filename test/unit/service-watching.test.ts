// The service half of sync on change (src/service/watching.ts) against the real scheduler on a fake clock and a fake
// tree watcher: a dry run neither swallows the changes waiting for a real run nor counts as the job's own writes, and
// only the running run's own end closes its bookkeeping (a cancel first drops a queued run).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TreeWatcherOptions } from '../../src/platform/tree-watcher.js';
import { nullLogger } from '../../src/ports.js';
import { createWatching } from '../../src/service/watching.js';
import { createHarness } from '../helpers/scheduler-harness.js';
import { flush, makeJob } from '../helpers/scheduler-fixtures.js';
import { makeGlobal } from '../helpers/job.js';

const never = '0 0 1 1 *';

function watchedWorld() {
  const job = makeJob('docs', { schedule: never, watch: { enabled: true, delayMs: 1000, maxWaitMs: 10_000 } });
  const h = createHarness({ startMs: Date.UTC(2024, 0, 1, 12), jobs: [job] });
  const watchers: TreeWatcherOptions[] = [];
  const watching = createWatching({
    clock: h.clock,
    logger: nullLogger,
    scheduler: h.scheduler,
    platform: {
      createTreeWatcher: (options) => {
        watchers.push(options);
        return { watchedDirs: () => 1, close: () => undefined };
      },
      workdirOf: () => '/state/jobs/docs/workdir',
      readText: () => undefined,
    },
    globalSettings: () => makeGlobal(),
    changed: () => undefined,
  });
  watching.start();
  watching.reconcile();
  const watcher = (): TreeWatcherOptions => {
    const w = watchers.at(-1);
    assert.ok(w, 'the job is watched');
    return w;
  };
  return { h, watching, watcher };
}

test('a dry run does not swallow a change waiting for its quiet period: the watch run still comes', async () => {
  const { h, watcher } = watchedWorld();
  watcher().onChange(['notes.txt']);
  h.scheduler.trigger('docs', { trigger: 'manual', dryRun: true });
  await flush();
  assert.equal(h.runs.length, 1);
  await h.runs[0]!.finish({ dryRun: true, outcome: 'dry-run' });
  await h.advance(1000);
  assert.equal(h.runs.length, 2, 'the change still starts a real run');
  assert.equal(h.runs[1]!.request.trigger, 'watch');
});

test('what the running run still writes after a cancel dropped the queued run is its own write, not a change to sync', async () => {
  const { h, watching, watcher } = watchedWorld();
  h.scheduler.trigger('docs', { trigger: 'manual' });
  await flush();
  assert.equal(h.runs.length, 1, 'running');
  h.scheduler.trigger('docs', { trigger: 'manual' }); // queued behind the running one
  h.scheduler.cancel('docs'); // drops the queued run first: its run-finished comes before the running run's end
  await flush();
  // rclone >= 1.66 lets transfers in flight finish after the stop: the download lands, and inotify reports it.
  watching.messageHook('docs')({ text: '- Path2    Queue copy to Path1       - /data/docs/downloaded.txt' });
  watcher().onChange(['downloaded.txt']);
  await h.runs[0]!.finish({ outcome: 'cancelled' });
  await h.advance(1000);
  assert.deepEqual(h.runs.map((r) => r.request.trigger), ['manual'], 'no watch run for the run\'s own download');
});
