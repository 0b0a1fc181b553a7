// The STATUS= line (src/service/status-line.ts): what it says for the scheduler's picture and the config state, and
// that it is sent only when it changes, once per burst of scheduler events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, RbmError } from '../../src/errors.js';
import { nullNotifier } from '../../src/platform/notify.js';
import { composeStatusLine, configErrorSummary, createStatusReporter } from '../../src/service/status-line.js';
import { createHarness } from '../helpers/scheduler-harness.js';
import { makeJob } from '../helpers/scheduler-fixtures.js';

const never = '0 0 1 1 *';
const running = { state: 'running', configErrorLine: '', configLoaded: true } as const;

test('the line counts the jobs and names the running ones, the queued count, those that need attention and the paused count', async () => {
  const h = createHarness({
    maxParallel: 2,
    jobs: ['photos', 'docs', 'music', 'books', 'films'].map((n) => makeJob(n, { schedule: never })),
    states: { music: { needsResync: true } },
  });
  assert.equal(composeStatusLine(h.scheduler, running), '5 jobs, idle, needs attention: music');
  for (const job of ['photos', 'docs', 'books']) h.scheduler.trigger(job, { trigger: 'manual' });
  h.scheduler.pause('films');
  await h.advance(0);
  assert.equal(composeStatusLine(h.scheduler, running), '5 jobs, 2 running: photos, docs, 1 queued, needs attention: music, 1 paused');
  assert.equal(composeStatusLine(h.scheduler, { ...running, state: 'stopping' }), 'stopping: waiting for photos, docs');
  await h.finishAll();
  await h.finishAll();
  assert.equal(composeStatusLine(h.scheduler, { ...running, state: 'stopping' }), 'stopping: done');
});

test('a config error leads the line and says whether the last good config is still in force', () => {
  const h = createHarness({ jobs: [makeJob('a', { schedule: never })] });
  assert.equal(composeStatusLine(h.scheduler, { ...running, configErrorLine: 'config.yaml:4:15 x: bad' }), 'config error: config.yaml:4:15 x: bad; last good config in force; 1 job, idle');
  const empty = createHarness({ jobs: [] });
  assert.equal(composeStatusLine(empty.scheduler, { state: 'starting', configErrorLine: 'config file /c.yaml does not exist', configLoaded: false }), 'config error: config file /c.yaml does not exist; no config loaded; 0 jobs, idle');
});

test('a config error is summarised by its first issue and the count of the others, or by the first line of its message', () => {
  const issue = (line: number) => ({ file: 'config.yaml', line, col: 3, path: `sync_jobs.j${line}.schedule`, message: 'bad schedule' });
  assert.equal(configErrorSummary(new ConfigError([issue(4)])), 'config.yaml:4:3 sync_jobs.j4.schedule: bad schedule');
  assert.equal(configErrorSummary(new ConfigError([issue(4), issue(9), issue(12)])), 'config.yaml:4:3 sync_jobs.j4.schedule: bad schedule (+2 more)');
  assert.equal(configErrorSummary(new RbmError('InvalidConfig', 'cannot load /c.yaml: EACCES\nsecond line')), 'cannot load /c.yaml: EACCES');
});

test('STATUS= is sent only when the line changes, and a burst of refreshSoon calls refreshes once', async () => {
  const sent: string[] = [];
  let line = '1 job, idle';
  let key = 'k1';
  let summaries = 0;
  const reporter = createStatusReporter({ notifier: { ...nullNotifier, status: (text) => sent.push(text) }, composeLine: () => line, summaryKey: () => key, summaryChanged: () => summaries++ });
  assert.equal(reporter.lastLine(), '');
  reporter.refresh();
  reporter.refresh();
  assert.deepEqual(sent, ['1 job, idle']);
  assert.equal(summaries, 1);
  line = '1 job, 1 running: a';
  for (let i = 0; i < 1000; i++) reporter.refreshSoon();
  assert.deepEqual(sent, ['1 job, idle'], 'nothing before the microtask');
  await Promise.resolve();
  assert.deepEqual(sent, ['1 job, idle', '1 job, 1 running: a']);
  assert.equal(summaries, 1, 'the summary key did not change');
  key = 'k2';
  reporter.refresh();
  assert.equal(summaries, 2);
  assert.equal(reporter.lastLine(), '1 job, 1 running: a');
});
