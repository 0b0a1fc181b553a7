// Overwrites in approvals (src/run/rules/preview.ts, approval.ts, state/approval-token.ts): a real preview of an
// "all files were changed" abort lists the copies that replace a file on the other side, in both versions; the token
// covers deletes and overwrites with their direction; an approved run proceeds only when both are covered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { approvalToken, pendingApprovalOf } from '../../src/state/approval-token.js';
import { approvedNote, canonicalOverwrites, judgeApprovedRun, type PendingOverwrite } from '../../src/run/rules/approval.js';
import { createPreviewReader } from '../../src/run/rules/preview.js';
import { initialJobState, parseJobState } from '../../src/run/rules/job-state.js';
import { applyRunResult } from '../../src/run/rules/plan.js';
import { parseOutput } from '../../src/rclone/output.js';
import { classifyRun } from '../../src/run/rules/classify.js';
import { loadLog } from '../helpers/rclone-logs.js';
import type { RunRecord } from '../../src/run/types.js';
import { PROJECT_ROOT } from '../../src/version.js';

const ROOT = '<TMP>/all-files-changed-dry-run';
const to2 = (rel: string): PendingOverwrite => ({ to: 'Path2', path: `${ROOT}/two/${rel}` });
const to1 = (rel: string): PendingOverwrite => ({ to: 'Path1', path: `${ROOT}/one/${rel}` });

function readPreview(version: string, roots = { path1: `${ROOT}/one`, path2: `${ROOT}/two` }) {
  const text = readFileSync(join(PROJECT_ROOT, 'test/fixtures/rclone-logs', version, 'all-files-changed-dry-run.log'), 'utf8');
  const reader = createPreviewReader(roots);
  parseOutput(text, { onMessage: (m) => reader.read(m) });
  return reader.result();
}

test('a real preview of "all files were changed": every copy over an existing file is an overwrite, and so are a conflict\'s copies; new files and restores are not (1.60 and 1.75)', () => {
  const expected = ['f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt', 'f6.txt', 'f7.txt', 'f8.txt', 'sub/s.txt'].map(to2);
  for (const version of ['1.60', '1.75']) {
    const preview = readPreview(version);
    const conflictCopies = preview.overwrites.filter((o) => /\/f9\.[^/]+$/.test(o.path) && !o.path.endsWith('/f9.txt'));
    assert.equal(conflictCopies.length, 2, `${version}: f9's two conflict copies are listed`);
    const others = preview.overwrites.filter((o) => !conflictCopies.includes(o));
    assert.deepEqual(canonicalOverwrites(others), canonicalOverwrites(expected), version);
    assert.deepEqual(preview.deletes, [], version);
    // f10.txt (deleted on Path2: restored), new.txt (new on Path1), f9's two conflict copies: 13 copies in all.
    assert.equal(preview.copies, 13, version);
  }
});

test('when in doubt a copy is an overwrite: roots that do not match, or nothing said about the file', () => {
  for (const version of ['1.60', '1.75']) {
    // The Synching line names the printed roots, so a differently spelled configured root still matches.
    assert.equal(readPreview(version, { path1: '/elsewhere/one', path2: '/elsewhere/two' }).overwrites.length, 11, version);
  }
  const reader = createPreviewReader({ path1: '/a', path2: 'box:share' });
  const line = (text: string) => reader.read({ level: 'info', text, object: undefined, stats: undefined });
  line('- Path1    File is new                         - n.txt');
  line('- Path2    File was deleted                    - gone.txt');
  line('- Path1    Queue copy to Path2                 - box:share/n.txt');
  line('- Path1    Queue copy to Path2                 - box:share/gone.txt');
  line('- Path1    Queue copy to Path2                 - box:share/known.txt');
  line('- Path1    Queue copy to Path2                 - other:place/n.txt');
  line('- Path2    Queue copy to Path1                 - /a/n2.txt');
  line('- Path2    File is new                         - both.txt');
  line('- Path1    File is new                         - both.txt');
  line('- Path1    Queue copy to Path2                 - box:share/both.txt');
  line('- Path1    Queue delete                        - box:share/old.txt');
  const r = reader.result();
  assert.deepEqual(r.overwrites, [
    { to: 'Path2', path: 'box:share/known.txt' },
    { to: 'Path2', path: 'other:place/n.txt' },
    { to: 'Path1', path: '/a/n2.txt' },
    { to: 'Path2', path: 'box:share/both.txt' },
  ]);
  assert.deepEqual([r.deletes, r.copies], [['box:share/old.txt'], 6]);
});

