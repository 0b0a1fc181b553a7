// Valid configs: the shipped example, defaults, path resolution, YAML conveniences, and how option maps
// turn into rclone arguments at every level of precedence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFINITION_FILE, parseConfig, parseJobDefinition } from '../../src/config/parse.js';
import { buildCapabilities } from '../../src/rclone/caps.js';
import { buildOptionFlags } from '../../src/rclone/flags.js';
import { ConfigError } from '../../src/errors.js';
import type { Config } from '../../src/config/types.js';

const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const caps = (v: string) =>
  buildCapabilities('rclone', fixture(`rclone/v${v}-version.txt`), fixture(`rclone/v${v}-bisync-help.txt`), fixture(`rclone/v${v}-help-flags.txt`));
const rclone160 = caps('1.60');
const rclone175 = caps('1.75');
const OPTIONS = { file: '/home/u/.config/rclone-bisync-manager/config.yaml', home: '/home/u' };
const parse = (text: string | Uint8Array, extra: object = {}): Config => parseConfig(text, { ...OPTIONS, ...extra });

const MINIMAL = `local_base_path: /data
sync_jobs:
  docs:
    local: docs
    rclone_remote: gdrive
    remote: Documents
    schedule: "*/15 * * * *"
`;

test('examples/config.yaml validates, with no rclone known, with rclone 1.60 and with rclone 1.75', () => {
  const text = readFileSync(new URL('../../examples/config.yaml', import.meta.url));
  for (const extra of [{}, { caps: rclone160 }, { caps: rclone175 }]) {
    const config = parse(text, extra);
    assert.equal(config.global.localBasePath, '/home/u/Sync');
    assert.deepEqual(config.jobs.map((j) => [j.name, j.local, j.path2, j.active]), [
      ['documents', '/home/u/Sync/documents', 'gdrive:Documents', false],
      ['photos-backup', '/home/u/Sync/photos', '/mnt/backup/photos', false],
    ]);
  }
});

test('examples/config.yaml is the starter config install-user installs: no job in it runs until the user turns it on', () => {
  const config = parse(readFileSync(new URL('../../examples/config.yaml', import.meta.url)));
  assert.ok(config.jobs.length > 0, 'it shows jobs to copy');
  assert.deepEqual(config.jobs.filter((j) => j.active).map((j) => j.name), [], 'every job is active: false');
  assert.equal(config.global.runInitialSyncOnStartup, false);
  assert.equal(config.global.runMissedJobs, false);
});

test('examples/config.yaml shows every key the schema knows', () => {
  const text = readFileSync(new URL('../../examples/config.yaml', import.meta.url), 'utf8');
  const keys = ['local_base_path', 'exclusion_rules_file', 'redirect_rclone_log_output', 'max_cpu_usage_percent', 'rclone_nice', 'run_missed_jobs',
    'run_initial_sync_on_startup', 'max_parallel_jobs', 'rclone_binary', 'shutdown_grace', 'dry_run', 'rclone_options', 'bisync_options',
    'resync_options', 'sync_jobs', 'local', 'rclone_remote', 'remote', 'schedule', 'active', 'force_resync', 'force_operation', 'check_access',
    'auto_resync', 'conflict_resolve', 'conflict_loser', 'conflict_suffix', 'filters_file', 'notifications', 'on_attention', 'stale_after',
    'failures_before_alert', 'notification_details_command', 'watch', 'watch_delay', 'watch_max_wait'];
  for (const key of keys) assert.match(text, new RegExp(`^[ #]*${key}:`, 'm'), key);
});

