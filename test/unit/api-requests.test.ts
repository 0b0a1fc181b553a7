// The one request parser (src/api/requests.ts): job names, lists of names, run requests and approval tokens, with
// the messages the D-Bus adapter, rbmctl and the config parser all show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RbmError } from '../../src/errors.js';
import { DBUS_RUN_ARGUMENTS, JOB_NAMES_MAX, JOB_NAME_MAX, RBMCTL_RUN_ARGUMENTS, isJobName, parseApprovalToken, parseJobName, parseJobNames, parseRunRequest, parseSyncRequest } from '../../src/api/requests.js';
import { parseConfig } from '../../src/config/parse.js';
import { BAD_NAMES, NAME_RULE, TOO_MANY_NAMES, listEntryMessage, singleNameMessage } from '../helpers/bad-job-names.js';

/** Asserts that fn throws InvalidArgs with exactly `message` (and returns the error for more checks). */
function invalidArgs(fn: () => unknown, message: string): RbmError {
  let thrown: unknown;
  try {
    fn();
  } catch (e: unknown) {
    thrown = e;
  }
  assert.ok(thrown instanceof RbmError, `expected an RbmError, got ${String(thrown)}`);
  assert.equal(thrown.code, 'InvalidArgs');
  assert.equal(thrown.message, message);
  return thrown;
}

test('every bad name of the table is InvalidArgs naming the argument and what is wrong, alone and in a list', () => {
  for (const bad of BAD_NAMES) {
    invalidArgs(() => parseJobName(bad.name, 'job'), singleNameMessage(bad, 'job'));
    invalidArgs(() => parseJobName(bad.name, 'name'), singleNameMessage(bad, 'name'));
    invalidArgs(() => parseJobNames([bad.name], 'jobs'), listEntryMessage(bad, 'jobs'));
    invalidArgs(() => parseSyncRequest([bad.name], {}, DBUS_RUN_ARGUMENTS), listEntryMessage(bad, 'jobs'));
  }
  invalidArgs(() => parseJobNames(['photos', 'docs', '../x'], 'jobs'), `jobs[2]: invalid job name "../x" ${NAME_RULE}`);
});

test('10,000 names in one call are refused by their number; 1,000 good names pass', () => {
  invalidArgs(() => parseJobNames(TOO_MANY_NAMES.names, 'jobs'), `jobs: ${TOO_MANY_NAMES.problem}`);
  invalidArgs(() => parseJobNames([...TOO_MANY_NAMES.names.slice(0, 9_999), '../x'], 'jobs'), `jobs: too many job names (10000, at most ${JOB_NAMES_MAX})`);
  assert.equal(parseJobNames(TOO_MANY_NAMES.names.slice(0, JOB_NAMES_MAX), 'jobs').length, JOB_NAMES_MAX);
});

test('good names pass unchanged, at the edges of the rule; lists drop duplicates, keeping the first', () => {
  for (const name of ['a', '0', 'my-photos.2024', 'A_b', 'x'.repeat(JOB_NAME_MAX), '9.-_']) {
    assert.equal(parseJobName(name, 'job'), name);
    assert.ok(isJobName(name));
  }
  assert.deepEqual(parseJobNames(['b', 'a', 'b'], 'jobs'), ['b', 'a']);
  assert.deepEqual(parseJobNames([], 'jobs'), []);
  invalidArgs(() => parseJobName('-flag', 'job'), `job: invalid job name "-flag" ${NAME_RULE}`);
  invalidArgs(() => parseJobName('.hidden', 'job'), `job: invalid job name ".hidden" ${NAME_RULE}`);
  invalidArgs(() => parseJobName('ümlaut', 'job'), `job: invalid job name "ümlaut" ${NAME_RULE}`);
  invalidArgs(() => parseJobName(42, 'job'), 'job: expected a job name (a string), got number');
  invalidArgs(() => parseJobNames('photos', 'jobs'), 'jobs: expected a list of job names');
  invalidArgs(() => parseJobNames(['photos', null], 'jobs'), 'jobs[1]: expected a job name (a string), got null');
});

test('the config file accepts exactly the names the parser accepts, with the same words at the key', () => {
  const config = (name: string) => `local_base_path: /home/u/sync\nsync_jobs:\n  ${JSON.stringify(name)}:\n    local: a\n    rclone_remote: ""\n    remote: /srv/a\n    schedule: "@daily"\n`;
  const issues = (name: string): string[] => {
    try {
      parseConfig(config(name), { file: '/etc/rbm/config.yaml', home: '/home/u' });
      return [];
    } catch (e: unknown) {
      return (e as { issues: { path: string; message: string }[] }).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };
  assert.deepEqual(issues('my-photos.2024'), []);
  assert.deepEqual(issues('x'.repeat(JOB_NAME_MAX)), []);
  // YAML refuses an implicit key longer than 1024 characters before our check sees it.
  for (const bad of BAD_NAMES.filter((b) => b.inArgv && b.name.length <= 1024)) {
    assert.deepEqual(issues(bad.name), [`sync_jobs.${bad.name}: ${bad.problem}`], bad.what);
  }
});

test('run requests: only the flags that are set, each a boolean, named in the caller\'s words', () => {
  assert.deepEqual(parseRunRequest({}), { trigger: 'manual' });
  assert.deepEqual(parseRunRequest({ resync: true, force: false, dryRun: true }), { trigger: 'manual', resync: true, dryRun: true });
  invalidArgs(() => parseRunRequest({ resync: 'yes' }), 'options.resync: expected a boolean, got string');
  invalidArgs(() => parseRunRequest({ dryRun: 1 }, RBMCTL_RUN_ARGUMENTS), '--dry-run: expected a boolean, got number');
  assert.deepEqual(parseSyncRequest(['a', 'a'], { force: true }, DBUS_RUN_ARGUMENTS), { jobs: ['a'], request: { trigger: 'manual', force: true } });
});

test('force needs the jobs named: never every waiting job at once, in D-Bus and rbmctl words', () => {
  const dbus = invalidArgs(() => parseSyncRequest([], { force: true }, DBUS_RUN_ARGUMENTS), 'options.force needs the jobs named: it never approves every waiting job at once');
  assert.match(dbus.hint ?? '', /rbmctl approve JOB/);
  invalidArgs(() => parseSyncRequest([], { force: true, resync: true }, RBMCTL_RUN_ARGUMENTS), '--force-bisync needs the jobs named: it never approves every waiting job at once');
  assert.deepEqual(parseSyncRequest([], { resync: true, dryRun: true }, RBMCTL_RUN_ARGUMENTS), { jobs: [], request: { trigger: 'manual', resync: true, dryRun: true } });
});

test('approval tokens are the 64 hex digits of a pending list', () => {
  const token = 'a1'.repeat(32);
  assert.equal(parseApprovalToken(token, 'token'), token);
  invalidArgs(() => parseApprovalToken('not-a-token', 'token'), 'token: expected the 64-character token of the pending list, got "not-a-token"');
  invalidArgs(() => parseApprovalToken(token.toUpperCase(), 'token'), `token: expected the 64-character token of the pending list, got "${token.toUpperCase()}"`);
  invalidArgs(() => parseApprovalToken(5, 'token'), 'token: expected the 64-character token of the pending list, got number');
});
