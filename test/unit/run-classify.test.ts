// Every outcome of the pure core, fed with REAL rclone output captured from 1.60 and 1.75
// (test/fixtures/rclone-logs/capture.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRun, CONDITIONS_STOP_HINT, HASH_WARNING_HINT } from '../../src/run/rules/classify.js';
import { parseOutput } from '../../src/rclone/output.js';
import type { Progress } from '../../src/run/types.js';
import { loadLog, type LogVersion } from '../helpers/rclone-logs.js';

const VERSIONS: LogVersion[] = ['1.60', '1.75'];

function classify(version: LogVersion, scenario: string, operation: 'bisync' | 'resync' = 'bisync', extra: { dryRun?: boolean; cancelled?: boolean; stoppedFor?: string } = {}) {
  const log = loadLog(version, scenario);
  const summary = parseOutput(log.text);
  const c = classifyRun(log.exit, summary, { operation, dryRun: extra.dryRun ?? false, cancelled: extra.cancelled ?? false, stoppedFor: extra.stoppedFor });
  return { log, summary, c };
}

for (const v of VERSIONS) {
  test(`${v}: a resync that copied files is a success and rclone said so`, () => {
    const { summary, c } = classify(v, 'resync', 'resync');
    assert.equal(summary.success, true);
    assert.equal(c.outcome, 'success');
    assert.ok((summary.stats?.transfers ?? 0) >= 4, 'the four seed files were copied');
    assert.match(c.message, /resync complete/);
  });

  test(`${v}: a run with changes on both sides is a success with counts from the final stats`, () => {
    const { summary, c } = classify(v, 'success');
    assert.equal(c.outcome, 'success');
    assert.equal(summary.stats?.deletes, 1);
    assert.equal(summary.stats?.transfers, 2);
    assert.equal(c.followUp, 'none');
  });

  test(`${v}: a run with nothing to do is no-changes`, () => {
    const { c } = classify(v, 'no-change');
    assert.equal(c.outcome, 'no-changes');
    assert.equal(c.retryable, false);
  });

  test(`${v}: a conflict is listed with its path and the copies rclone made`, () => {
    const { c, summary } = classify(v, 'conflict');
    assert.equal(c.outcome, 'conflicts');
    assert.equal(summary.conflicts.length, 1);
    const [conflict] = summary.conflicts;
    assert.equal(conflict?.path, 'b.txt');
    const suffixes = v === '1.60' ? ['b.txt..path1', 'b.txt..path2'] : ['b.txt.conflict1', 'b.txt.conflict2'];
    assert.deepEqual(conflict?.copies.map((p) => p.split('/').pop()), suffixes);
    assert.match(conflict?.copies[0] ?? '', /^<TMP>\/conflict\/one\//);
    assert.match(conflict?.copies[1] ?? '', /^<TMP>\/conflict\/two\//);
    assert.match(c.message, /1 conflict: b\.txt/);
  });

  test(`${v}: too many deletes is needs-approval with the deleted files, and asks for a dry run`, () => {
    const { c, summary } = classify(v, 'too-many-deletes');
    assert.equal(c.outcome, 'needs-approval');
    assert.equal(c.followUp, 'pending-deletes');
    assert.equal(summary.safetyAbort, 'too-many-deletes');
    assert.match(summary.safetyAbortText, /too many deletes \(>50%, 3 of 4\)/);
    assert.deepEqual(summary.deletedFiles.map((d) => `${d.side}:${d.path}`), ['Path1:a.txt', 'Path1:b.txt', 'Path1:c.txt']);
    assert.match(c.hint, /rbmctl approve JOB/);
    assert.equal(c.lockout, false);
  });

  test(`${v}: the --dry-run --force of a safety abort lists the full paths that would be deleted`, () => {
    const { summary, c } = classify(v, 'too-many-deletes-dry-run', 'bisync', { dryRun: true });
    assert.equal(c.outcome, 'dry-run');
    assert.deepEqual(summary.queuedDeletes, ['a.txt', 'b.txt', 'c.txt'].map((f) => `<TMP>/too-many-deletes-dry-run/two/${f}`));
  });

  test(`${v}: all files changed is needs-approval too`, () => {
    const { c, summary } = classify(v, 'all-files-changed');
    assert.equal(c.outcome, 'needs-approval');
    assert.equal(summary.safetyAbort, 'all-files-changed');
  });

  test(`${v}: a first run without resync is a lockout (even where rclone calls it retryable)`, () => {
    const { c, summary } = classify(v, 'first-run');
    assert.equal(summary.missingListings, true);
    assert.equal(c.outcome, 'needs-resync');
    assert.equal(c.followUp, 'lockout');
    assert.equal(c.lockout, true);
    assert.equal(c.retryable, false);
  });

  test(`${v}: a prior lock file is 'locked' with the lock path, to check for a dead PID`, () => {
    const { c, summary } = classify(v, 'lock-present');
    assert.equal(c.outcome, 'locked');
    assert.equal(c.followUp, 'stale-lock');
    assert.match(summary.lockFile ?? '', /^<TMP>\/lock-present\/wd\/TMP_lock-present_one\.\.TMP_lock-present_two\.lck$/);
  });

  test(`${v}: a check-access failure is check-failed: never a resync, never a lockout`, () => {
    const { c, summary } = classify(v, 'check-access');
    assert.equal(summary.checkAccessFailed, true);
    assert.equal(c.outcome, 'check-failed');
    assert.equal(c.followUp, 'none');
    assert.equal(c.autoResyncReason, '');
    assert.equal(c.lockout, false);
    assert.equal(c.retryable, false);
  });

  test(`${v}: a changed filters file asks for an automatic resync`, () => {
    const { c, summary } = classify(v, 'filters-changed');
    assert.equal(summary.filtersChanged, true);
    assert.equal(c.followUp, 'auto-resync');
    assert.equal(c.autoResyncReason, 'filters-changed');
  });

  test(`${v}: an unreachable remote is retryable and nothing changed`, () => {
    const { c, summary } = classify(v, 'remote-down');
    assert.equal(c.outcome, 'retryable');
    assert.equal(c.retryable, true);
    assert.match(summary.remoteUnreachable, /Failed to create file system for destination "box:share".*connection refused/);
    assert.equal(c.lockout, false);
  });

  test(`${v}: a run we stopped on purpose is recorded as what rclone did`, () => {
    const { c, summary } = classify(v, 'interrupted', 'bisync', { cancelled: true });
    if (summary.success) {
      // 1.75 finished the transfer during its graceful shutdown and printed `Bisync successful` (issue 13, case 3).
      assert.equal(c.outcome, 'success');
      assert.match(c.message, /a stop was requested: rclone wrapped up cleanly/);
    } else {
      assert.equal(c.outcome, 'cancelled');
    }
    assert.equal(summary.success, v === '1.75', 'the 1.75 fixture is a graceful stop that completed');
  });
}

test('a stop for the run conditions says what stopped the run and that it runs again when they are met; still cancelled, no retry, no lockout', () => {
  const cut = parseOutput(loadLog('1.75', 'interrupted').lines.slice(0, 3).join('\n'));
  const c = classifyRun({ code: 143, signal: null }, cut, { operation: 'bisync', dryRun: false, cancelled: true, stoppedFor: 'metered connection' });
  assert.deepEqual([c.outcome, c.retryable, c.lockout, c.followUp], ['cancelled', false, false, 'none']);
  assert.equal(c.message, 'the bisync was stopped for its run conditions (metered connection) before it finished');
  assert.equal(c.hint, CONDITIONS_STOP_HINT);
  assert.equal(c.errorText, 'stopped for its run conditions (metered connection)');
  const byHand = classifyRun({ code: 143, signal: null }, cut, { operation: 'bisync', dryRun: false, cancelled: true });
  assert.equal(byHand.hint, 'It runs again on its next schedule, or now with rbmctl sync JOB.', 'a stop by a person keeps its own words');
  // 1.75 finished during its graceful shutdown: what it achieved, and why a stop was asked for.
  const done = classify('1.75', 'interrupted', 'bisync', { cancelled: true, stoppedFor: 'its time window ended' }).c;
  assert.equal(done.outcome, 'success');
  assert.match(done.message, /\(a stop was requested for its run conditions \(its time window ended\): rclone wrapped up cleanly;/);
});

test('1.60: an emptied side is a lockout (Must run --resync)', () => {
  const { c, summary } = classify('1.60', 'empty-side');
  assert.equal(summary.emptyListing, true);
  assert.equal(c.outcome, 'needs-resync');
  assert.equal(c.followUp, 'lockout');
});

test('1.75 --resilient: an emptied side is retryable without resync (an unmounted drive comes back)', () => {
  const { c, summary } = classify('1.75', 'empty-side');
  assert.equal(summary.emptyListing, true);
  assert.equal(summary.retryableWithoutResync, true);
  assert.equal(c.outcome, 'retryable');
  assert.match(c.hint, /empty or missing/);
});

test('1.60: SIGTERM mid-transfer locks the pair out; an outside signal is a lockout, not a cancel', () => {
  const { c, summary } = classify('1.60', 'interrupted');
  assert.equal(summary.interrupted, true);
  assert.equal(c.outcome, 'needs-resync');
  const cancelled = classify('1.60', 'interrupted', 'bisync', { cancelled: true }).c;
  assert.equal(cancelled.lockout, true, 'our own cancel still records that rclone requires a resync');
});

test('1.75: SIGTERM is a graceful shutdown that leaves no lockout', () => {
  const { c, summary } = classify('1.75', 'interrupted', 'bisync', { cancelled: true });
  assert.equal(summary.gracefulShutdown, true);
  assert.equal(c.lockout, false);
  const outside = classify('1.75', 'interrupted').c;
  assert.equal(outside.outcome, 'retryable', 'killed by a signal from outside: retried');
});

test('1.75: hash unexpectedly blank is counted and flagged with the advice', () => {
  const { c, summary } = classify('1.75', 'hash-blank');
  assert.equal(summary.hashBlank, 4);
  assert.equal(c.hashWarning, true);
  assert.equal(c.outcome, 'success');
  assert.ok(c.hint.includes(HASH_WARNING_HINT));
  assert.match(c.hint, /keep compare flags identical on every run and run rbmctl sync JOB --resync after changing them/i);
});

test('1.75: --recover restored the listings; a false conflict (files equal) is not reported', () => {
  const { c, summary } = classify('1.75', 'recover');
  assert.equal(summary.recovered, true);
  assert.equal(summary.conflicts.length, 0);
  assert.equal(c.outcome, 'no-changes');
});

test('1.75: with a conflict winner, only the loser copy is listed', () => {
  const { c, summary } = classify('1.75', 'conflict-newer');
  assert.equal(c.outcome, 'conflicts');
  assert.deepEqual(summary.conflicts, [{ path: 'b.txt', copies: ['<TMP>/conflict-newer/one/b.txt.conflict1'] }]);
});

test('1.60: an unknown flag (too old for it) fails with a hint about the version', () => {
  const { c, summary } = classify('1.60', 'unknown-flag');
  assert.equal(summary.unknownFlag, '--recover');
  assert.equal(c.outcome, 'failed');
  assert.match(c.hint, /1\.66/);
});

test('rclone killed by SIGKILL (not by us) is retryable; the next run removes the stale lock', () => {
  const summary = parseOutput('{"time":"x","level":"info","msg":"Building Path1 and Path2 listings"}');
  const c = classifyRun({ code: null, signal: 'SIGKILL' }, summary, { operation: 'bisync', dryRun: false, cancelled: false });
  assert.equal(c.outcome, 'retryable');
  assert.match(c.message, /SIGKILL/);
});

test('rclone missing (spawn error 127) fails with an install hint', () => {
  const c = classifyRun({ code: 127, signal: null }, parseOutput('spawn rclone: ENOENT'), { operation: 'bisync', dryRun: false, cancelled: false });
  assert.equal(c.outcome, 'failed');
  assert.match(c.hint, /installed/);
});

test('a failed resync is not a lockout: the next run just repeats the resync', () => {
  const { c } = classify('1.75', 'first-run', 'resync');
  assert.notEqual(c.outcome, 'needs-resync');
  assert.equal(c.lockout, false);
});

test('stats lines become progress for both versions', () => {
  for (const v of VERSIONS) {
    const seen: Progress[] = [];
    parseOutput(loadLog(v, 'success').text, { onProgress: (p) => seen.push(p) });
    assert.ok(seen.length >= 1, `${v} printed stats`);
    const last = seen.at(-1);
    assert.equal(last?.transfers, 2);
    assert.ok((last?.totalBytes ?? 0) > 0);
  }
});