test('keys left out get their documented defaults', () => {
  const config = parse(MINIMAL);
  assert.equal(config.path, OPTIONS.file);
  assert.deepEqual(config.global, {
    localBasePath: '/data',
    exclusionRulesFile: undefined,
    redirectRcloneLogOutput: false,
    maxCpuUsagePercent: 100,
    rcloneNice: 10,
    runMissedJobs: false,
    runInitialSyncOnStartup: false,
    maxParallelJobs: 2,
    rcloneBinary: 'rclone',
    shutdownGraceSec: 10,
    dryRun: false,
    rcloneOptions: {},
    bisyncOptions: {},
    resyncOptions: {},
    jobDefaults: { checkAccess: false, checksumCompare: true, conflictResolve: undefined, conflictLoser: undefined, conflictSuffix: undefined },
    alerts: { notifications: 'attention', onAttention: [], staleAfterSec: undefined, failuresBeforeAlert: 3 },
    detailsCommand: ['x-terminal-emulator', '-e', 'rbmctl', '{action}', '{job}'],
    runConditions: { metered: 'allow', power: { kind: 'any' }, network: 'any', windows: [], midRun: 'stop' },
    watch: { enabled: false, delayMs: 1000, maxWaitMs: 10_000 },
  });
  assert.deepEqual(config.jobs[0], {
    name: 'docs',
    local: '/data/docs',
    rcloneRemote: 'gdrive',
    remote: 'Documents',
    path2: 'gdrive:Documents',
    schedule: '*/15 * * * *',
    active: true,
    dryRun: false,
    forceResync: false,
    forceOperation: false,
    checkAccess: false,
    checksumCompare: true,
    autoResync: false,
    conflictResolve: undefined,
    conflictLoser: undefined,
    conflictSuffix: undefined,
    filtersFile: undefined,
    rcloneOptions: {},
    bisyncOptions: {},
    resyncOptions: {},
    alerts: { notifications: 'attention', onAttention: [], staleAfterSec: undefined, failuresBeforeAlert: 3 },
    runConditions: { metered: 'allow', power: { kind: 'any' }, network: 'any', windows: [], midRun: 'stop' },
    watch: { enabled: false, delayMs: 1000, maxWaitMs: 10_000 },
  });
});

test('every key of the inherited format and every new key is read', () => {
  const config = parse(`local_base_path: ~/Sync/
exclusion_rules_file: filters.txt
redirect_rclone_log_output: true
max_cpu_usage_percent: 50
rclone_nice: 0
run_missed_jobs: true
run_initial_sync_on_startup: true
max_parallel_jobs: 4
rclone_binary: ~/bin/rclone
shutdown_grace: 1m30s
dry_run: true
rclone_options: {bwlimit: 1M}
bisync_options: {max_delete: 10}
resync_options: {}
sync_jobs:
  docs:
    local: /home/u/Sync/docs/
    rclone_remote: gdrive
    remote: Documents
    schedule: " 0  */2 * * * "
    active: false
    dry_run: true
    force_resync: true
    force_operation: true
    check_access: true
    auto_resync: true
    conflict_resolve: newer
    conflict_loser: pathname
    conflict_suffix: mine,theirs
    filters_file: /etc/rbm/docs.filters
    rclone_options: {transfers: 2}
    bisync_options: {check_sync: "false"}
    resync_options: {resync_mode: newer}
`, { caps: rclone175 });
  const g = config.global;
  assert.deepEqual(
    [g.localBasePath, g.exclusionRulesFile, g.redirectRcloneLogOutput, g.maxCpuUsagePercent, g.rcloneNice, g.runMissedJobs, g.runInitialSyncOnStartup, g.maxParallelJobs, g.rcloneBinary, g.shutdownGraceSec, g.dryRun],
    ['/home/u/Sync', '/home/u/.config/rclone-bisync-manager/filters.txt', true, 50, 0, true, true, 4, '/home/u/bin/rclone', 90, true],
  );
  const j = config.jobs[0]!;
  assert.deepEqual(
    [j.local, j.schedule, j.active, j.dryRun, j.forceResync, j.forceOperation, j.checkAccess, j.autoResync, j.conflictResolve, j.conflictLoser, j.conflictSuffix, j.filtersFile],
    ['/home/u/Sync/docs', '0 */2 * * *', false, true, true, true, true, true, 'newer', 'pathname', 'mine,theirs', '/etc/rbm/docs.filters'],
  );
  assert.deepEqual([j.rcloneOptions, j.bisyncOptions, j.resyncOptions], [{ transfers: 2 }, { check_sync: 'false' }, { resync_mode: 'newer' }]);
});

