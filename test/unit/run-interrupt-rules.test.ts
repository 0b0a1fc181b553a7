// Issue 13, the pure parts: which copies a run started (from REAL 1.60/1.75 output), "no space left" and the side it
// hit, a graceful stop that rclone finished, listing lines as 1.60 writes them, and the leftover rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRun } from '../../src/run/rules/classify.js';
import {
  formatEntry,
  formatListing,
  isPartialOf,
  isTruncatedCopy,
  listingTime,
  parseListing,
  reconcileIdenticalFiles,
  relativeToRoot,
  type FileFacts,
} from '../../src/run/rules/interrupt-rules.js';
import { parseOutput, type CopyBatch } from '../../src/rclone/output.js';
import { interruptedRecord, journalBatch } from '../../src/run/interrupted-runs.js';
import { loadLog, type LogVersion } from '../helpers/rclone-logs.js';

const VERSIONS: LogVersion[] = ['1.60', '1.75'];
const PATHS = { local: '<TMP>/no-space/a', remote: 'box:share' };

for (const v of VERSIONS) {
  test(`${v}: the copies rclone starts are announced per destination side, as full paths`, () => {
    const batches: CopyBatch[] = [];
    parseOutput(loadLog(v, 'killed').text, { onCopyBatch: (b) => batches.push(b) });
    assert.deepEqual(batches, [{ to: 'Path2', paths: ['f1.txt', 'f2.txt', 'f3.txt', 'large1.bin'].map((f) => `<TMP>/killed/b/${f}`), overflow: false }]);
    assert.deepEqual(journalBatch({ local: '<TMP>/killed/a', path2: '<TMP>/killed/b' }, batches[0]!), { to: 'Path2', paths: ['f1.txt', 'f2.txt', 'f3.txt', 'large1.bin'], overflow: false });
  });

  test(`${v}: a full LOCAL disk is "no space left on LOCAL (path)", not a lockout`, () => {
    const log = loadLog(v, 'no-space');
    const summary = parseOutput(log.text);
    assert.equal(summary.noSpace?.side, 'Path1', 'the copies under way went to Path1');
    assert.match(summary.noSpace?.text ?? '', /big5\.bin: Failed to copy: preallocate: file too big for remaining disk space/);
    assert.equal(summary.mustResync, true, 'rclone itself asks for a resync');
    const c = classifyRun(log.exit, summary, { operation: 'bisync', dryRun: false, cancelled: false, paths: PATHS });
    assert.equal(c.outcome, 'failed');
    assert.match(c.message, /^no space left on LOCAL \(<TMP>\/no-space\/a\)/);
    assert.match(c.hint, /^Free space on LOCAL \(<TMP>\/no-space\/a\), then run rbmctl sync JOB/);
    assert.equal(c.lockout, false);
    assert.equal(c.followUp, 'none');
  });
}

test('no space on the remote names REMOTE and its path', () => {
  const summary = parseOutput(
    [
      '{"level":"info","msg":"- Path1    Queue copy to Path2                 - box:share/big.bin","source":"bisync/deltas.go:194","time":"2026-12-04T21:47:51Z"}',
      '{"level":"info","msg":"- Path1    Do queued copies to                 - Path2","source":"bisync/deltas.go:265","time":"2026-12-04T21:47:51Z"}',
      '{"level":"error","msg":"Failed to copy: Update ReadFrom failed: sftp: \\"no space left on device\\" (SSH_FX_FAILURE)","object":"big.bin","source":"x","time":"2026-12-04T21:47:52Z"}',
    ].join('\n'),
  );
  const c = classifyRun({ code: 2, signal: null }, summary, { operation: 'bisync', dryRun: false, cancelled: false, paths: PATHS });
  assert.match(c.message, /^no space left on REMOTE \(box:share\)/);
});

