// Which finished runs need a person, and the words of their (info) run-end line: the job, what happened, what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionLine } from '../../src/run/rules/attention.js';
import { OUTCOME_NAMES, needsAttention } from '../../src/api/outcomes.js';
import type { Outcome, RunRecord } from '../../src/run/types.js';

function record(outcome: Outcome, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    runId: 7, job: 'photos', operation: 'bisync', trigger: 'schedule', dryRun: false, startedMs: 0, finishedMs: 1, exitCode: 1, signal: null,
    outcome, message: 'something happened', hint: 'Do this: rbmctl sync JOB --resync.',
    counts: { filesTransferred: 0, bytesTransferred: 0, deletes: 0, renames: 0, errors: 0 }, conflicts: [], hashWarnings: 0, errorText: '', tail: [],
    ...overrides,
  };
}

test('needs-approval, needs-resync and failed name the job, what happened and the hint with the job filled in', () => {
  for (const [outcome, what] of [['needs-approval', 'waits for your approval'], ['needs-resync', 'needs a resync'], ['failed', 'failed']] as const) {
    const line = attentionLine(record(outcome), 1);
    assert.equal(line?.message, `job photos ${what}: something happened. What to do: Do this: rbmctl sync photos --resync.`);
    assert.equal(line.meta.outcome, outcome);
  }
});

test('a retried failure needs no one on its own (health says failing after failures_before_alert); a repeated failure says how often', () => {
  for (const outcome of ['retryable', 'locked'] as const) {
    assert.deepEqual([1, 2, 3, 4, 100].map((n) => attentionLine(record(outcome), n)), [undefined, undefined, undefined, undefined, undefined]);
  }
  assert.match(attentionLine(record('failed'), 1)?.message ?? '', /^job photos failed: /);
  assert.match(attentionLine(record('failed'), 2)?.message ?? '', /^job photos failed \(2 times in a row\): /);
});

test('ok outcomes, cancelled runs and dry runs need no one', () => {
  for (const outcome of ['success', 'no-changes', 'conflicts', 'cancelled', 'dry-run'] as const) assert.equal(attentionLine(record(outcome), 5), undefined, outcome);
  assert.equal(attentionLine(record('failed', { dryRun: true }), 0), undefined);
  assert.deepEqual(OUTCOME_NAMES.filter(needsAttention).sort(), ['check-failed', 'failed', 'needs-approval', 'needs-resync']);
});

test('a first run that ends so is an error-log line exactly when the outcome table says it needs a person', () => {
  for (const outcome of OUTCOME_NAMES) assert.equal(attentionLine(record(outcome), 1) !== undefined, needsAttention(outcome), outcome);
});

test('a side that looks unmounted is an error-log line naming the job and what to do', () => {
  const line = attentionLine(record('check-failed', { message: 'the local side looks unmounted or emptied: /mnt/photos', hint: 'Is the drive mounted? When it is back, JOB syncs by itself.' }), 0);
  assert.match(line?.message ?? '', /^job photos waits for a side that looks unmounted or emptied: the local side looks unmounted or emptied: \/mnt\/photos\. What to do: Is the drive mounted\? When it is back, photos syncs by itself\.$/);
});

test('a message that ends with a full stop does not get a second one', () => {
  assert.match(attentionLine(record('failed', { message: 'rclone failed.' }), 1)?.message ?? '', /^job photos failed: rclone failed\. What to do: /);
});

test('without a hint the line still says where to look', () => {
  assert.match(attentionLine(record('failed', { hint: '' }), 1)?.message ?? '', /What to do: see rbmctl history photos$/);
});
