// The run conditions keys (issue 17: run_conditions at the top level and per job, the job's own keys winning key by
// key) and bandwidth timetables in the option maps: their defaults, what they become, and every bad value reported at
// load with file:line:col and the key's path.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFINITION_FILE, parseJobDefinition } from '../../src/config/parse.js';
import { NO_CONDITIONS } from '../../src/conditions/evaluate.js';
import { ConfigError, formatIssue } from '../../src/errors.js';

import { FILE, config, issuesOf, parse } from '../helpers/config-keys.js';

test('defaults: no conditions for anyone; a window end stops where rclone can', () => {
  const c = parse(config());
  const none = { metered: 'allow', power: { kind: 'any' }, network: 'any', windows: [], midRun: 'stop' };
  assert.deepEqual(c.global.runConditions, none);
  assert.deepEqual(c.jobs.map((j) => j.runConditions), [none, none]);
  assert.deepEqual(NO_CONDITIONS, none);
  assert.deepEqual(parse(config('run_conditions:\n')).global.runConditions, none, 'an empty mapping sets nothing');
});

test('every key and value is read: metered, power, network, windows, mid_run', () => {
  const top = 'run_conditions:\n  metered: avoid\n  power: battery_above_30\n  network: full\n  windows: ["22:00-06:00", "Mon-Fri 09:00-17:00", "Sat,Sun"]\n  mid_run: finish\n';
  const c = parse(config(top));
  assert.deepEqual(c.global.runConditions, {
    metered: 'avoid',
    power: { kind: 'battery-above', percent: 30 },
    network: 'full',
    windows: [
      { text: '22:00-06:00', days: 127, start: 1320, end: 360 },
      { text: 'Mon-Fri 09:00-17:00', days: 62, start: 540, end: 1020 },
      { text: 'Sat,Sun', days: 65, start: 0, end: 1440 },
    ],
    midRun: 'finish',
  });
  const power = (value: string) => parse(config(`run_conditions: {power: ${value}}\n`)).global.runConditions.power;
  assert.deepEqual(power('any'), { kind: 'any' });
  assert.deepEqual(power('ac'), { kind: 'ac' });
  assert.deepEqual(power('battery_above_1'), { kind: 'battery-above', percent: 1 });
  assert.deepEqual(power('battery_above_99'), { kind: 'battery-above', percent: 99 });
});

test('global conditions apply to every job; a job\'s own keys win, key by key; windows: [] lifts the global windows', () => {
  const top = 'run_conditions:\n  metered: avoid\n  power: ac\n  windows: ["22:00-06:00"]\n';
  const own = '    run_conditions:\n      power: any\n      windows: []\n      mid_run: finish\n';
  const c = parse(config(top, own));
  assert.deepEqual(c.jobs[0]!.runConditions, { metered: 'avoid', power: { kind: 'any' }, network: 'any', windows: [], midRun: 'finish' });
  assert.deepEqual(c.jobs[1]!.runConditions, c.global.runConditions, 'a job without its own keys takes the global ones');
  const partial = parse(config(top, '    run_conditions:\n      network: full\n'));
  assert.deepEqual(partial.jobs[0]!.runConditions, { ...partial.global.runConditions, network: 'full' }, 'only the key the job sets is its own');
});

test('a job added over D-Bus (AddJob) inherits the global conditions and may set its own', () => {
  const c = parse(config('run_conditions: {metered: avoid, windows: ["Sat,Sun"]}\n'));
  const job = parseJobDefinition('music', { local: 'music', rclone_remote: 'gdrive', remote: 'Music', schedule: '@daily', run_conditions: { power: 'ac' } }, c, undefined, '/home/u');
  assert.deepEqual(job.runConditions, { ...c.global.runConditions, power: { kind: 'ac' } });
  assert.equal(job.runConditions.metered, 'avoid');
  assert.throws(
    () => parseJobDefinition('music', { local: 'music', rclone_remote: 'gdrive', remote: 'Music', schedule: '@daily', run_conditions: { windows: ['25:00-26:00'] } }, c),
    (e: unknown) => e instanceof ConfigError && formatIssue(e.issues[0]!).startsWith(DEFINITION_FILE) && formatIssue(e.issues[0]!).includes('sync_jobs.music.run_conditions.windows.0: "25:00-26:00" is not a time window: "25:00" is not a time'),
  );
});

const WINDOW_EXPECTED = 'expected a window such as "22:00-06:00", "Mon-Fri 09:00-17:00" or "Sat,Sun": days, a time range HH:MM-HH:MM, or both; days Mon to Sun or their full names, times 00:00 to 24:00';
const POWER_EXPECTED = 'expected any, ac, or battery_above_N with N from 1 to 99 (e.g. battery_above_30: on battery, run only while the charge is above 30%)';
const CONDITION_KEYS = 'metered, power, network, windows, mid_run';