test('a path the log cannot carry exactly (a newline, trailing blanks) makes the preview unreadable, never a shorter name', () => {
  const reader = createPreviewReader({ path1: '/a', path2: '/b' });
  const line = (text: string) => reader.read({ level: 'info', text, object: undefined, stats: undefined });
  line('- Path1    Queue delete                        - /b/x\nevil');
  line('- Path1    Queue copy to Path2                 - /b/a.txt  ');
  line('- Path1    Queue delete                        - /b/plain.txt');
  const r = reader.result();
  assert.equal(r.unreadable, 2);
  for (const version of ['1.60', '1.75']) assert.equal(readPreview(version).unreadable, 0, `${version}: a real preview is readable`);
});

test('a conflict\'s copies and files named like them are all listed: a name cannot tell a new copy from an existing file', () => {
  const reader = createPreviewReader({ path1: '/a', path2: '/b' });
  const line = (text: string) => reader.read({ level: 'info', text, object: undefined, stats: undefined });
  line('- WARNING  New or changed in both paths        - report.txt');
  line('- Path1    Queue copy to Path2                 - /b/report.txt..path1');
  line('- Path1    Queue copy to Path2                 - /b/report.txt.conflict1');
  line('- Path1    Queue copy to Path2                 - /b/report.txt.bak');
  assert.deepEqual(reader.result().overwrites.map((o) => o.path), ['/b/report.txt..path1', '/b/report.txt.conflict1', '/b/report.txt.bak']);
});

test('the token covers deletes and overwrites with their direction; a deletes-only list keeps its earlier token', () => {
  const deletes = ['/r/a', '/r/b'];
  const overwrites = [to2('f1.txt'), to2('f2.txt')];
  const token = approvalToken('docs', deletes, overwrites);
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal(approvalToken('docs', [...deletes].reverse(), [...overwrites].reverse().concat(overwrites[0]!)), token, 'order and duplicates do not matter');
  assert.notEqual(approvalToken('docs', deletes, overwrites.slice(1)), token, 'one overwrite fewer is another list');
  assert.notEqual(approvalToken('docs', deletes, [to2('f1.txt'), { to: 'Path1', path: to2('f2.txt').path }]), token, 'the direction counts');
  assert.notEqual(approvalToken('docs', deletes), token);
  assert.notEqual(approvalToken('photos', deletes, overwrites), token);
  // An overwrite can never pass for a delete, nor the other way round.
  assert.notEqual(approvalToken('docs', [], [{ to: 'Path2', path: '/r/a' }]), approvalToken('docs', ['/r/a']));
  assert.notEqual(approvalToken('docs', ['Path2', '/r/a'], []), approvalToken('docs', [], [{ to: 'Path2', path: '/r/a' }]));
  assert.equal(approvalToken('docs', deletes, []), approvalToken('docs', deletes), 'lists stored before overwrites stay valid');
  assert.deepEqual(pendingApprovalOf('docs', deletes), { token: approvalToken('docs', deletes), deletes });
});

