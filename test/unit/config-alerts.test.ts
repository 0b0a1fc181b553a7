// The alert keys (issue 15): notifications, on_attention, stale_after, failures_before_alert (global and per job, the
// job's own value wins) and notification_details_command (global); their defaults, and every bad value reported with
// file:line:col and the key's path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFINITION_FILE, parseJobDefinition } from '../../src/config/parse.js';
import { ConfigError, formatIssue } from '../../src/errors.js';

import { FILE, config, issuesOf, parse } from '../helpers/config-keys.js';

test('defaults: notifications attention, no hook, stale_after from the schedule, 3 failures, the terminal details command', () => {
  const c = parse(config());
  const expected = { notifications: 'attention', onAttention: [], staleAfterSec: undefined, failuresBeforeAlert: 3 };
  assert.deepEqual(c.global.alerts, expected);
  assert.deepEqual(c.jobs.map((j) => j.alerts), [expected, expected]);
  assert.deepEqual(c.global.detailsCommand, ['x-terminal-emulator', '-e', 'rbmctl', '{action}', '{job}']);
});

test('global keys apply to every job; a job\'s own key wins, key by key', () => {
  const top = 'notifications: all\non_attention: [~/bin/alert, --to, me]\nstale_after: 36h\nfailures_before_alert: 5\nnotification_details_command: [xterm, -e, rbmctl, status, "{job}"]\n';
  const own = '    notifications: none\n    on_attention: [/usr/local/bin/page-me, "{job} is stuck"]\n    stale_after: 1d12h\n    failures_before_alert: 1\n';
  const c = parse(config(top, own));
  assert.deepEqual(c.global.alerts, { notifications: 'all', onAttention: ['/home/u/bin/alert', '--to', 'me'], staleAfterSec: 36 * 3600, failuresBeforeAlert: 5 });
  assert.deepEqual(c.global.detailsCommand, ['xterm', '-e', 'rbmctl', 'status', '{job}']);
  assert.deepEqual(c.jobs[0]!.alerts, { notifications: 'none', onAttention: ['/usr/local/bin/page-me', '{job} is stuck'], staleAfterSec: 36 * 3600, failuresBeforeAlert: 1 });
  assert.deepEqual(c.jobs[1]!.alerts, c.global.alerts, 'a job without its own keys takes the global ones');
  const partial = parse(config(top, '    stale_after: 90m\n'));
  assert.deepEqual(partial.jobs[0]!.alerts, { ...partial.global.alerts, staleAfterSec: 5400 }, 'only the key the job sets is its own');
});

test('stale_after: seconds or a duration, 1 minute to 365 days', () => {
  const seconds = (value: string): number | undefined => parse(config(`stale_after: ${value}\n`)).global.alerts.staleAfterSec;
  assert.equal(seconds('60'), 60);
  assert.equal(seconds('"1m"'), 60);
  assert.equal(seconds('2d'), 2 * 86_400);
  assert.equal(seconds('365d'), 365 * 86_400);
  assert.equal(seconds('31536000'), 365 * 86_400);
});

test('a job added over D-Bus (AddJob) inherits the global alert keys and may set its own', () => {
  const c = parse(config('stale_after: 2h\nfailures_before_alert: 7\n'));
  const job = parseJobDefinition('music', { local: 'music', rclone_remote: 'gdrive', remote: 'Music', schedule: '@daily', notifications: 'none' }, c, undefined, '/home/u');
  assert.deepEqual(job.alerts, { notifications: 'none', onAttention: [], staleAfterSec: 7200, failuresBeforeAlert: 7 });
  assert.throws(
    () => parseJobDefinition('music', { local: 'music', rclone_remote: 'gdrive', remote: 'Music', schedule: '@daily', stale_after: '5s' }, c),
    (e: unknown) => e instanceof ConfigError && formatIssue(e.issues[0]!).startsWith(`${DEFINITION_FILE}`) && /sync_jobs\.music\.stale_after: "5s" is out of range/.test(formatIssue(e.issues[0]!)),
  );
});

