// The one builder of run records (issue 14): defaults for what did not happen, counts from rclone's summary, secrets
// masked, and hints that name the job instead of a literal JOB.
import { redactSecrets } from '../../src/log/redact.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TAIL_KEEP, buildRunRecord } from '../../src/run/rules/run-record.js';
import { emptySummary } from '../../src/rclone/output.js';

test('a record of a run that never reached rclone gets zero counts, no exit, no output and the documented defaults', () => {
  const record = buildRunRecord({ runId: 9, job: 'docs', outcome: 'cancelled', message: 'cancelled before it started', startedMs: 1_000 });
  assert.deepEqual(record, {
    runId: 9, job: 'docs', operation: 'bisync', trigger: 'manual', dryRun: false, startedMs: 1_000, finishedMs: 1_000,
    exitCode: null, signal: null, outcome: 'cancelled', message: 'cancelled before it started', hint: '',
    counts: { filesTransferred: 0, bytesTransferred: 0, deletes: 0, renames: 0, errors: 0 }, conflicts: [], hashWarnings: 0, errorText: '', tail: [],
  });
});

test('the hint names the job: every JOB becomes the job name, words that merely contain JOB stay', () => {
  const record = buildRunRecord({ runId: 1, job: 'photos-2024', outcome: 'needs-resync', message: 'm', startedMs: 0, hint: 'Run rbmctl sync JOB --resync; see rbmctl history JOB. JOBS and JOB_X stay.' });
  assert.equal(record.hint, 'Run rbmctl sync photos-2024 --resync; see rbmctl history photos-2024. JOBS and JOB_X stay.');
});

test('counts, conflicts and hash warnings come from the summary; explicit counts override them; the exit is kept', () => {
  const summary = { ...emptySummary(), stats: { bytes: 2048, transfers: 3, deletes: 1, renames: 2, errors: 0, checks: 7 }, conflicts: [{ path: 'a.txt', copies: ['/l/a.txt.conflict1'] }], hashBlank: 4 };
  const record = buildRunRecord({ runId: 2, job: 'docs', outcome: 'conflicts', message: 'm', startedMs: 5, finishedMs: 8, operation: 'resync', trigger: 'schedule', dryRun: true, exit: { code: 0, signal: null }, summary, counts: { errors: 1 } });
  assert.deepEqual(record.counts, { filesTransferred: 3, bytesTransferred: 2048, deletes: 1, renames: 2, errors: 1 });
  assert.deepEqual(record.conflicts, [{ path: 'a.txt', copies: ['/l/a.txt.conflict1'] }]);
  assert.notEqual(record.conflicts[0]!.copies, summary.conflicts[0]!.copies, 'the record owns its copy of the list');
  assert.equal(record.hashWarnings, 4);
  assert.deepEqual([record.exitCode, record.signal, record.operation, record.trigger, record.dryRun, record.finishedMs], [0, null, 'resync', 'schedule', true, 8]);
});

test('with the job\'s secrets, message, error text and tail are masked and the tail keeps its last TAIL_KEEP lines', () => {
  const tail = Array.from({ length: TAIL_KEEP + 5 }, (_, i) => `line ${i} s3cr3t-value`);
  const record = buildRunRecord({ runId: 3, job: 'docs', outcome: 'failed', message: 'failed with s3cr3t-value', errorText: 'at https://u:pw@host/x s3cr3t-value', startedMs: 0, tail, redact: (text) => redactSecrets(text, ['s3cr3t-value']) });
  assert.equal(record.message, 'failed with ***');
  assert.doesNotMatch(record.errorText, /s3cr3t-value|:pw@/);
  assert.equal(record.tail.length, TAIL_KEEP);
  assert.equal(record.tail[0], 'line 5 ***');
  assert.equal(record.tail.at(-1), `line ${TAIL_KEEP + 4} ***`);
});

test('without secrets the texts are kept as written (records of runs that never saw rclone output)', () => {
  const record = buildRunRecord({ runId: 4, job: 'docs', outcome: 'locked', message: 'refused: password=abc is in the path', errorText: 'token=xyz', startedMs: 0 });
  assert.equal(record.message, 'refused: password=abc is in the path');
  assert.equal(record.errorText, 'token=xyz');
});
