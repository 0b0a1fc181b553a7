// Issue 13.8: the way from the original Python tool's config. A config with that tool's keys and shapes
// (test/fixtures/config/migration/python-sample.yaml) gets one instruction per old key from check-config, on 1.60 and
// 1.75; following them gives migrated.yaml; top-level defaults for the job safety and conflict keys; and
// docs/configuration.md's migration table says what check-config says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, parseJobDefinition } from '../../src/config/parse.js';
import { buildCapabilities } from '../../src/rclone/caps.js';
import type { Config, RcloneCapabilities } from '../../src/config/types.js';
import { ConfigError, type ConfigIssue } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';

const fixture = (path: string): string => readFileSync(join(PROJECT_ROOT, 'test/fixtures', path), 'utf8');
const capsOf = (v: '1.60' | '1.75'): RcloneCapabilities =>
  buildCapabilities('rclone', fixture(`rclone/v${v}-version.txt`), fixture(`rclone/v${v}-bisync-help.txt`), fixture(`rclone/v${v}-help-flags.txt`));
const CAPS = { '1.60': capsOf('1.60'), '1.75': capsOf('1.75') };
const SAMPLE = 'config/migration/python-sample.yaml';
const MIGRATED = 'config/migration/migrated.yaml';

function issuesOf(text: string, caps: RcloneCapabilities): ConfigIssue[] {
  try {
    parseConfig(text, { file: '/etc/rbm/config.yaml', home: '/home/me', caps });
  } catch (e: unknown) {
    if (e instanceof ConfigError) return [...e.issues];
    throw e;
  }
  return [];
}

const lines = (issues: readonly ConfigIssue[]): string[] => issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);

const COMMON_START = [
  '12:1 log_directory: "log_directory" is a key of the original tool: the logs are kept in ~/.local/state/rclone-bisync-manager/logs/ and the journal (remove the key)',
  '18:1 sync_paths: "sync_paths" is a key of the original tool: the jobs are now under sync_jobs (rename sync_paths to sync_jobs, and give every job a schedule, e.g. schedule: "*/30 * * * *")',
  '27:3 rclone_options.log_level: option "log_level" is set by the manager (the manager sets the log level and reads rclone output as JSON itself; use redirect_rclone_log_output to see it); remove it from rclone_options',
  '28:3 rclone_options.max_lock: option "max_lock" is set by the manager (the manager sets the lock expiry itself and never runs a pair twice at once); remove it from rclone_options',
];
const CHECK_ACCESS = '33:3 rclone_options.check_access: option "check_access" is set by the manager (use the job key check_access: true, or set check_access: true at the top level for every job); remove it from rclone_options';
const RESYNC_FORCE = [
  '46:3 bisync_options.resync: option "resync" is set by the manager (the manager decides when to resync: set force_resync: true or run "rbmctl sync --resync"); remove it from bisync_options',
  '47:3 bisync_options.force: option "force" is set by the manager (use the job key force_operation: true, or approve one run with "rbmctl sync --force-bisync"); remove it from bisync_options',
];
const tooOld = (at: string, key: string, since: string): string =>
  `${at} ${key}: --${key.split('.').at(-1)!.replace(/_/g, '-')} needs rclone >= ${since}, but the installed rclone is 1.60.1 (expected an option rclone 1.60.1 supports, or upgrade rclone)`;

test('the original tool\'s config on rclone 1.75: 10 problems, each saying what to change', () => {
  assert.deepEqual(lines(issuesOf(fixture(SAMPLE), CAPS['1.75'])), [
    ...COMMON_START,
    CHECK_ACCESS,
    '42:3 bisync_options.conflict_resolve: option "conflict_resolve" is set by the manager (use the job key conflict_resolve: newer, or set conflict_resolve: newer at the top level for every job); remove it from bisync_options',
    '43:3 bisync_options.conflict_loser: option "conflict_loser" is set by the manager (use the job key conflict_loser: num, or set conflict_loser: num at the top level for every job); remove it from bisync_options',
    '44:3 bisync_options.conflict_suffix: option "conflict_suffix" is set by the manager (use the job key conflict_suffix: rc-conflict, or set conflict_suffix: rc-conflict at the top level for every job); remove it from bisync_options',
    ...RESYNC_FORCE,
  ]);
});