test('1.75: a stop that rclone wrapped up with `Bisync successful` is recorded as what it did, with a note', () => {
  const log = loadLog('1.75', 'interrupted');
  const c = classifyRun(log.exit, parseOutput(log.text), { operation: 'bisync', dryRun: false, cancelled: true });
  assert.equal(c.outcome, 'success');
  assert.match(c.message, /^sync complete: 1 file copied, 0 files deleted \(a stop was requested: rclone wrapped up cleanly/);
});

test('1.60: a killed run (SIGKILL) is cancelled when we stopped it, retryable when someone else killed it', () => {
  const log = loadLog('1.60', 'killed');
  const summary = parseOutput(log.text);
  assert.equal(classifyRun(log.exit, summary, { operation: 'bisync', dryRun: false, cancelled: true }).outcome, 'cancelled');
  assert.equal(classifyRun(log.exit, summary, { operation: 'bisync', dryRun: false, cancelled: false }).outcome, 'retryable');
});

const LISTING_160 = [
  '# bisync listing v1 from 2026-12-04T21:47:51.315677505+0000',
  '-        2 md5:401b30e3b8b5d629635a5c613cdb7919 - 2026-12-04T21:47:51.228079108+0000 "RCLONE_TEST"',
  '-        3 md5:764efa883dda1e11db47671c4a3bbd9e - 2026-12-04T21:47:51.228079108+0000 "small.txt"',
  '',
].join('\n');

test('a 1.60 listing reads and writes back byte for byte', () => {
  const listing = parseListing(LISTING_160);
  assert.equal(listing.entries.get('small.txt')?.hash, 'md5:764efa883dda1e11db47671c4a3bbd9e');
  assert.equal(listing.entries.get('small.txt')?.time, '2026-12-04T21:47:51.228079108+0000');
  assert.equal(formatListing(listing), LISTING_160);
  assert.equal(formatEntry('a "b"\\c.txt', { size: 12345678, hash: '-', time: 't' }), '- 12345678 - - t "a \\"b\\"\\\\c.txt"');
  assert.equal(formatEntry('bell\u0007', { size: 1, hash: '-', time: 't' }), undefined, 'names Go might quote differently are not written');
});

test('lsjson times become the listing format in UTC with nine fraction digits', () => {
  assert.equal(listingTime('2026-12-04T21:47:51.228079108Z'), '2026-12-04T21:47:51.228079108+0000');
  assert.equal(listingTime('2026-12-04T22:47:51.2280791+01:00'), '2026-12-04T21:47:51.228079100+0000');
  assert.equal(listingTime('2026-12-04T21:47:51Z'), '2026-12-04T21:47:51.000000000+0000');
  assert.equal(listingTime('yesterday'), undefined);
});

test('only files identical on both sides get their listing entries updated; deletes and real edits stay visible', () => {
  const path1 = parseListing(LISTING_160);
  const path2 = parseListing(LISTING_160);
  const f = (size: number, md5: string, time = '2026-12-04T22:00:00.000000000+0000'): FileFacts => ({ size, hash: `md5:${md5}`, time });
  const now1 = new Map([
    ['small.txt', f(3, 'aa')], // edited on one side only: differs from the other side
    ['copied.txt', f(5, 'bb')], // copied completely by the interrupted run: identical on both sides
    ['gone.txt', f(4, 'cc')], // deleted on Path2
    ['other.txt', f(6, 'dd')], // identical, but not one of the run's copies
  ]);
  const now2 = new Map([
    ['small.txt', f(3, '764efa883dda1e11db47671c4a3bbd9e', '2026-12-04T21:47:51.228079108+0000')],
    ['copied.txt', f(5, 'bb')],
    ['other.txt', f(6, 'dd')],
  ]);
  const changed = reconcileIdenticalFiles({ path1, path2, now1, now2, candidates: new Set(['small.txt', 'copied.txt', 'gone.txt']) });
  assert.deepEqual(changed, ['copied.txt']);
  assert.match(formatListing(path1), /\n- {8}5 md5:bb - 2026-12-04T22:00:00\.000000000\+0000 "copied\.txt"\n/);
  assert.equal(path1.entries.get('small.txt')?.hash, 'md5:764efa883dda1e11db47671c4a3bbd9e', 'an edit stays an edit');
  assert.equal(path2.entries.has('gone.txt'), false);
  assert.equal(path1.entries.has('other.txt'), false);
  assert.deepEqual(reconcileIdenticalFiles({ path1, path2, now1, now2, candidates: undefined }), ['other.txt']);
  assert.deepEqual(reconcileIdenticalFiles({ path1, path2, now1, now2, candidates: undefined }), [], 'idempotent');
});

test('a truncated copy is shorter than its source, written since the run started, and not the listed old version', () => {
  const base = { src: { size: 100 }, listed: undefined, runStartedMs: 10_000, prefixMatches: undefined };
  assert.equal(isTruncatedCopy({ ...base, dst: { size: 40, mtimeMs: 10_500 } }), true);
  assert.equal(isTruncatedCopy({ ...base, dst: { size: 0, mtimeMs: 10_500 } }), true, "1.60's 0-byte stubs on a full disk");
  assert.equal(isTruncatedCopy({ ...base, dst: { size: 40, mtimeMs: 10_500 }, prefixMatches: false }), false, 'other content: a user file');
  assert.equal(isTruncatedCopy({ ...base, dst: { size: 100, mtimeMs: 10_500 } }), false, 'complete');
  assert.equal(isTruncatedCopy({ ...base, dst: { size: 40, mtimeMs: 2_000 } }), false, 'older than the run');
  assert.equal(isTruncatedCopy({ ...base, dst: { size: 40, mtimeMs: 10_500 }, listed: { size: 40, hash: '-', time: 't' } }), false, 'the untouched old version');
  assert.equal(isTruncatedCopy({ ...base, dst: undefined }), false);
  assert.equal(isTruncatedCopy({ ...base, src: undefined, dst: { size: 40, mtimeMs: 10_500 } }), false, 'no source: nothing to copy again');
});

test('rclone temp names and paths relative to the roots', () => {
  assert.equal(isPartialOf('dir/big.bin.9a992a14.partial', 'dir/big.bin'), true);
  assert.equal(isPartialOf('dir/big.bin.partial', 'dir/big.bin'), false);
  assert.equal(isPartialOf('dir/big.bin.x.9a992a14.partial', 'dir/big.bin'), false);
  assert.equal(relativeToRoot('/a/b', '/a/b/c/d.txt'), 'c/d.txt');
  assert.equal(relativeToRoot('/a/b/', '/a/b/c'), 'c');
  assert.equal(relativeToRoot('box:', 'box:c'), 'c');
  assert.equal(relativeToRoot('box:share', 'box:share/c'), 'c');
  assert.equal(relativeToRoot('/a/b', '/a/bc/d'), undefined);
});

test('the record of a run a killed service cut short', () => {
  const r = interruptedRecord({ version: 1, runId: 9, operation: 'bisync', trigger: 'schedule', startedMs: 1000, rcloneVersion: '1.60.1', batches: [{ to: 'Path2', paths: ['a', 'b'], overflow: false }] }, 'docs', 5000);
  assert.equal(r.outcome, 'cancelled');
  assert.equal(r.message, 'interrupted: the service stopped while this run was in progress (2 files were queued for copying)');
  assert.deepEqual([r.runId, r.startedMs, r.finishedMs, r.trigger], [9, 1000, 5000, 'schedule']);
});
