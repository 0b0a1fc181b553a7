// The resync guard's pure rules: which version keeps the name, how the loser's copy is named, how rclone check's
// output is read, and how kept versions show up in the run's outcome and record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRun } from '../../src/run/rules/classify.js';
import { emptySummary } from '../../src/rclone/output.js';
import {
  checkComplete,
  chooseWinner,
  conflictName,
  effectiveResyncMode,
  emptyCheckCounts,
  noteCheckMessage,
  parseCheckLine,
  withKeptVersions,
  type KeptVersion,
} from '../../src/run/rules/resync-guard.js';
import { rcloneOnlyFlags } from '../../src/rclone/args.js';
import { selectionFlags } from '../../src/run/resync-guard.js';
import { makeGlobal, makeJob } from '../helpers/job.js';
import { CAPS_160, CAPS_175 } from '../helpers/caps.js';

const T = Date.UTC(2026, 11, 4, 21, 45, 0);
const older = { size: 10, modTimeMs: T - 100_000 };
const newer = { size: 12, modTimeMs: T };

test('the resync mode in force: 1.60 and --resync alone prefer Path1; --compare without what a mode needs falls back like rclone', () => {
  assert.equal(effectiveResyncMode(['bisync', '/a', 'r:b', '--resync', '--resync-mode=newer'], CAPS_160), 'path1');
  assert.equal(effectiveResyncMode(['bisync', '/a', 'r:b', '--resync'], CAPS_175), 'path1');
  assert.equal(effectiveResyncMode(['bisync', '/a', 'r:b', '--resync', '--resync-mode=newer'], CAPS_175), 'newer');
  assert.equal(effectiveResyncMode(['--resync-mode=newer', '--resync-mode=larger'], CAPS_175), 'larger', 'the last value wins, as in rclone');
  assert.equal(effectiveResyncMode(['--resync-mode=newer', '--compare=size,checksum'], CAPS_175), 'path1');
  assert.equal(effectiveResyncMode(['--resync-mode=newer', '--compare=size,modtime'], CAPS_175), 'newer');
  assert.equal(effectiveResyncMode(['--resync-mode=smaller', '--compare=modtime'], CAPS_175), 'path1');
  assert.equal(effectiveResyncMode(['--resync-mode=bogus'], CAPS_175), 'path1');
});

test('the winner follows the mode; a tie goes to Path1; the loser is the other side', () => {
  assert.equal(chooseWinner(older, newer, 'path1').winner, 'path1', '1.60: Path1 wins even over a newer remote edit');
  assert.equal(chooseWinner(newer, older, 'path2').winner, 'path2');
  assert.equal(chooseWinner(older, newer, 'newer').winner, 'path2');
  assert.equal(chooseWinner(newer, older, 'newer').winner, 'path1');
  assert.equal(chooseWinner(older, newer, 'older').winner, 'path1');
  assert.equal(chooseWinner(older, newer, 'larger').winner, 'path2');
  assert.equal(chooseWinner(older, newer, 'smaller').winner, 'path1');
  const tie = chooseWinner({ size: 5, modTimeMs: T }, { size: 6, modTimeMs: T + 999 }, 'newer');
  assert.equal(tie.winner, 'path1', 'within a second is a tie (sftp keeps whole seconds)');
  assert.match(tie.why, /no clear newer version/);
  assert.equal(chooseWinner({ size: 5, modTimeMs: Number.NaN }, newer, 'newer').winner, 'path1', 'no modtime: a tie');
  assert.equal(chooseWinner({ size: 7, modTimeMs: T }, { size: 7, modTimeMs: T }, 'larger').winner, 'path1');
});

test('an empty version never beats a non-empty one, whatever the mode (full-disk leftovers)', () => {
  const empty = { size: 0, modTimeMs: T };
  const good = { size: 100, modTimeMs: T - 1_000_000 };
  for (const mode of ['path1', 'path2', 'newer', 'older', 'larger', 'smaller'] as const) {
    assert.equal(chooseWinner(empty, good, mode).winner, 'path2', mode);
    assert.equal(chooseWinner(good, empty, mode).winner, 'path1', mode);
  }
  assert.equal(chooseWinner(empty, { size: 0, modTimeMs: T + 5000 }, 'newer').winner, 'path2', 'two empty versions: the mode decides');
});

test('conflict names keep the extension last, say which side, and never collide', () => {
  assert.equal(conflictName('report.txt', 'path2', T, new Set()), 'report.rbm-conflict-20261204-214500-remote.txt');
  assert.equal(conflictName('dir/sub/photo.v2.jpg', 'path1', T, new Set()), 'dir/sub/photo.v2.rbm-conflict-20261204-214500-local.jpg');
  assert.equal(conflictName('.bashrc', 'path1', T, new Set()), '.bashrc.rbm-conflict-20261204-214500-local', 'a dot file has no extension');
  assert.equal(conflictName('a.dir/Makefile', 'path2', T, new Set()), 'a.dir/Makefile.rbm-conflict-20261204-214500-remote', 'a dot in a folder name is not an extension');
  assert.equal(conflictName('we ird*.txt', 'path2', T, new Set()), 'we ird*.rbm-conflict-20261204-214500-remote.txt');
  const taken = new Set(['a.rbm-conflict-20261204-214500-remote.txt', 'a.rbm-conflict-20261204-214500-remote-2.txt']);
  assert.equal(conflictName('a.txt', 'path2', T, taken), 'a.rbm-conflict-20261204-214500-remote-3.txt');
  assert.equal(conflictName('a.txt', 'path1', T, taken), 'a.rbm-conflict-20261204-214500-local.txt');
});