test('paths: relative, absolute inside the base, ~, dot segments, and a local Path2', () => {
  const config = parse(`local_base_path: "~"
sync_jobs:
  a: {local: Sync/a, rclone_remote: r, remote: a, schedule: "@daily"}
  b: {local: /home/u/Sync/b, rclone_remote: r, remote: b, schedule: "@daily"}
  c: {local: ~/Sync/c, rclone_remote: r, remote: c, schedule: "@daily"}
  d: {local: Sync/x/../d, rclone_remote: local, remote: ~/backup/d/, schedule: "@daily"}
  e: {local: "Sync/with space", rclone_remote: "", remote: /mnt/e, schedule: "@daily"}
  f: {local: f, rclone_remote: my-remote.2, remote: "", schedule: "@daily"}
`);
  assert.deepEqual(config.jobs.map((j) => [j.local, j.path2]), [
    ['/home/u/Sync/a', 'r:a'],
    ['/home/u/Sync/b', 'r:b'],
    ['/home/u/Sync/c', 'r:c'],
    ['/home/u/Sync/d', '/home/u/backup/d'],
    ['/home/u/Sync/with space', '/mnt/e'],
    ['/home/u/f', 'my-remote.2:'],
  ]);
});

test('YAML conveniences: anchors, merge keys, flow style, a BOM, bytes, empty option maps and no jobs', () => {
  assert.equal(parse('\ufefflocal_base_path: /data\n').global.localBasePath, '/data');
  assert.equal(parse(Buffer.from('\ufefflocal_base_path: /data\n')).global.localBasePath, '/data');
  const merged = parse(Buffer.from(`local_base_path: /data
bisync_options:
rclone_options: {}
sync_jobs:
  a: &job
    local: a
    rclone_remote: gdrive
    remote: A
    schedule: "@hourly"
  b:
    <<: *job
    local: b
    remote: B
`));
  assert.deepEqual(merged.jobs.map((j) => [j.name, j.local, j.path2, j.schedule]), [
    ['a', '/data/a', 'gdrive:A', '@hourly'],
    ['b', '/data/b', 'gdrive:B', '@hourly'],
  ]);
  assert.deepEqual(merged.global.bisyncOptions, {});
  assert.deepEqual(parse('local_base_path: /data\nsync_jobs:\n').jobs, []);
  assert.deepEqual(parse('local_base_path: /data\n').jobs, []);
});

test('a problem reached through a merge key is reported where the key is written, under each job that uses it', () => {
  const text = `local_base_path: /data
sync_jobs:
  a: &job
    local: a
    rclone_remote: gdrive
    remote: A
    schedule: "@hourly"
    colour: red
  b:
    <<: *job
    local: b
    remote: B
`;
  assert.throws(() => parse(text), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.issues.map((i) => `${i.line}:${i.col} ${i.path}`), ['8:5 sync_jobs.a.colour', '8:5 sync_jobs.b.colour']);
    return true;
  });
});