/** [what, the top-level text, the job's own text, the issue line expected in full]. */
const BAD: [string, string, string, string][] = [
  ['a window like 25:00-26:00', 'run_conditions:\n  windows: ["22:00-06:00", "25:00-26:00"]\n', '', `${FILE}:3:28 run_conditions.windows.1: "25:00-26:00" is not a time window: "25:00" is not a time: HH:MM from 00:00 to 23:59 (${WINDOW_EXPECTED})`],
  ['a window in a job, on its own line', '', '    run_conditions:\n      windows:\n        - Mon-Fri 09:00-17:00\n        - Mo 10:00-11:00\n', `${FILE}:11:11 sync_jobs.docs.run_conditions.windows.1: "Mo 10:00-11:00" is not a time window: "Mo" is not a day: Mon, Tue, Wed, Thu, Fri, Sat, Sun, or the full name (${WINDOW_EXPECTED})`],
  ['a window that starts and ends at once', 'run_conditions: {windows: ["09:00-09:00"]}\n', '', `${FILE}:2:28 run_conditions.windows.0: "09:00-09:00" is not a time window: "09:00-09:00" starts and ends at the same time; for whole days give the days alone, such as "Sat,Sun" (${WINDOW_EXPECTED})`],
  ['windows as one string', 'run_conditions:\n  windows: "22:00-06:00"\n', '', `${FILE}:3:12 run_conditions.windows: wrong type: string "22:00-06:00" (expected a list of time windows, each a window such as "22:00-06:00", "Mon-Fri 09:00-17:00" or "Sat,Sun": days, a time range HH:MM-HH:MM, or both; days Mon to Sun or their full names, times 00:00 to 24:00)`],
  ['an empty window', 'run_conditions: {windows: [""]}\n', '', `${FILE}:2:28 run_conditions.windows.0: the value is empty (${WINDOW_EXPECTED})`],
  ['an unknown condition name', 'run_conditions:\n  on_battery: avoid\n', '', `${FILE}:3:3 run_conditions.on_battery: unknown key "on_battery" (expected one of: ${CONDITION_KEYS})`],
  ['a misspelt condition name', '', '    run_conditions:\n      metred: avoid\n', `${FILE}:9:7 sync_jobs.docs.run_conditions.metred: unknown key "metred" (did you mean "metered"?)`],
  ['a condition beside the job keys', '', '    metered: avoid\n', `${FILE}:8:5 sync_jobs.docs.metered: unknown key "metered" (expected it inside run_conditions, as run_conditions: {metered: ...})`],
  ['a condition beside the top-level keys', 'windows: ["Sat,Sun"]\n', '', `${FILE}:2:1 windows: unknown key "windows" (expected it inside run_conditions, as run_conditions: {windows: ...})`],
  ['metered yes', 'run_conditions: {metered: yes}\n', '', `${FILE}:2:27 run_conditions.metered: "yes" is not allowed (expected allow or avoid (avoid: no run on a metered connection))`],
  ['network limited', '', '    run_conditions: {network: limited}\n', `${FILE}:8:31 sync_jobs.docs.run_conditions.network: "limited" is not allowed (expected any or full (full: run only while NetworkManager reports full connectivity))`],
  ['mid_run kill', 'run_conditions: {mid_run: kill}\n', '', `${FILE}:2:27 run_conditions.mid_run: "kill" is not allowed (expected stop or finish (what a window end or a metered connection does to a running sync))`],
  ['power battery', 'run_conditions: {power: battery}\n', '', `${FILE}:2:25 run_conditions.power: "battery" is not allowed (${POWER_EXPECTED})`],
  ['power battery_above_0', 'run_conditions: {power: battery_above_0}\n', '', `${FILE}:2:25 run_conditions.power: "battery_above_0" is not allowed (${POWER_EXPECTED})`],
  ['power battery_above_100', '', '    run_conditions: {power: battery_above_100}\n', `${FILE}:8:29 sync_jobs.docs.run_conditions.power: "battery_above_100" is not allowed (${POWER_EXPECTED})`],
  ['power a number', 'run_conditions: {power: 30}\n', '', `${FILE}:2:25 run_conditions.power: wrong type: number 30 (${POWER_EXPECTED})`],
  ['run_conditions a list', 'run_conditions: [metered]\n', '', `${FILE}:2:17 run_conditions: wrong type: a list (expected a mapping of run conditions: ${CONDITION_KEYS})`],
];

for (const [what, top, own, expected] of BAD) {
  test(`rejected at load with file:line:col and the field: ${what}`, () => {
    assert.deepEqual(issuesOf(config(top, own)), [expected]);
  });
}

test('several bad conditions are all reported at once, in file order', () => {
  const top = 'run_conditions:\n  metered: sometimes\n  windows: ["26:00-27:00"]\n';
  const own = '    run_conditions: {power: solar}\n';
  assert.deepEqual(
    issuesOf(config(top, own)).map((line) => line.split(' ')[0]),
    [`${FILE}:3:12`, `${FILE}:4:13`, `${FILE}:11:29`],
  );
});