test('rclone check output (1.60 and 1.75 print the same): lines and closing counts', () => {
  assert.deepEqual(parseCheckLine('* sub/we ird*.txt'), { kind: '*', path: 'sub/we ird*.txt' });
  assert.deepEqual(parseCheckLine('- only2.txt'), { kind: '-', path: 'only2.txt' });
  assert.deepEqual(parseCheckLine('! broken.bin'), { kind: '!', path: 'broken.bin' });
  assert.equal(parseCheckLine('2026/12/04 21:49:19 ERROR : diff.txt: sizes differ'), undefined);
  const counts = emptyCheckCounts();
  for (const line of [
    '2026/12/04 21:49:39 ERROR : No common hash found - not using a hash for checks',
    '2026/12/04 21:49:19 NOTICE: Local file system at b: 6 differences found',
    '2026/12/04 21:49:19 NOTICE: Local file system at b: 6 errors while checking',
  ]) noteCheckMessage(counts, line);
  assert.deepEqual(counts, { differences: 6, errors: 6, noCommonHash: true });
  assert.equal(checkComplete(1, counts, 0), true, 'exit 1 that only reports the differences it listed');
  assert.equal(checkComplete(0, emptyCheckCounts(), 0), true);
  assert.equal(checkComplete(1, { ...counts, errors: 7 }, 0), false, 'one more error than differences: a listing failed');
  assert.equal(checkComplete(1, counts, 1), false, '`!` lines: a file could not be compared');
  assert.equal(checkComplete(1, emptyCheckCounts(), 0), false, 'exit 1 without differences: the remote is down, or worse');
  assert.equal(checkComplete(3, counts, 0), false);
});

test('the comparison selects the files the resync selects: its filters, the filters file as --filter-from', () => {
  const argv = ['bisync', '/a', 'r:b', '--workdir=/w', '--filter=- *.partial', '--filters-file=/f.txt', '--resync', '--exclude=*.tmp', '--max-size=10M', '--bwlimit=1M', '--ignore-case'];
  assert.deepEqual(selectionFlags(argv), ['--filter=- *.partial', '--filter-from=/f.txt', '--exclude=*.tmp', '--max-size=10M', '--ignore-case']);
});

test('kept versions make a synced resync `conflicts`, listed in the record on both sides; other outcomes keep theirs', () => {
  const kept: KeptVersion[] = [{ path: 'b.txt', winner: 'path1', copy: 'b.rbm-conflict-20261204-214500-remote.txt', why: 'a resync prefers Path1' }];
  const roots = { path1: '/home/u/Sync/docs', path2: 'box:docs' };
  const ok = classifyRun({ code: 0, signal: null }, emptySummary(), { operation: 'resync', dryRun: false, cancelled: false });
  const done = withKeptVersions(ok, emptySummary(), kept, roots, false);
  assert.equal(done.classification.outcome, 'conflicts');
  assert.match(done.classification.message, /1 file differed on both sides, both versions kept: b\.txt \(remote version kept as b\.rbm-conflict-20261204-214500-remote\.txt\)/);
  assert.deepEqual(done.summary.conflicts, [{ path: 'b.txt', copies: ['/home/u/Sync/docs/b.rbm-conflict-20261204-214500-remote.txt', 'box:docs/b.rbm-conflict-20261204-214500-remote.txt'] }]);
  const failed = classifyRun({ code: 7, signal: null }, emptySummary(), { operation: 'resync', dryRun: false, cancelled: false });
  const after = withKeptVersions(failed, emptySummary(), kept, roots, false);
  assert.equal(after.classification.outcome, failed.outcome);
  assert.match(after.classification.message, /before the resync, 1 file differed on both sides; both versions were kept/);
  const dry = classifyRun({ code: 0, signal: null }, emptySummary(), { operation: 'resync', dryRun: true, cancelled: false });
  const preview = withKeptVersions(dry, emptySummary(), kept, roots, true);
  assert.equal(preview.classification.outcome, 'dry-run');
  assert.match(preview.classification.message, /the resync would keep b\.txt/);
  assert.equal(withKeptVersions(ok, emptySummary(), [], roots, false).classification, ok, 'nothing kept: nothing changes');
});

test('the guard\'s own commands never get flags only bisync knows (rclone check exits "unknown flag" on them)', () => {
  const job = makeJob({ rcloneOptions: { compare: 'size,modtime,checksum', create_empty_src_dirs: true, bwlimit: '1M', sftp_set_modtime: false, resilient: true, max_delete: 50, transfers: 2 } });
  assert.deepEqual(rcloneOnlyFlags(job, makeGlobal()), ['--bwlimit=1M', '--max-delete=50', '--transfers=2']);
});
