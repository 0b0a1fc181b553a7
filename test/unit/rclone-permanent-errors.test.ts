// Permanent errors (issue 13 case 4), fed with REAL rclone output captured from 1.60 and 1.75
// (test/fixtures/rclone-logs/capture-failures.sh): failed, never retried, naming the remote or the path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRun } from '../../src/run/rules/classify.js';
import { parseOutput } from '../../src/rclone/output.js';
import { matchPermanentError } from '../../src/rclone/permanent-errors.js';
import type { Operation } from '../../src/run/types.js';
import { loadLog, type LogVersion } from '../helpers/rclone-logs.js';

const VERSIONS: LogVersion[] = ['1.60', '1.75'];

function classify(version: LogVersion, scenario: string, operation: Operation = 'bisync') {
  const log = loadLog(version, scenario);
  const summary = parseOutput(log.text);
  return { log, summary, c: classifyRun(log.exit, summary, { operation, dryRun: false, cancelled: false }) };
}

for (const v of VERSIONS) {
  for (const scenario of ['missing-remote', 'setup-missing-remote']) {
    test(`${v} ${scenario}: a remote missing from rclone.conf is failed, not retried, and names the remote and rclone config`, () => {
      const { c, log } = classify(v, scenario);
      assert.equal(log.exit.code, 1);
      assert.equal(c.outcome, 'failed');
      assert.equal(c.retryable, false);
      assert.equal(c.lockout, false);
      assert.equal(c.message, 'the remote "nosuch" is not in rclone\'s config file; nothing was changed');
      assert.match(c.hint, /rclone config/);
      assert.match(c.errorText, /didn't find section in config file/);
    });
  }

  for (const scenario of ['auth-failed', 'setup-auth-failed']) {
    test(`${v} ${scenario}: a refused sftp login is failed (not "unreachable"), naming the remote`, () => {
      const { c, summary } = classify(v, scenario);
      assert.notEqual(summary.remoteUnreachable, '', 'the line also says "couldn\'t connect": the permanent rule must win');
      assert.equal(c.outcome, 'failed');
      assert.equal(c.retryable, false);
      assert.equal(c.message, 'the remote "box" refused the login; nothing was changed');
      assert.match(c.hint, /rclone config update box/);
    });
  }

  test(`${v}: one unreadable file is failed, names the file and says what to do`, () => {
    const { c } = classify(v, 'unreadable-file');
    assert.equal(c.outcome, 'failed');
    assert.equal(c.retryable, false);
    assert.equal(c.followUp, 'none', 'no automatic resync: it would fail on the same file');
    assert.equal(c.lockout, false);
    assert.match(c.message, /^permission denied: <TMP>\/unreadable-file\/one\/secret\.txt; /);
    assert.match(c.hint, /chmod/);
    assert.match(c.hint, /filters_file/);
    // 1.75 copies the other change (a.txt) around the bad file; 1.60 fails while listing, before any copy.
    if (v === '1.75') assert.match(c.message, /the other changes were synced \(1 file copied\)$/);
    else assert.match(c.message, /the run stopped before changing anything$/);
  });

  test(`${v}: one unreadable folder is failed (1.75 called it "retryable"), naming the folder`, () => {
    const { c, summary } = classify(v, 'unreadable-dir');
    if (v === '1.75') assert.equal(summary.retryableWithoutResync, true, 'rclone itself says retryable');
    assert.equal(c.outcome, 'failed');
    assert.equal(c.retryable, false);
    assert.match(c.message, /^permission denied: <TMP>\/unreadable-dir\/one\/private; /);
    // 1.60 syncs the rest around the folder (exit 6); 1.75 stops while listing.
    if (v === '1.60') assert.match(c.message, /the other changes were synced \(1 file copied\)$/);
    else assert.match(c.message, /the run stopped before changing anything$/);
  });

  test(`${v}: a remote that is down stays retryable (transient)`, () => {
    const { c } = classify(v, 'remote-down');
    assert.equal(c.outcome, 'retryable');
    assert.equal(c.retryable, true);
  });
}

test('the table: one line → kind and subject', () => {
  assert.deepEqual(matchPermanentError('Failed to create file system for "gdrive:Docs": didn\'t find section in config file'), { kind: 'missing-remote', subject: 'gdrive', line: 'Failed to create file system for "gdrive:Docs": didn\'t find section in config file' });
  assert.equal(matchPermanentError('couldn\'t fetch token: invalid_grant: maybe token expired?')?.kind, 'auth');
  assert.equal(matchPermanentError('Failed to copy: sftp: "Permission Denied" (SSH_FX_PERMISSION_DENIED)', 'x.txt')?.subject, 'x.txt');
  assert.equal(matchPermanentError('failed to open directory "sub": open /home/u/A/sub: permission denied', 'sub')?.subject, '/home/u/A/sub');
  assert.equal(matchPermanentError('dial tcp 127.0.0.1:22: connect: connection refused'), undefined);
});

test('a "permission denied" in an INFO line (a file name) is not an error', () => {
  const s = parseOutput('{"level":"info","msg":"Copied (new)","object":"permission denied.txt"}\n{"level":"info","msg":"- Path1 File is new - permission denied.txt"}');
  assert.deepEqual(s.permanentErrors, []);
});