const BW_EXPECTED = 'expected a rate such as "512k", "10M", "off" or UPLOAD:DOWNLOAD "10M:1M", or a timetable such as "08:00,512k 19:00,off" or "Mon-08:00,512k Sat-10:00,off", entries separated by one space';

test('bwlimit takes rclone\'s timetable forms, globally and per job', () => {
  const top = 'rclone_options:\n  bwlimit: "08:00,512k 19:00,off"\n';
  const own = '    rclone_options:\n      bwlimit: "Mon-08:00,512 Sat-10:00,off"\n    bisync_options:\n      bwlimit_file: 10M:1M\n    resync_options:\n      bwlimit: false\n';
  const c = parse(config(top, own));
  assert.equal(c.global.rcloneOptions.bwlimit, '08:00,512k 19:00,off');
  assert.equal(c.jobs[0]!.rcloneOptions.bwlimit, 'Mon-08:00,512 Sat-10:00,off');
  assert.equal(c.jobs[0]!.bisyncOptions.bwlimit_file, '10M:1M');
  assert.equal(c.jobs[0]!.resyncOptions.bwlimit, false, 'false removes a limit set at a lower level');
  assert.equal(parse(config('rclone_options: {bwlimit: 512}\n')).global.rcloneOptions.bwlimit, 512);
  assert.equal(parse(config('bisync_options: {bw-limit: off}\n')).global.bisyncOptions['bw-limit'], 'off', 'not a timetable flag: left to rclone');
});

const BAD_BWLIMIT: [string, string, string, string][] = [
  ['25:00 is not a time', 'rclone_options:\n  bwlimit: "25:00,512k 19:00,off"\n', '', `${FILE}:3:12 rclone_options.bwlimit: "25:00,512k 19:00,off" is not a bandwidth limit: "25:00" is not a time: hours go from 00 to 23 (${BW_EXPECTED})`],
  ['512q is not a rate', '', '    rclone_options:\n      bwlimit: "08:00,512q 19:00,off"\n', `${FILE}:9:16 sync_jobs.docs.rclone_options.bwlimit: "08:00,512q 19:00,off" is not a bandwidth limit: "512q" is not a rate: a number of KiB/s, or one with a unit B, K, M, G, T or P, or off (${BW_EXPECTED})`],
  ['an unknown weekday', 'bisync_options:\n  bwlimit: "Mo-08:00,512k"\n', '', `${FILE}:3:12 bisync_options.bwlimit: "Mo-08:00,512k" is not a bandwidth limit: "Mo" is not a day: Mon, Tue, Wed, Thu, Fri, Sat, Sun, or the full name (${BW_EXPECTED})`],
  ['an entry without its rate', 'rclone_options:\n  bwlimit: "08:00,512k 19:00"\n', '', `${FILE}:3:12 rclone_options.bwlimit: "08:00,512k 19:00" is not a bandwidth limit: "19:00" is not an entry TIME,RATE such as "08:00,512k" or "Mon-08:00,512k" (${BW_EXPECTED})`],
  ['two blanks between entries', 'rclone_options:\n  bwlimit: "08:00,512k  19:00,off"\n', '', `${FILE}:3:12 rclone_options.bwlimit: "08:00,512k  19:00,off" is not a bandwidth limit: a blank at the start or the end, or two blanks in a row, which rclone 1.60 refuses (${BW_EXPECTED})`],
  ['bwlimit_file with a bad rate', '', '    resync_options:\n      bwlimit_file: 2x\n', `${FILE}:9:21 sync_jobs.docs.resync_options.bwlimit_file: "2x" is not a bandwidth limit: "2x" is not a rate: a number of KiB/s, or one with a unit B, K, M, G, T or P, or off (${BW_EXPECTED})`],
  ['bwlimit without a value', 'rclone_options:\n  bwlimit:\n', '', `${FILE}:3:3 rclone_options.bwlimit: this option needs one value (${BW_EXPECTED})`],
  ['a negative rate', 'rclone_options:\n  bwlimit: -1\n', '', `${FILE}:3:12 rclone_options.bwlimit: -1 is not a bandwidth limit: it is negative (${BW_EXPECTED})`],
];

for (const [what, top, own, expected] of BAD_BWLIMIT) {
  test(`a bad bandwidth timetable is rejected at load with file:line:col and the field: ${what}`, () => {
    assert.deepEqual(issuesOf(config(top, own)), [expected]);
  });
}

test('examples/config.yaml: the top-level block is the defaults; photos-backup runs only at night', () => {
  const c = parse(readFileSync(new URL('../../examples/config.yaml', import.meta.url), 'utf8'));
  assert.deepEqual(c.global.runConditions, NO_CONDITIONS);
  const photos = c.jobs.find((j) => j.name === 'photos-backup')!;
  assert.deepEqual(photos.runConditions, { ...NO_CONDITIONS, windows: [{ text: '01:00-05:00', days: 127, start: 60, end: 300 }] });
});