test('the original tool\'s config on rclone 1.60: 15 problems; what 1.60 lacks is named with the version that has it', () => {
  assert.deepEqual(lines(issuesOf(fixture(SAMPLE), CAPS['1.60'])), [
    ...COMMON_START,
    '31:3 rclone_options.compare: --compare needs rclone >= 1.66, but the installed rclone is 1.60.1 (remove it; with this rclone a same-size edit within the remote\'s modtime precision is not detected, which rbmctl status notes per job)',
    tooOld('32:3', 'rclone_options.create_empty_src_dirs', '1.64'),
    CHECK_ACCESS,
    tooOld('34:3', 'rclone_options.track_renames', '1.66'),
    '42:3 bisync_options.conflict_resolve: option "conflict_resolve" is set by the manager, and rclone 1.60.1 has no --conflict-resolve (remove it: the job key conflict_resolve needs rclone >= 1.66)',
    '43:3 bisync_options.conflict_loser: option "conflict_loser" is set by the manager, and rclone 1.60.1 has no --conflict-loser (remove it: the job key conflict_loser needs rclone >= 1.66)',
    '44:3 bisync_options.conflict_suffix: option "conflict_suffix" is set by the manager, and rclone 1.60.1 has no --conflict-suffix (remove it: the job key conflict_suffix needs rclone >= 1.66)',
    tooOld('45:3', 'bisync_options.track_renames', '1.66'),
    ...RESYNC_FORCE,
    tooOld('52:3', 'resync_options.resync_mode', '1.66'),
  ]);
});

test('following the instructions: valid on 1.75 with the settings carried over; on 1.60 only what needs a newer rclone remains', () => {
  const config = parseConfig(fixture(MIGRATED), { file: '/etc/rbm/config.yaml', home: '/home/me', caps: CAPS['1.75'] });
  const job = config.jobs[0]!;
  assert.equal(job.name, 'notes');
  assert.equal(job.path2, 'cloud:archive/notes');
  assert.deepEqual([job.checkAccess, job.conflictResolve, job.conflictLoser, job.conflictSuffix, job.checksumCompare], [true, 'newer', 'num', 'rc-conflict', true]);
  assert.deepEqual(config.global.rcloneOptions, { max_delete: 10, retries: 3, low_level_retries: 10, create_empty_src_dirs: null, track_renames: null, exclude: ['*.tmp', '~$*', '.DS_Store'] });

  const rest = issuesOf(fixture(MIGRATED), CAPS['1.60']);
  assert.deepEqual(rest.map((i) => i.path), [
    'conflict_resolve', 'conflict_loser', 'conflict_suffix', 'rclone_options.create_empty_src_dirs', 'rclone_options.track_renames', 'bisync_options.track_renames', 'resync_options.resync_mode',
  ]);
  for (const issue of rest) assert.match(issue.message, /needs rclone >= 1\.6[46], but the installed rclone is 1\.60\.1/);
});

const TWO_JOBS = `local_base_path: /data
check_access: true
checksum_compare: false
conflict_resolve: newer
conflict_loser: pathname
conflict_suffix: mine,theirs
sync_jobs:
  inherits:
    local: a
    rclone_remote: cloud
    remote: a
    schedule: "@hourly"
  overrides:
    local: b
    rclone_remote: cloud
    remote: b
    schedule: "@hourly"
    check_access: false
    checksum_compare: true
    conflict_resolve: path1
    conflict_loser: num
    conflict_suffix: conflict
`;