/** [the top-level text, the job's own text, the issue line expected in full]. */
const BAD: [string, string, string, string][] = [
  ['notifications not one of the three', 'notifications: loud\n', '', `${FILE}:2:16 notifications: "loud" is not allowed (expected one of all, attention, none)`],
  ['notifications in capitals', '', '    notifications: All\n', `${FILE}:8:20 sync_jobs.docs.notifications: "All" is not allowed (expected one of all, attention, none)`],
  ['on_attention a string (a shell line)', 'on_attention: "mail -s sync me"\n', '', `${FILE}:2:15 on_attention: wrong type: string "mail -s sync me" (expected the command run for each alert: a list such as ["~/bin/alert", "--urgent"] whose first item is a command name on PATH or an absolute path, each argument its own item)`],
  ['on_attention empty (top level; a job\'s [] turns it off)', 'on_attention: []\n', '', `${FILE}:2:15 on_attention: the list is empty (expected the command run for each alert: a list such as ["~/bin/alert", "--urgent"] whose first item is a command name on PATH or an absolute path, each argument its own item)`],
  ['on_attention program with arguments in it', 'on_attention: ["mail -s sync", me]\n', '', `${FILE}:2:16 on_attention.0: "mail -s sync" contains blanks (expected a command name on PATH or an absolute path, alone: each argument is its own list item; no shell)`],
  ['on_attention relative program', '', '    on_attention: [bin/alert]\n', `${FILE}:8:20 sync_jobs.docs.on_attention.0: "bin/alert" is not an absolute path (expected a command name on PATH or an absolute path, alone: each argument is its own list item; no shell)`],
  ['on_attention empty argument', 'on_attention: [alert, ""]\n', '', `${FILE}:2:23 on_attention.1: the value is empty (expected a non-empty string)`],
  ['on_attention a number in it', 'on_attention: [alert, 3]\n', '', `${FILE}:2:23 on_attention.1: wrong type: number 3 (expected a non-empty string)`],
  ['stale_after not a duration', 'stale_after: soon\n', '', `${FILE}:2:14 stale_after: "soon" is not a duration (expected a duration from 1 minute to 365 days, such as "36h", "2d" or "90m", or seconds)`],
  ['stale_after under a minute', '', '    stale_after: 30s\n', `${FILE}:8:18 sync_jobs.docs.stale_after: "30s" is out of range (expected a duration from 1 minute to 365 days, such as "36h", "2d" or "90m", or seconds)`],
  ['stale_after seconds under a minute', 'stale_after: 59\n', '', `${FILE}:2:14 stale_after: 59 is out of range (expected a duration from 1 minute to 365 days, such as "36h", "2d" or "90m", or seconds)`],
  ['stale_after over a year', 'stale_after: 366d\n', '', `${FILE}:2:14 stale_after: "366d" is out of range (expected a duration from 1 minute to 365 days, such as "36h", "2d" or "90m", or seconds)`],
  ['stale_after a fraction', 'stale_after: 90.5\n', '', `${FILE}:2:14 stale_after: wrong type: number 90.5 (expected a duration from 1 minute to 365 days, such as "36h", "2d" or "90m", or seconds)`],
  ['failures_before_alert 0', 'failures_before_alert: 0\n', '', `${FILE}:2:24 failures_before_alert: 0 is out of range (expected a whole number from 1 to 100)`],
  ['failures_before_alert 101', '', '    failures_before_alert: 101\n', `${FILE}:8:28 sync_jobs.docs.failures_before_alert: 101 is out of range (expected a whole number from 1 to 100)`],
  ['failures_before_alert text', 'failures_before_alert: three\n', '', `${FILE}:2:24 failures_before_alert: wrong type: string "three" (expected a whole number from 1 to 100)`],
  ['notification_details_command a shell line', 'notification_details_command: "xterm -e rbmctl status {job}"\n', '', `${FILE}:2:31 notification_details_command: wrong type: string "xterm -e rbmctl status {job}" (expected the command a notification's default action runs ({job} becomes the job's name): a list such as ["~/bin/alert", "--urgent"] whose first item is a command name on PATH or an absolute path, each argument its own item)`],
  ['notification_details_command program with blanks', 'notification_details_command: ["xterm -e", rbmctl]\n', '', `${FILE}:2:32 notification_details_command.0: "xterm -e" contains blanks (expected a command name on PATH or an absolute path, alone: each argument is its own list item; no shell)`],
];

for (const [name, top, own, expected] of BAD) {
  test(`bad alert key: ${name}`, () => {
    assert.deepEqual(issuesOf(config(top, own)), [expected]);
  });
}

test('notification_details_command is a top-level key only', () => {
  const [issue] = issuesOf(config('', '    notification_details_command: [xterm]\n'));
  assert.match(issue!, /^.*:8:5 sync_jobs\.docs\.notification_details_command: unknown key "notification_details_command"/);
});

test('every bad alert key of a file is reported at once', () => {
  const issues = issuesOf(config('notifications: loud\nstale_after: soon\n', '    failures_before_alert: 0\n'));
  assert.deepEqual(issues.map((i) => i.replace(/ .*/, '')), [`${FILE}:2:16`, `${FILE}:3:14`, `${FILE}:10:28`]);
});
