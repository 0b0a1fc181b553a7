// The argv of a bisync run: version gating, option precedence, and values that can never become flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRunArgv, filtersFileOf, pendingDeletesArgv, unsupportedSettings, type RunArgvInput } from '../../src/rclone/args.js';
import { CAPS_160, CAPS_175 } from '../helpers/caps.js';
import { makeGlobal, makeJob } from '../helpers/job.js';

function argv(overrides: Partial<RunArgvInput> = {}): string[] {
  return buildRunArgv({
    job: makeJob(),
    global: makeGlobal(),
    caps: CAPS_175,
    operation: 'bisync',
    workdir: '/state/jobs/docs/workdir',
    filtersFile: undefined,
    dryRun: false,
    force: false,
    ...overrides,
  });
}

test('1.75 gets the safe invocation: workdir, JSON log, no colour, -v, stats, partial filter, recover, resilient, max-lock', () => {
  assert.deepEqual(argv(), [
    'bisync', '/home/user/Documents', 'box:Documents', '--workdir=/state/jobs/docs/workdir', '--use-json-log', '--color=NEVER',
    '-v', '--stats=1s', '--filter=- *.partial', '--recover', '--resilient', '--max-lock=2m',
  ]);
});

test('1.60 never gets --color or the flags it does not know', () => {
  const a = argv({ caps: CAPS_160 });
  for (const flag of ['--color=NEVER', '--recover', '--resilient', '--max-lock=2m']) assert.ok(!a.includes(flag), `${flag} must not reach 1.60`);
  assert.deepEqual(a.slice(0, 8), ['bisync', '/home/user/Documents', 'box:Documents', '--workdir=/state/jobs/docs/workdir', '--use-json-log', '-v', '--stats=1s', '--filter=- *.partial']);
});

test('--color is gated on the version even when bisync --help does not list it (a global flag)', () => {
  const a = argv({ caps: { ...CAPS_175, flags: new Set(['resync']) } });
  assert.ok(a.includes('--color=NEVER'));
  assert.ok(a.includes('--recover'), '1.66+ has --recover whatever the help text says');
});

test('conflict policy, check-access, filters file, resync-mode, dry-run and force appear only when set and supported', () => {
  const job = makeJob({ checkAccess: true, conflictResolve: 'newer', conflictLoser: 'num', conflictSuffix: 'mine,theirs' });
  const a = argv({ job, filtersFile: '/cfg/filters.txt', dryRun: true, force: true });
  for (const flag of ['--check-access', '--filters-file=/cfg/filters.txt', '--conflict-resolve=newer', '--conflict-loser=num', '--conflict-suffix=mine,theirs', '--dry-run', '--force']) {
    assert.ok(a.includes(flag), flag);
  }
  const old = argv({ job, caps: CAPS_160 });
  assert.ok(!old.some((f) => f.startsWith('--conflict-')), '1.60 has no conflict flags');
  assert.deepEqual(unsupportedSettings(job, CAPS_160), ['conflict_resolve', 'conflict_loser', 'conflict_suffix']);
  assert.deepEqual(unsupportedSettings(job, CAPS_175), []);
});

test('a resync gets --resync and --resync-mode=newer only where rclone has it; never --force', () => {
  const a = argv({ operation: 'resync', resyncMode: 'newer', force: true });
  assert.ok(a.includes('--resync'));
  assert.ok(a.includes('--resync-mode=newer'));
  assert.ok(!a.includes('--force'));
  const old = argv({ operation: 'resync', resyncMode: 'newer', caps: CAPS_160 });
  assert.ok(old.includes('--resync'));
  assert.ok(!old.some((f) => f.startsWith('--resync-mode')));
  const user = argv({ operation: 'resync', resyncMode: 'newer', job: makeJob({ resyncOptions: { resync_mode: 'path2' } }) });
  assert.deepEqual(user.filter((f) => f.startsWith('--resync-mode')), ['--resync-mode=path2'], "the user's own resync mode wins");
});

