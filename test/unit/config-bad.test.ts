// Every way a config can be wrong, each with the exact position, path and reason the user will see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parseConfig } from '../../src/config/parse.js';
import { buildCapabilities } from '../../src/rclone/caps.js';
import { ConfigError, formatIssue } from '../../src/errors.js';
import type { RcloneCapabilities } from '../../src/config/types.js';

const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
// rclone 1.60's capabilities, built from its captured real output: a plain value, not a mock.
const rclone160 = buildCapabilities('rclone', fixture('rclone/v1.60-version.txt'), fixture('rclone/v1.60-bisync-help.txt'), fixture('rclone/v1.60-help-flags.txt'));

/** A valid file to break; line numbers below count from 1 in these texts. */
const HEAD = 'local_base_path: /home/u/Sync\n';
const job = (body = '', name = 'docs'): string =>
  `  ${name}:\n    local: ${name}\n    rclone_remote: gdrive\n    remote: ${name === 'docs' ? 'Documents' : name}\n    schedule: "*/15 * * * *"\n${body}`;
const valid = (jobBody = '', top = ''): string => `${HEAD}${top}sync_jobs:\n${job(jobBody)}`;

/** [line, col, path, a fragment of the message that states the reason]. */
type Expected = [number, number, string, string];

interface Case {
  name: string;
  text: string | Uint8Array;
  caps?: RcloneCapabilities;
  issues: Expected[];
}