test('an approved run proceeds only when every overwrite it would make was approved, in the same direction', () => {
  const approved = pendingApprovalOf('docs', [], ['f1.txt', 'f2.txt', 'f3.txt'].map(to2));
  assert.deepEqual(judgeApprovedRun('docs', approved.token, approved, [], approvalToken, ['f1.txt', 'f2.txt', 'f3.txt'].map(to2)), { kind: 'proceed' });
  assert.deepEqual(judgeApprovedRun('docs', approved.token, approved, [], approvalToken, [to2('f1.txt')]), { kind: 'proceed' }, 'fewer overwrites are still approved ones');
  const more = judgeApprovedRun('docs', approved.token, approved, [], approvalToken, ['f1.txt', 'f2.txt', 'f3.txt', 'f4.txt'].map(to2));
  assert.equal(more.kind, 'park');
  if (more.kind === 'park') {
    assert.deepEqual([more.reason, more.added, more.addedOverwrites], ['changed', [], [to2('f4.txt')]]);
    assert.equal(
      more.message,
      `the changes differ from the approval: 0 new deletes and 1 new overwrite not in the 3 approved changes (to Path2: ${ROOT}/two/f4.txt); nothing was deleted or overwritten, 0 deletes and 4 overwrites now wait for a new approval`,
    );
  }
  const reversed = judgeApprovedRun('docs', approved.token, approved, [], approvalToken, [{ to: 'Path1', path: to2('f1.txt').path }]);
  assert.equal(reversed.kind, 'park', 'the same path the other way round was never approved');
  const asDelete = judgeApprovedRun('docs', approved.token, approved, [to2('f1.txt').path], approvalToken, []);
  assert.equal(asDelete.kind, 'park', 'an approved overwrite does not approve a delete of that file');
  // A list whose overwrites were tampered with no longer matches its token.
  const damaged = { ...approved, overwrites: [...(approved.overwrites ?? []), to2('f9.txt')] };
  const stale = judgeApprovedRun('docs', approved.token, damaged, [], approvalToken, [to2('f9.txt')]);
  assert.equal(stale.kind === 'park' ? stale.reason : stale.kind, 'stale-token');
  // A deletes-only approval (stored before overwrites were listed) approves no overwrite.
  const old = pendingApprovalOf('docs', ['/r/a']);
  assert.equal(judgeApprovedRun('docs', old.token, old, ['/r/a'], approvalToken, [to1('x')]).kind, 'park');
  assert.deepEqual([approvedNote(19, 0), approvedNote(1, 11), approvedNote(0, 1)], ['approved (19 deletes)', 'approved (1 delete, 11 overwrites)', 'approved (0 deletes, 1 overwrite)']);
});

test('state.json keeps the overwrites (capped, with their full count) while the job waits, and forgets them once it is healthy', () => {
  const record = (outcome: RunRecord['outcome']) => ({ outcome, dryRun: false, runId: 3, startedMs: 1, finishedMs: 2, message: '', errorText: '', hashWarnings: 0, operation: 'bisync' }) as unknown as RunRecord;
  const pending = pendingApprovalOf('docs', [], ['a', 'b'].map(to2));
  const parked = applyRunResult({ ...initialJobState(), resyncDone: true }, record('needs-approval'), { lockout: false, pendingDeletes: [], pendingOverwrites: pending.overwrites ?? [], approval: { token: pending.token, count: 0, overwriteCount: 2500 }, filtersHash: '', pairKey: 'p' });
  assert.deepEqual([parked.needsApproval, parked.approvalToken, parked.pendingOverwrites, parked.pendingOverwriteCount], [true, pending.token, pending.overwrites, 2500]);
  assert.deepEqual(parseJobState(JSON.parse(JSON.stringify(parked))), parked, 'written and read back');
  const older = JSON.parse(JSON.stringify(initialJobState())) as Record<string, unknown>;
  delete older.pendingOverwrites;
  delete older.pendingOverwriteCount;
  assert.deepEqual([parseJobState(older)?.pendingOverwrites, parseJobState(older)?.pendingOverwriteCount], [[], 0], 'a state written before overwrites were listed');
  assert.equal(parseJobState({ ...older, pendingOverwrites: [{ to: 'Path3', path: 'x' }] }), undefined);
  const healed = applyRunResult(parked, record('success'), { lockout: false, pendingDeletes: [], filtersHash: '', pairKey: 'p' });
  assert.deepEqual([healed.pendingOverwrites, healed.pendingOverwriteCount], [[], 0]);
});

test('an "all files were changed" abort says nothing was deleted or overwritten and asks to review the overwrites; "too many deletes" keeps its words', () => {
  for (const version of ['1.60', '1.75'] as const) {
    const changed = loadLog(version, 'all-files-changed');
    const c = classifyRun(changed.exit, parseOutput(changed.text), { operation: 'bisync', dryRun: false, cancelled: false });
    assert.equal(c.outcome, 'needs-approval', version);
    assert.match(c.message, /^safety abort \(all files were changed\): nothing was deleted or overwritten/, version);
    assert.match(c.hint, /^Review the pending overwrites and deletes and approve exactly that list with: rbmctl approve JOB/, version);
    const deletes = loadLog(version, 'too-many-deletes');
    const d = classifyRun(deletes.exit, parseOutput(deletes.text), { operation: 'bisync', dryRun: false, cancelled: false });
    assert.match(d.message, /^safety abort \(too many deletes\): nothing was deleted —/, version);
  }
});