test('options merge in precedence: global rclone, global bisync, job rclone, job bisync, per call', () => {
  const global = makeGlobal({ rcloneOptions: { bwlimit: '1M', transfers: 2 }, bisyncOptions: { bwlimit: '2M', max_delete: 10 }, resyncOptions: { bwlimit: '9M' } });
  const job = makeJob({ rcloneOptions: { bwlimit: '3M' }, bisyncOptions: { 'max-delete': 20 } });
  const a = argv({ global, job, callOptions: { transfers: 8 } });
  const tail = a.slice(a.indexOf('--max-lock=2m') + 1);
  assert.deepEqual(tail, ['--bwlimit=3M', '--max-delete=20', '--transfers=8']);
  const resync = argv({ global, job, operation: 'resync' });
  assert.ok(resync.includes('--bwlimit=3M'), 'job rclone options beat global resync options');
  assert.ok(!resync.includes('--max-delete=20'), 'bisync options do not apply to a resync');
});

test('the *.partial filter is left out when the user already mentions .partial', () => {
  assert.ok(!argv({ job: makeJob({ rcloneOptions: { filter: ['+ keep.partial', '- *.tmp'] } }) }).includes('--filter=- *.partial'));
  assert.ok(argv({ job: makeJob({ rcloneOptions: { filter: ['- *.tmp'] } }) }).includes('--filter=- *.partial'));
});

test('-v is left out when the user sets a log level (rclone rejects both)', () => {
  assert.ok(!argv({ global: makeGlobal({ rcloneOptions: { log_level: 'DEBUG' } }) }).includes('-v'));
});

test('hostile values stay single argv elements attached with =', () => {
  const hostile = ['a b', '"q"', "'q'", 'x;rm -rf /', '$(reboot)', '--dry-run', '-v', '\n--force', 'ünï ☃'];
  for (const value of hostile) {
    const a = argv({ job: makeJob({ bisyncOptions: { exclude: value } }), filtersFile: value.startsWith('/') ? value : `/x/${value}` });
    assert.ok(a.includes(`--exclude=${value}`));
    assert.ok(a.includes(`--filters-file=/x/${value}`));
    assert.ok(!a.includes('--force') && !a.includes('--dry-run'), `${JSON.stringify(value)} smuggled a flag`);
  }
});

test('paths with spaces, quotes, unicode or leading dashes in a component stay positional and absolute', () => {
  for (const local of ['/home/u/My Docs', '/home/u/"q"', "/home/u/it's", '/home/u/ünï ☃', '/home/u/-rf', '/home/u/--dry-run']) {
    const a = argv({ job: makeJob({ local, path2: `box:${local.slice(1)}` }) });
    assert.equal(a[1], local);
    assert.equal(a[2], `box:${local.slice(1)}`);
    assert.ok(a[1]?.startsWith('/'), 'an absolute path can never be read as a flag');
  }
});

test('a relative local path or a path2 starting with a dash is refused', () => {
  assert.throws(() => argv({ job: makeJob({ local: '-rf' }) }), /absolute/);
  assert.throws(() => argv({ job: makeJob({ path2: '--dry-run' }) }), /invalid remote path/);
  assert.throws(() => argv({ job: makeJob({ rcloneOptions: { '': 'x' } }) }), /invalid rclone option name/);
  assert.throws(() => argv({ job: makeJob({ rcloneOptions: { 'a=b': 'x' } }) }), /invalid rclone option name/);
});

test('the pending-deletes dry run prints INFO whatever log level the user chose (its Queue lines are INFO)', () => {
  const base = ['bisync', '/a', '/b', '--use-json-log', '--log-level=NOTICE', '--stats=1s'];
  assert.deepEqual(pendingDeletesArgv(base), ['bisync', '/a', '/b', '--use-json-log', '--stats=1s', '-v', '--dry-run', '--force']);
  assert.deepEqual(pendingDeletesArgv(['bisync', '/a', '/b', '-q', '--verbose=2']), ['bisync', '/a', '/b', '-v', '--dry-run', '--force']);
});

test('the pending-deletes dry run is the same argv plus --dry-run --force', () => {
  const base = argv();
  assert.deepEqual(pendingDeletesArgv(base), [...base, '--dry-run', '--force']);
  assert.deepEqual(pendingDeletesArgv([...base, '--dry-run']), [...base, '--dry-run', '--force']);
});

test('the filters file in force: the job\'s filters_file, else the global exclusion_rules_file (one helper for the run, the watch and the reload)', () => {
  const global = makeGlobal({ exclusionRulesFile: '/cfg/global.filters' });
  assert.equal(filtersFileOf(makeJob({ filtersFile: '/cfg/job.filters' }), global), '/cfg/job.filters');
  assert.equal(filtersFileOf(makeJob(), global), '/cfg/global.filters');
  assert.equal(filtersFileOf(makeJob(), makeGlobal()), undefined);
});