test('top-level defaults apply to every job; a job\'s own value wins', () => {
  const config: Config = parseConfig(TWO_JOBS, { file: '/etc/rbm/config.yaml', home: '/home/me', caps: CAPS['1.75'] });
  const pick = (name: string) => {
    const j = config.jobs.find((x) => x.name === name)!;
    return [j.checkAccess, j.checksumCompare, j.conflictResolve, j.conflictLoser, j.conflictSuffix];
  };
  assert.deepEqual(pick('inherits'), [true, false, 'newer', 'pathname', 'mine,theirs']);
  assert.deepEqual(pick('overrides'), [false, true, 'path1', 'num', 'conflict']);
  // A job added at run time (rbmctl add-job, D-Bus AddJob) gets the same defaults.
  const added = parseJobDefinition('added', { local: 'c', rclone_remote: 'cloud', remote: 'c', schedule: '@daily' }, config, CAPS['1.75'], '/home/me');
  assert.deepEqual([added.checkAccess, added.checksumCompare, added.conflictResolve, added.conflictLoser, added.conflictSuffix], [true, false, 'newer', 'pathname', 'mine,theirs']);
});

test('top-level defaults are checked like the job keys: values, and the rclone that has them', () => {
  const bad = issuesOf('local_base_path: /data\nconflict_resolve: newest\nconflict_suffix: "a b"\ncheck_access: yes\n', CAPS['1.75']);
  assert.deepEqual(bad.map((i) => i.path), ['conflict_resolve', 'conflict_suffix', 'check_access']);
  const old = issuesOf('local_base_path: /data\nconflict_loser: num\ncheck_access: true\nchecksum_compare: true\n', CAPS['1.60']);
  assert.deepEqual(lines(old), ['2:1 conflict_loser: conflict_loser (--conflict-loser) needs rclone >= 1.66, but the installed rclone is 1.60.1 (expected no conflict_loser with this rclone, or upgrade rclone)']);
});

test('compare: accepted in rclone_options from 1.66 (a bisync flag: never given to the setup commands), in bisync_options and resync_options', () => {
  const at = (maps: string): ConfigIssue[] => issuesOf(`local_base_path: /data\n${maps}`, CAPS['1.75']);
  assert.deepEqual(at('rclone_options:\n  compare: size\n'), []);
  assert.deepEqual(at('bisync_options:\n  compare: size\nresync_options:\n  compare: size\n'), []);
  assert.deepEqual(issuesOf('local_base_path: /data\nsync_jobs:\n  j:\n    local: j\n    rclone_remote: cloud\n    remote: j\n    schedule: "@daily"\n    rclone_options: {compare: "size,modtime,checksum"}\n', CAPS['1.75']), []);
});

test('docs/configuration.md: no "works unchanged" claim, and its migration table says what check-config says', () => {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs/configuration.md'), 'utf8');
  assert.doesNotMatch(doc, /works unchanged/);
  const section = doc.split('\n## ').find((s) => s.startsWith('Migrating from the original tool'));
  assert.ok(section, 'docs/configuration.md has a "Migrating from the original tool" section');
  const rows = section.split('\n').filter((l) => /^\| `[^`]+` \|/.test(l));
  assert.ok(rows.length >= 10, `a row per old key (found ${rows.length})`);
  const all = [...issuesOf(fixture(SAMPLE), CAPS['1.75']), ...issuesOf(fixture(SAMPLE), CAPS['1.60'])];
  for (const row of rows) {
    const [, path, change] = /^\| `([^`]+)` \| [^`]*`([^`]+)`/.exec(row) ?? [];
    assert.ok(path !== undefined && change !== undefined, `row names a path and a change in code: ${row}`);
    const said = all.filter((i) => i.path === path);
    assert.ok(said.length > 0, `check-config reports ${path}`);
    assert.ok(said.some((i) => i.message.includes(change)), `check-config's message for ${path} contains "${change}": ${said.map((i) => i.message).join(' | ')}`);
  }
});