const cases: Case[] = [
  // --- input edge cases -------------------------------------------------------------------------
  { name: 'empty file', text: '', issues: [[1, 1, '', 'the file is empty (expected at least local_base_path and sync_jobs; start from examples/config.yaml)']] },
  { name: 'only comments', text: '# nothing here yet\n\n', issues: [[1, 1, '', 'the file is empty']] },
  {
    name: 'non-UTF-8 byte',
    text: new Uint8Array([...Buffer.from(`${HEAD}sync_jobs:\n  d`), 0xe9, ...Buffer.from('t\xe9:\n')]),
    issues: [[3, 4, '', 'invalid UTF-8 byte 0xe9 (expected UTF-8 text']],
  },
  {
    name: 'non-UTF-8 byte after multi-byte characters on the same line',
    text: new Uint8Array([...Buffer.from('# héllo wörld '), 0xff, 0x0a]),
    issues: [[1, 15, '', 'invalid UTF-8 byte 0xff']],
  },
  { name: 'a 5 MB file is refused before parsing', text: `${HEAD}#${'x'.repeat(5 * 1024 * 1024)}\n`, issues: [[1, 1, '', 'the file is 5.0 MiB, too big for a config file (expected at most 1.0 MiB']] },
  {
    name: 'alias bomb',
    text: `${HEAD}a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
    issues: [[1, 1, '', 'cannot expand the document: Excessive alias count']],
  },
  // --- malformed YAML ---------------------------------------------------------------------------
  { name: 'unclosed flow sequence', text: valid('    rclone_options:\n      exclude: [a, b\n'), issues: [[10, 1, '', 'invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']] },
  { name: 'tab indentation', text: `${HEAD}sync_jobs:\n\tdocs: {}\n`, issues: [[3, 1, '', 'invalid YAML: Tabs are not allowed as indentation']] },
  {
    name: 'custom tag',
    text: valid('', 'dry_run: !please true\n'),
    issues: [
      [2, 10, '', 'Unresolved tag: !please (expected plain YAML without custom tags)'],
      [2, 18, 'dry_run', 'wrong type: string "true" (expected true or false)'],
    ],
  },
  { name: 'two YAML documents', text: `${valid()}---\nlocal_base_path: /srv\n`, issues: [[8, 1, '', 'the file holds more than one YAML document (expected one; remove the --- line)']] },
  {
    name: 'a list used as a key',
    text: `${HEAD}? [a, b]\n: 1\n`,
    issues: [
      [1, 1, '[ a, b ]', 'unknown key "[ a, b ]"'],
      [2, 3, '', 'a key is a list or a mapping (expected a plain name)'],
    ],
  },
  // --- top level --------------------------------------------------------------------------------
  { name: 'top level is a list', text: '- local_base_path: /x\n', issues: [[1, 1, '', 'wrong type: a list (expected a mapping with keys such as local_base_path and sync_jobs)']] },
  { name: 'top level is a scalar', text: 'hello\n', issues: [[1, 1, '', 'wrong type: string "hello" (expected a mapping']] },
  { name: 'missing local_base_path', text: `# my jobs\nsync_jobs: {}\n`, issues: [[2, 1, 'local_base_path', 'required key "local_base_path" is missing (expected an absolute directory, or one starting with ~/)']] },
  { name: 'unknown top-level key, with a suggestion', text: valid('', 'max_paralel_jobs: 3\n'), issues: [[2, 1, 'max_paralel_jobs', 'unknown key "max_paralel_jobs" (did you mean "max_parallel_jobs"?)']] },
  { name: 'unknown top-level key, listing the allowed keys', text: valid('', 'colour: blue\n'), issues: [[2, 1, 'colour', 'unknown key "colour" (expected one of: local_base_path, exclusion_rules_file,']] },
  { name: 'relative local_base_path', text: `local_base_path: Sync\nsync_jobs: {}\n`, issues: [[1, 18, 'local_base_path', '"Sync" is not an absolute path (expected an absolute directory, or one starting with ~/)']] },
  { name: '~user local_base_path', text: `local_base_path: ~bob/Sync\n`, issues: [[1, 18, 'local_base_path', '~user paths are not supported']] },
  { name: 'max_cpu_usage_percent out of range', text: valid('', 'max_cpu_usage_percent: 0\n'), issues: [[2, 24, 'max_cpu_usage_percent', '0 is out of range (expected a whole number from 1 to 100)']] },
  { name: 'rclone_nice above 19', text: valid('', 'rclone_nice: 20\n'), issues: [[2, 14, 'rclone_nice', '20 is out of range (expected a whole number from 0 to 19)']] },
  { name: 'rclone_nice negative (would raise rclone above the service)', text: valid('', 'rclone_nice: -5\n'), issues: [[2, 14, 'rclone_nice', '-5 is out of range (expected a whole number from 0 to 19)']] },
  { name: 'rclone_nice not a whole number', text: valid('', 'rclone_nice: 2.5\n'), issues: [[2, 14, 'rclone_nice', 'wrong type: number 2.5 (expected a whole number from 0 to 19)']] },
  { name: 'rclone_nice is text', text: valid('', 'rclone_nice: low\n'), issues: [[2, 14, 'rclone_nice', 'wrong type: string "low" (expected a whole number from 0 to 19)']] },
  { name: 'max_parallel_jobs is text', text: valid('', 'max_parallel_jobs: two\n'), issues: [[2, 20, 'max_parallel_jobs', 'wrong type: string "two" (expected a whole number from 1 to 64)']] },
  { name: 'max_parallel_jobs too big', text: valid('', 'max_parallel_jobs: 65\n'), issues: [[2, 20, 'max_parallel_jobs', '65 is out of range (expected a whole number from 1 to 64)']] },
  { name: 'shutdown_grace not a duration', text: valid('', 'shutdown_grace: soon\n'), issues: [[2, 17, 'shutdown_grace', '"soon" is not a duration (expected seconds from 0 to 3600']] },
  { name: 'shutdown_grace over an hour', text: valid('', 'shutdown_grace: 2h\n'), issues: [[2, 17, 'shutdown_grace', '"2h" is more than an hour']] },
  { name: 'rclone_binary relative path', text: valid('', 'rclone_binary: bin/rclone\n'), issues: [[2, 16, 'rclone_binary', '"bin/rclone" is not an absolute path (expected a command name on PATH or an absolute path)']] },
  { name: 'redirect_rclone_log_output yes', text: valid('', 'redirect_rclone_log_output: yes\n'), issues: [[2, 29, 'redirect_rclone_log_output', 'wrong type: string "yes" (expected true or false; YAML 1.2 reads yes/no/on/off as text)']] },
  { name: 'sync_jobs is a list', text: `${HEAD}sync_jobs:\n  - docs\n`, issues: [[3, 3, 'sync_jobs', 'wrong type: a list (expected a mapping of job names to jobs)']] },
  // --- jobs -------------------------------------------------------------------------------------
  { name: 'job is empty', text: `${HEAD}sync_jobs:\n  docs:\n`, issues: [[3, 3, 'sync_jobs.docs', 'wrong type: an empty value (expected a job: a mapping with local, rclone_remote, remote and schedule)']] },
  { name: 'unknown job key, with a suggestion', text: valid('    scheduel: "@daily"\n'), issues: [[8, 5, 'sync_jobs.docs.scheduel', 'unknown key "scheduel" (did you mean "schedule"?)']] },
  {
    name: 'missing local',
    text: `${HEAD}sync_jobs:\n  docs:\n    rclone_remote: gdrive\n    remote: Documents\n    schedule: "@daily"\n`,
    issues: [[3, 3, 'sync_jobs.docs.local', 'required key "local" is missing (expected a directory under local_base_path, relative to it or absolute)']],
  },
  {
    name: 'missing schedule, rclone_remote and remote',
    text: `${HEAD}sync_jobs:\n  docs: {local: docs}\n`,
    issues: [
      [3, 3, 'sync_jobs.docs.rclone_remote', 'required key "rclone_remote" is missing'],
      [3, 3, 'sync_jobs.docs.remote', 'required key "remote" is missing'],
      [3, 3, 'sync_jobs.docs.schedule', 'required key "schedule" is missing (expected a cron expression with 5 or 6 fields'],
    ],
  },
  { name: 'bad job name', text: `${HEAD}sync_jobs:\n${job('', 'my docs')}`, issues: [[3, 3, 'sync_jobs.my docs', 'invalid job name "my docs" (expected 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit)']] },
  { name: 'duplicate job names', text: `${HEAD}sync_jobs:\n${job()}${job()}`, issues: [[8, 3, 'sync_jobs.docs', 'duplicate job name "docs" (expected each name once; it is first used on line 3)']] },
  { name: 'duplicate top-level key', text: `${valid()}local_base_path: /srv\n`, issues: [[8, 1, 'local_base_path', 'duplicate key "local_base_path" (expected each name once; it is first used on line 1)']] },
  { name: 'cron value out of range', text: valid().replace('*/15 * * * *', '61 * * * *'), issues: [[7, 15, 'sync_jobs.docs.schedule', '"61 * * * *" is not a valid cron expression: Invalid value for minute: 61 (expected 5 or 6 fields']] },
  { name: 'cron with the wrong number of fields', text: valid().replace('"*/15 * * * *"', 'every hour'), issues: [[7, 15, 'sync_jobs.docs.schedule', '"every hour" has 2 fields (expected 5 or 6 fields: [second] minute hour day-of-month month day-of-week']] },
  { name: 'cron that never fires', text: valid().replace('*/15 * * * *', '0 0 31 2 *'), issues: [[7, 15, 'sync_jobs.docs.schedule', '"0 0 31 2 *" never matches a date']] },
  { name: 'schedule is a number', text: valid().replace('"*/15 * * * *"', '15'), issues: [[7, 15, 'sync_jobs.docs.schedule', 'wrong type: number 15 (expected a cron expression']] },
  { name: 'local escapes with ..', text: valid().replace('local: docs', 'local: ../elsewhere'), issues: [[4, 12, 'sync_jobs.docs.local', '"../elsewhere" escapes local_base_path /home/u/Sync (resolves to /home/u/elsewhere) (expected a directory under /home/u/Sync)']] },
  { name: 'absolute local outside the base', text: valid().replace('local: docs', 'local: /etc'), issues: [[4, 12, 'sync_jobs.docs.local', '/etc is outside local_base_path /home/u/Sync (expected a directory under /home/u/Sync)']] },
  { name: 'rclone_remote with its colon', text: valid().replace('rclone_remote: gdrive', 'rclone_remote: "gdrive:"'), issues: [[5, 20, 'sync_jobs.docs.rclone_remote', '"gdrive:" ends with a colon (expected the remote name alone: "gdrive")']] },
  { name: 'rclone_remote with a slash', text: valid().replace('rclone_remote: gdrive', 'rclone_remote: g/drive'), issues: [[5, 20, 'sync_jobs.docs.rclone_remote', '"g/drive" is not an rclone remote name']] },
  { name: 'local Path2 that is relative', text: valid().replace('rclone_remote: gdrive', 'rclone_remote: ""').replace('remote: Documents', 'remote: backup/docs'), issues: [[6, 13, 'sync_jobs.docs.remote', '"backup/docs" is not an absolute path (expected an absolute directory, because rclone_remote is "" (a local Path2))']] },
  { name: 'conflict_resolve not in the enum', text: valid('    conflict_resolve: mine\n'), issues: [[8, 23, 'sync_jobs.docs.conflict_resolve', '"mine" is not allowed (expected one of none, path1, path2, newer, older, larger, smaller)']] },
  { name: 'conflict_suffix with a slash', text: valid('    conflict_suffix: a/b\n'), issues: [[8, 22, 'sync_jobs.docs.conflict_suffix', '"a/b" is not a usable suffix']] },
  // --- overlapping jobs -------------------------------------------------------------------------
  {
    name: 'nested local paths',
    text: `${HEAD}sync_jobs:\n${job()}${job('', 'docs2').replace('local: docs2', 'local: docs/work')}`,
    issues: [[9, 12, 'sync_jobs.docs2.local', '/home/u/Sync/docs/work is inside /home/u/Sync/docs of job "docs" (expected each job to sync its own directory tree)']],
  },
  {
    name: 'same Path2 twice',
    text: `${HEAD}sync_jobs:\n${job()}${job('', 'other').replace('remote: other', 'remote: Documents/')}`,
    issues: [[11, 13, 'sync_jobs.other.remote', 'gdrive:Documents/ is the same Path2 as gdrive:Documents of job "docs"']],
  },
  {
    name: 'local Path2 inside the job\'s own local directory',
    text: valid().replace('rclone_remote: gdrive', 'rclone_remote: local').replace('remote: Documents', 'remote: /home/u/Sync/docs/mirror'),
    issues: [[6, 13, 'sync_jobs.docs.remote', 'Path2 /home/u/Sync/docs/mirror overlaps this job\'s own local directory /home/u/Sync/docs']],
  },
  // --- option maps ------------------------------------------------------------------------------
  { name: 'option value is a mapping', text: valid('    rclone_options:\n      exclude: {pattern: x}\n'), issues: [[9, 16, 'sync_jobs.docs.rclone_options.exclude', 'wrong type: a mapping (expected a string, a number, true, false, null, or a list of strings and numbers)']] },
  { name: 'option list item is a list', text: valid('    rclone_options:\n      exclude: [a, [b]]\n'), issues: [[9, 20, 'sync_jobs.docs.rclone_options.exclude.1', 'wrong type: a list (expected a string or a number)']] },
  { name: 'option map is a list', text: valid('', 'bisync_options: [max_delete]\n'), issues: [[2, 17, 'bisync_options', 'wrong type: a list (expected a mapping of rclone flag names to values']] },
  { name: 'option value is infinite', text: valid('', 'rclone_options:\n  max_delete: .inf\n'), issues: [[3, 15, 'rclone_options.max_delete', 'wrong type: number Infinity (expected a string, a number']] },
  { name: 'owned option: workdir', text: valid('', 'rclone_options:\n  workdir: /tmp/w\n'), issues: [[3, 3, 'rclone_options.workdir', 'option "workdir" is set by the manager (the manager keeps a separate working directory per job)']] },
  { name: 'owned option: resync', text: valid('    bisync_options:\n      resync: true\n'), issues: [[9, 7, 'sync_jobs.docs.bisync_options.resync', 'option "resync" is set by the manager (the manager decides when to resync: set force_resync: true']] },
  { name: 'owned option: dry-run', text: valid('    rclone_options:\n      dry-run: true\n'), issues: [[9, 7, 'sync_jobs.docs.rclone_options.dry-run', 'option "dry-run" is set by the manager (use dry_run: true (per job or global))']] },
  { name: 'owned option: log_file', text: valid('', 'resync_options:\n  log_file: /tmp/x.log\n'), issues: [[3, 3, 'resync_options.log_file', 'option "log_file" is set by the manager (the manager sets the log level']] },
  { name: 'owned option: force', text: valid('    bisync_options: {force: true}\n'), issues: [[8, 22, 'sync_jobs.docs.bisync_options.force', 'use the job key force_operation: true, or approve one run with "rbmctl sync --force-bisync"']] },
  { name: 'owned option: conflict_resolve as a flag', text: valid('    bisync_options:\n      conflict_resolve: newer\n'), issues: [[9, 7, 'sync_jobs.docs.bisync_options.conflict_resolve', 'use the job key conflict_resolve']] },
  { name: 'resync_mode outside resync_options', text: valid('    bisync_options:\n      resync_mode: newer\n'), issues: [[9, 7, 'sync_jobs.docs.bisync_options.resync_mode', 'put it in resync_options: it only applies to resync runs']] },
  { name: 'owned short flag v', text: valid('', 'rclone_options:\n  v: true\n'), issues: [[3, 3, 'rclone_options.v', 'option "v" is set by the manager']] },
  { name: 'option key with dashes', text: valid('', 'rclone_options:\n  --max-delete: 5\n'), issues: [[3, 3, 'rclone_options.--max-delete', 'option "--max-delete" starts with a dash (expected the flag name without dashes: max_delete)']] },
  { name: 'option key with capitals', text: valid('', 'rclone_options:\n  Max_Delete: 5\n'), issues: [[3, 3, 'rclone_options.Max_Delete', 'option "Max_Delete" is not an rclone flag name (expected lowercase letters, digits, _ and -, e.g. max_delete)']] },
  { name: 'short flag', text: valid('', 'rclone_options:\n  c: true\n'), issues: [[3, 3, 'rclone_options.c', 'option "c" is a short flag (expected its long name']] },
  { name: 'same flag twice in one map', text: valid('', 'rclone_options:\n  max_delete: 5\n  max-delete: 6\n'), issues: [[4, 3, 'rclone_options.max-delete', 'option "max-delete" is the same flag as "max_delete" (expected each flag once per map)']] },
  // --- what the installed rclone (1.60) cannot do -------------------------------------------------
  { name: 'option added in 1.66', caps: rclone160, text: valid('    bisync_options:\n      compare: size,modtime\n'), issues: [[9, 7, 'sync_jobs.docs.bisync_options.compare', '--compare needs rclone >= 1.66, but the installed rclone is 1.60.1']] },
  { name: 'option added in 1.64', caps: rclone160, text: valid('', 'resync_options:\n  create_empty_src_dirs: true\n'), issues: [[3, 3, 'resync_options.create_empty_src_dirs', '--create-empty-src-dirs needs rclone >= 1.64, but the installed rclone is 1.60.1']] },
  { name: 'resync_mode in resync_options on 1.60', caps: rclone160, text: valid('', 'resync_options:\n  resync_mode: newer\n'), issues: [[3, 3, 'resync_options.resync_mode', '--resync-mode needs rclone >= 1.66']] },
  { name: 'flag rclone does not know', caps: rclone160, text: valid('', 'rclone_options:\n  turbo_mode: true\n'), issues: [[3, 3, 'rclone_options.turbo_mode', 'rclone 1.60.1 does not accept --turbo-mode (expected a flag listed by "rclone bisync --help" or "rclone help flags")']] },
  { name: 'conflict_resolve job key on 1.60', caps: rclone160, text: valid('    conflict_resolve: newer\n'), issues: [[8, 5, 'sync_jobs.docs.conflict_resolve', 'conflict_resolve (--conflict-resolve) needs rclone >= 1.66, but the installed rclone is 1.60.1']] },
  { name: 'a name that exists on every JS object is still unknown to rclone', caps: rclone160, text: valid('', 'rclone_options:\n  constructor: 1\n'), issues: [[3, 3, 'rclone_options.constructor', 'rclone 1.60.1 does not accept --constructor']] },
  // --- several at once --------------------------------------------------------------------------
  {
    name: 'several problems are reported together, in file order',
    text: `${HEAD}max_parallel_jobs: 0\nsync_jobs:\n  docs:\n    local: ../x\n    rclone_remote: gdrive\n    remote: Documents\n    schedule: "* * *"\n    active: maybe\n    rclone_options: {workdir: /w}\n  "bad name": {local: y, rclone_remote: r, remote: y, schedule: "@daily"}\n  docs:\n    local: z\n`,
    issues: [
      [2, 20, 'max_parallel_jobs', 'is out of range'],
      [11, 3, 'sync_jobs.bad name', 'invalid job name "bad name"'],
      // Of two jobs with the same name the last one counts (as in YAML), and is the one checked.
      [12, 3, 'sync_jobs.docs', 'duplicate job name "docs"'],
      [12, 3, 'sync_jobs.docs.rclone_remote', 'required key "rclone_remote" is missing'],
      [12, 3, 'sync_jobs.docs.remote', 'required key "remote" is missing'],
      [12, 3, 'sync_jobs.docs.schedule', 'required key "schedule" is missing'],
    ],
  },
  {
    name: 'problems inside one job are all reported',
    text: `${HEAD}sync_jobs:\n  docs:\n    local: ../x\n    rclone_remote: "gdrive:"\n    remote: Documents\n    schedule: "* * *"\n    active: maybe\n    rclone_options: {workdir: /w}\n`,
    issues: [
      [4, 12, 'sync_jobs.docs.local', 'escapes local_base_path'],
      [5, 20, 'sync_jobs.docs.rclone_remote', 'ends with a colon'],
      [7, 15, 'sync_jobs.docs.schedule', 'has 3 fields'],
      [8, 13, 'sync_jobs.docs.active', 'wrong type: string "maybe" (expected true or false)'],
      [9, 22, 'sync_jobs.docs.rclone_options.workdir', 'is set by the manager'],
    ],
  },
];

test('there are at least 30 bad configs', () => {
  assert.ok(cases.length >= 30, `${cases.length} cases`);
});

for (const c of cases) {
  test(`bad config: ${c.name}`, () => {
    let error: unknown;
    try {
      parseConfig(c.text, { file: '/etc/rbm/config.yaml', home: '/home/u', ...(c.caps ? { caps: c.caps } : {}) });
    } catch (e: unknown) {
      error = e;
    }
    assert.ok(error instanceof ConfigError, 'expected a ConfigError');
    assert.equal(error.code, 'InvalidConfig');
    assert.equal(error.exitCode, 78);
    const got = error.issues.map((i) => [i.line, i.col, i.path, i.message] as const);
    assert.equal(got.length, c.issues.length, `issues:\n${error.issues.map(formatIssue).join('\n')}`);
    c.issues.forEach(([line, col, path, reason], index) => {
      const issue = error.issues[index]!;
      assert.equal(issue.file, '/etc/rbm/config.yaml');
      assert.deepEqual([issue.line, issue.col, issue.path], [line, col, path], formatIssue(issue));
      assert.ok(issue.message.includes(reason), `message ${JSON.stringify(issue.message)} should contain ${JSON.stringify(reason)}`);
      // The message names what is wrong and, in parentheses, what is expected.
      assert.match(issue.message, /\(.+\)/);
    });
    assert.ok(error.message.includes(formatIssue(error.issues[0]!)), 'the error message lists the issues as file:line:col path: …');
  });
}

test('files in test/fixtures/config/bad are rejected at the position their first line names', () => {
  // Each fixture starts with "# expect: LINE:COL PATH: REASON".
  const dir = new URL('../fixtures/config/bad/', import.meta.url);
  const names = readdirSync(dir).filter((name) => name.endsWith('.yaml'));
  assert.ok(names.length >= 3);
  for (const name of names) {
    const text = readFileSync(new URL(name, dir), 'utf8');
    const expectations = [...text.matchAll(/^# expect: (\d+):(\d+) (\S*): (.+)$/gm)];
    assert.ok(expectations.length > 0, name);
    let error: unknown;
    try {
      parseConfig(text, { file: name, home: '/home/u' });
    } catch (e: unknown) {
      error = e;
    }
    assert.ok(error instanceof ConfigError, name);
    assert.equal(error.issues.length, expectations.length, `${name}:\n${error.message}`);
    expectations.forEach((m, i) => {
      const issue = error.issues[i]!;
      assert.deepEqual([issue.line, issue.col, issue.path], [Number(m[1]), Number(m[2]), m[3]], `${name}: ${formatIssue(issue)}`);
      assert.ok(issue.message.includes(m[4]!), `${name}: ${issue.message}`);
    });
  }
});

test('control characters from the file (a NUL in a key) are shown escaped, never raw: a D-Bus string may not hold them', () => {
  const text = `${HEAD}sync_jobs:\n${job('    force_op\u0000eration: true\n')}`;
  // eslint-disable-next-line no-control-regex
  const raw = /[\u0000-\u0008\u000b-\u001f]/;
  assert.throws(
    () => parseConfig(text, { file: '/c/config.yaml', home: '/home/u' }),
    (e: unknown) => e instanceof ConfigError && e.message.includes('force_op\\u0000eration') && !raw.test(e.describe()),
  );
});