test('an unknown key lists every allowed key when nothing is close', () => {
  assert.throws(() => parse('local_base_path: /data\nx-templates: []\n'), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(
      e.issues[0]!.message,
      'unknown key "x-templates" (expected one of: local_base_path, exclusion_rules_file, redirect_rclone_log_output, max_cpu_usage_percent, rclone_nice, run_missed_jobs, run_initial_sync_on_startup, max_parallel_jobs, rclone_binary, shutdown_grace, dry_run, check_access, checksum_compare, conflict_resolve, conflict_loser, conflict_suffix, notifications, on_attention, stale_after, failures_before_alert, watch, watch_delay, watch_max_wait, notification_details_command, run_conditions, rclone_options, bisync_options, resync_options, sync_jobs)',
      'unknown key "x-templates" (expected one of: local_base_path, exclusion_rules_file, redirect_rclone_log_output, max_cpu_usage_percent, rclone_nice, run_missed_jobs, run_initial_sync_on_startup, max_parallel_jobs, rclone_binary, shutdown_grace, dry_run, check_access, checksum_compare, conflict_resolve, conflict_loser, conflict_suffix, notifications, on_attention, stale_after, failures_before_alert, watch, watch_delay, watch_max_wait, notification_details_command, rclone_options, bisync_options, resync_options, sync_jobs)',
    );
    return true;
  });
});

test('a bare ~ is YAML for "empty": the message says to quote it', () => {
  assert.throws(() => parse('local_base_path: ~\n'), /write "~" in quotes/);
});

test('shutdown_grace takes seconds or a duration', () => {
  const grace = (value: string): number => parse(`local_base_path: /d\nshutdown_grace: ${value}\n`).global.shutdownGraceSec;
  assert.equal(grace('0'), 0);
  assert.equal(grace('120'), 120);
  assert.equal(grace('"90"'), 90);
  assert.equal(grace('90s'), 90);
  assert.equal(grace('2m'), 120);
  assert.equal(grace('1h'), 3600);
});

test('conflict_* keys are accepted when the installed rclone has them (1.75) and refused on 1.60, naming 1.66', () => {
  const text = `${MINIMAL}    conflict_resolve: newer\n    conflict_loser: num\n`;
  assert.equal(parse(text, { caps: rclone175 }).jobs[0]!.conflictResolve, 'newer');
  assert.throws(() => parse(text, { caps: rclone160 }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.issues.map((i) => `${i.line}:${i.col} ${i.path}`), ['8:5 sync_jobs.docs.conflict_resolve', '9:5 sync_jobs.docs.conflict_loser']);
    assert.match(e.issues[0]!.message, /needs rclone >= 1\.66, but the installed rclone is 1\.60\.1/);
    return true;
  });
});

test('option precedence at every level; each value, however hostile, stays one argv element', () => {
  const hostile = ['a b', '"quoted"', "it's", 'x; rm -rf ~', '$(reboot)', '`id`', '--delete-excluded', '-v', ''];
  const config = parse(`local_base_path: /data
rclone_options:
  max_delete: 10
  bwlimit: 1M
  transfers: 4
  fast_list: true
  checksum:
  exclude: ${JSON.stringify(hostile)}
bisync_options:
  max_delete: 20
  bwlimit: 2M
  size_only: true
sync_jobs:
  docs:
    local: docs
    rclone_remote: gdrive
    remote: Documents
    schedule: "@daily"
    rclone_options:
      max-delete: 30
      fast-list: false
      include: "-x $(y) ;z"
    bisync_options:
      max_delete: 40
      check_sync: "false"
`);
  const job = config.jobs[0]!;
  const perCall = { check_sync: 'only', 'max-delete': 50 };
  const argv = buildOptionFlags(config.global.rcloneOptions, config.global.bisyncOptions, job.rcloneOptions, job.bisyncOptions, perCall);
  // Order: a flag sits where the map that last set it put it; fast_list was switched off by the job.
  assert.deepEqual(argv, [
    '--transfers=4',
    '--checksum',
    ...hostile.map((h) => `--exclude=${h}`),
    '--bwlimit=2M',
    '--size-only',
    '--include=-x $(y) ;z',
    '--check-sync=only',
    '--max-delete=50',
  ]);
  // Level by level: each later map overrides max_delete.
  assert.ok(buildOptionFlags(config.global.rcloneOptions).includes('--max-delete=10'));
  assert.ok(buildOptionFlags(config.global.rcloneOptions, config.global.bisyncOptions).includes('--max-delete=20'));
  assert.ok(buildOptionFlags(config.global.rcloneOptions, config.global.bisyncOptions, job.rcloneOptions).includes('--max-delete=30'));
  assert.ok(buildOptionFlags(config.global.rcloneOptions, config.global.bisyncOptions, job.rcloneOptions, job.bisyncOptions).includes('--max-delete=40'));
  // No element is a bare flag smuggled in by a value.
  for (const arg of argv) assert.match(arg, /^--[a-z0-9-]+(=|$)/);
});

