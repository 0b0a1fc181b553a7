// The sync-on-change keys (issue 16): watch, watch_delay, watch_max_wait (global and per job, the job's own value
// wins); defaults, fractions of a second, and every bad value reported with file:line:col and the key's path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJobDefinition } from '../../src/config/parse.js';
import { parseDurationMs, parseDurationSeconds } from '../../src/api/duration.js';

import { config, issuesOf, parse } from '../helpers/config-keys.js';

test('defaults: off, 1 s quiet period, 10 s max wait', () => {
  const c = parse(config());
  const expected = { enabled: false, delayMs: 1000, maxWaitMs: 10_000 };
  assert.deepEqual(c.global.watch, expected);
  assert.deepEqual(c.jobs.map((j) => j.watch), [expected, expected]);
});

test("global keys apply to every job; a job's own key wins, key by key", () => {
  const c = parse(config('watch: true\nwatch_delay: 500ms\nwatch_max_wait: 20s\n', '    watch: false\n    watch_delay: 0.25\n'));
  assert.deepEqual(c.global.watch, { enabled: true, delayMs: 500, maxWaitMs: 20_000 });
  assert.deepEqual(c.jobs[0]!.watch, { enabled: false, delayMs: 250, maxWaitMs: 20_000 });
  assert.deepEqual(c.jobs[1]!.watch, { enabled: true, delayMs: 500, maxWaitMs: 20_000 });
});

test('durations: seconds as numbers or text, fractions, ms, and the older whole-second keys unchanged', () => {
  assert.equal(parseDurationMs(0.5), 500);
  assert.equal(parseDurationMs('1.5s'), 1500);
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('250ms'), 250);
  assert.equal(parseDurationMs('2'), 2000);
  assert.equal(parseDurationMs('1x'), undefined);
  assert.equal(parseDurationMs(-1), undefined);
  assert.equal(parseDurationSeconds('90s'), 90);
  assert.equal(parseDurationSeconds('1d12h'), 129_600);
  assert.equal(parseDurationSeconds('1.5s'), undefined);
  assert.equal(parseDurationSeconds('500ms'), undefined);
  assert.equal(parseDurationSeconds(1.5), undefined);
});

test('bad values are located and say what is expected', () => {
  const [notBool] = issuesOf(config('watch: "on"\n'));
  assert.match(notBool!, /:2:\d+ watch: /);
  const [delay] = issuesOf(config('watch_delay: soon\n'));
  assert.match(delay!, /^.*config\.yaml:2:14 watch_delay: "soon" is not a duration \(expected a duration from 50ms to 10 minutes/);
  const [tooShort] = issuesOf(config('', '    watch_delay: 10ms\n'));
  assert.match(tooShort!, /:8:18 sync_jobs\.docs\.watch_delay: "10ms" is out of range/);
  const [order] = issuesOf(config('', '    watch_delay: 5s\n    watch_max_wait: 2s\n'));
  assert.match(order!, /:9:\d+ sync_jobs\.docs\.watch_max_wait: watch_max_wait \(2000 ms\) is shorter than watch_delay \(5000 ms\)/);
  const [inherited] = issuesOf(config('watch_max_wait: 3s\n', '    watch_delay: 5s\n'));
  assert.match(inherited!, /sync_jobs\.docs\.watch_delay: watch_max_wait \(3000 ms\) is shorter than watch_delay/);
  const [negative] = issuesOf(config('watch_max_wait: -1\n'));
  assert.match(negative!, /:2:\d+ watch_max_wait: /);
});

test('a job added over D-Bus inherits the global watch keys', () => {
  const c = parse(config('watch: true\nwatch_delay: 2s\n'));
  const job = parseJobDefinition('new', { local: 'new', rclone_remote: 'gdrive', remote: 'New', schedule: '@daily', watch_max_wait: '4s' }, c, undefined, '/home/u');
  assert.deepEqual(job.watch, { enabled: true, delayMs: 2000, maxWaitMs: 4000 });
});
