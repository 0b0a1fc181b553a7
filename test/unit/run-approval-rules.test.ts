// The pure approval rules (src/run/rules/approval.ts): a token identifies exactly one set of deletes of one job,
// an approved run proceeds only when every delete it would make was in the approved set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalToken, pendingApprovalOf } from '../../src/state/approval-token.js';
import { canonicalDeletes, judgeApprovedRun, queuedDeleteOf, statePendingList, STATE_PENDING_CAP } from '../../src/run/rules/approval.js';
import { initialJobState, parseJobState } from '../../src/run/rules/job-state.js';
import { applyRunResult } from '../../src/run/rules/plan.js';
import { parseOutput } from '../../src/rclone/output.js';
import type { RunRecord } from '../../src/run/types.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/version.js';

const files = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `/r/f${String(from + i).padStart(2, '0')}.txt`);

test('the token identifies the set: order and duplicates do not matter, one more or one less path does, and so does the job', () => {
  const twelve = files(12);
  const token = approvalToken('docs', twelve);
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal(approvalToken('docs', [...twelve].reverse().concat(twelve[0]!)), token);
  assert.notEqual(approvalToken('docs', files(19)), token);
  assert.notEqual(approvalToken('docs', files(11)), token);
  assert.notEqual(approvalToken('photos', twelve), token, 'a token of one job never approves another');
  // Paths are NUL-separated in the hash: ["a\nb"] and ["a", "b"] are different sets.
  assert.notEqual(approvalToken('docs', ['a\nb']), approvalToken('docs', ['a', 'b']));
  assert.notEqual(approvalToken('docs', []), approvalToken('docs', ['']));
  assert.deepEqual(canonicalDeletes(['b', 'a', 'b']), ['a', 'b']);
});

test('an approved run proceeds only when every delete it would make is in the approved set', () => {
  const approved = pendingApprovalOf('docs', files(12));
  assert.deepEqual(judgeApprovedRun('docs', approved.token, approved, files(12), approvalToken), { kind: 'proceed' });
  assert.deepEqual(judgeApprovedRun('docs', approved.token, approved, files(5), approvalToken), { kind: 'proceed' }, 'fewer deletes (files came back) are still approved ones');
  assert.deepEqual(judgeApprovedRun('docs', approved.token, approved, [], approvalToken), { kind: 'proceed' });
});

test('seven new deletes park the run again and say what changed', () => {
  const approved = pendingApprovalOf('docs', files(12));
  const v = judgeApprovedRun('docs', approved.token, approved, files(19), approvalToken);
  assert.equal(v.kind, 'park');
  if (v.kind !== 'park') return;
  assert.equal(v.reason, 'changed');
  assert.deepEqual(v.added, files(7, 12));
  assert.equal(
    v.message,
    'the deletes changed since the approval: 7 new deletes not in the 12 approved paths (/r/f12.txt, /r/f13.txt, /r/f14.txt, /r/f15.txt, /r/f16.txt, … (2 more)); nothing was deleted, 19 deletes now wait for a new approval',
  );
});

test('a token that is not the stored list\'s (replaced, damaged or from another job) never proceeds', () => {
  const approved = pendingApprovalOf('docs', files(12));
  const newer = pendingApprovalOf('docs', files(13));
  for (const [token, stored] of [
    [approved.token, newer],
    [approved.token, undefined],
    [approved.token, { token: approved.token, deletes: files(19) }],
    [pendingApprovalOf('photos', files(12)).token, approved],
  ] as const) {
    const v = judgeApprovedRun('docs', token, stored, files(3), approvalToken);
    assert.equal(v.kind, 'park');
    if (v.kind === 'park') assert.equal(v.reason, 'stale-token');
  }
});

test('every Queue delete line of a real --dry-run --force is read, in both versions', () => {
  for (const version of ['1.60', '1.75']) {
    const text = readFileSync(join(PROJECT_ROOT, 'test/fixtures/rclone-logs', version, 'too-many-deletes-dry-run.log'), 'utf8');
    const found: string[] = [];
    parseOutput(text, { onMessage: (m) => { const p = queuedDeleteOf(m); if (p !== undefined) found.push(p); } });
    assert.deepEqual(found.map((p) => p.replace(/^.*\/two\//, '')).sort(), ['a.txt', 'b.txt', 'c.txt'], version);
  }
  assert.equal(queuedDeleteOf({ level: 'info', text: '- Path2    Queue copy to Path1                 - /x/a', object: undefined, stats: undefined }), undefined);
});

test('state.json keeps the first paths, the token and the count; older states without a token still load', () => {
  const big = files(STATE_PENDING_CAP + 5);
  assert.equal(statePendingList(big).length, STATE_PENDING_CAP);
  const old = { ...initialJobState(), needsApproval: true, pendingDeletes: ['/r/a'] } as Record<string, unknown>;
  delete old.approvalToken;
  delete old.pendingDeleteCount;
  const parsed = parseJobState(old);
  assert.ok(parsed);
  assert.deepEqual([parsed.approvalToken, parsed.pendingDeleteCount, parsed.needsApproval], ['', 1, true]);
});

test('a safety abort records token and count; a successful run clears them', () => {
  const record = (outcome: RunRecord['outcome']): RunRecord => ({
    runId: 2, job: 'docs', operation: 'bisync', trigger: 'schedule', dryRun: false, startedMs: 1, finishedMs: 2, exitCode: 1, signal: null, outcome,
    message: '', hint: '', counts: { filesTransferred: 0, bytesTransferred: 0, deletes: 0, renames: 0, errors: 0 }, conflicts: [], hashWarnings: 0, errorText: '', tail: [],
  });
  const pending = pendingApprovalOf('docs', files(19));
  const parked = applyRunResult({ ...initialJobState(), resyncDone: true }, record('needs-approval'), { lockout: false, pendingDeletes: pending.deletes, approval: { token: pending.token, count: 19 }, filtersHash: '', pairKey: 'p' });
  assert.deepEqual([parked.needsApproval, parked.approvalToken, parked.pendingDeleteCount], [true, pending.token, 19]);
  const healed = applyRunResult(parked, record('success'), { lockout: false, pendingDeletes: [], filtersHash: '', pairKey: 'p' });
  assert.deepEqual([healed.needsApproval, healed.approvalToken, healed.pendingDeleteCount, healed.pendingDeletes], [false, '', 0, []]);
  const retry = applyRunResult(parked, record('retryable'), { lockout: false, pendingDeletes: [], filtersHash: '', pairKey: 'p' });
  assert.equal(retry.approvalToken, pending.token, 'an unreachable remote does not forget what waits for approval');
});