test('parseJobDefinition validates one job as if it were in the file', () => {
  const config = parse(MINIMAL, { file: '/etc/rbm/config.yaml' });
  const job = parseJobDefinition('music', { local: 'music', rclone_remote: 'box', remote: 'Music', schedule: '0 * * * *', active: false, dry_run: undefined }, config);
  assert.equal(job.local, '/data/music');
  assert.equal(job.path2, 'box:Music');
  assert.equal(job.active, false);
  assert.equal(job.dryRun, false, 'an undefined value counts as left out');
  // D-Bus integers arrive as bigint.
  const withBigint = parseJobDefinition('m2', { local: 'm2', rclone_remote: 'box', remote: 'M2', schedule: '@daily', rclone_options: { transfers: 3n } }, config);
  assert.deepEqual(withBigint.rcloneOptions, { transfers: 3 });
  // A relative filters_file is relative to the config file's directory.
  assert.equal(parseJobDefinition('m3', { local: 'm3', rclone_remote: 'box', remote: 'M3', schedule: '@daily', filters_file: 'f.txt' }, config).filtersFile, '/etc/rbm/f.txt');
});

test('parseJobDefinition reports every problem with sync_jobs.NAME paths, including clashes with existing jobs', () => {
  const config = parse(MINIMAL);
  assert.throws(
    () => parseJobDefinition('docs', { local: 'docs/sub', rclone_remote: 'gdrive:', remote: 'x', schedule: 'daily', colour: 1 }, config, rclone160),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.hint, 'Fix the job definition and try again.');
      assert.deepEqual(
        e.issues.map((i) => [i.file, i.path]),
        [
          [DEFINITION_FILE, 'sync_jobs.docs.colour'],
          [DEFINITION_FILE, 'sync_jobs.docs'],
          [DEFINITION_FILE, 'sync_jobs.docs.schedule'],
          [DEFINITION_FILE, 'sync_jobs.docs.rclone_remote'],
          [DEFINITION_FILE, 'sync_jobs.docs.local'],
        ],
      );
      assert.match(e.issues[1]!.message, /a job named "docs" already exists/);
      return true;
    },
  );
  assert.throws(
    () => parseJobDefinition('inner', { local: 'docs/inner', rclone_remote: 'box', remote: 'x', schedule: '@daily' }, config),
    (e: unknown) => e instanceof ConfigError && /is inside \/data\/docs of job "docs"/.test(e.issues[0]!.message) && e.issues[0]!.path === 'sync_jobs.inner.local',
  );
  assert.throws(
    () => parseJobDefinition('same', { local: 'same', rclone_remote: 'gdrive', remote: 'Documents', schedule: '@daily' }, config),
    (e: unknown) => e instanceof ConfigError && e.issues[0]!.path === 'sync_jobs.same.remote',
  );
  assert.throws(
    () => parseJobDefinition('bad name!', { local: 'x', rclone_remote: 'r', remote: 'x', schedule: '@daily' }, config),
    (e: unknown) => e instanceof ConfigError && e.issues[0]!.path === 'sync_jobs.bad name!',
  );
  assert.throws(
    () => parseJobDefinition('t', { local: '~/x', rclone_remote: 'r', remote: 'x', schedule: '@daily' }, config),
    (e: unknown) => e instanceof ConfigError && /home directory is unknown/.test(e.issues[0]!.message),
  );
});
