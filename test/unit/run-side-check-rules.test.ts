// The side check's pure rules: mountinfo parsing (octal escapes), the mounts around a root, rclone listings, the
// decision (lost mount > missing check file > emptied root) and the words the status shows. Plus the state file
// defaults and the plan/state rules of the check-failed outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialJobState, parseJobState } from '../../src/run/rules/job-state.js';
import { formatJob } from '../../src/cli/format.js';
import { applyRunResult } from '../../src/run/rules/plan.js';
import type { JobView } from '../../src/dbus/client.js';
import { jobProperties, jobStatusToDict } from '../../src/dbus/variants.js';
import {
  checkAccessFailureFrom, countListed, decideSideCheck, describeSideCheck, isResidue, listingFiles, localMountsOf, missingMounts, parseMountInfo,
  sideCheckError, sideCheckMessage, unescapeMountPath, type SideFacts,
} from '../../src/run/rules/side-check.js';
import type { RunRecord } from '../../src/run/types.js';
import { createHarness, MINUTE } from '../helpers/scheduler-harness.js';
import { makeJob, makeState } from '../helpers/scheduler-fixtures.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '45 22 0:40 / /home rw,relatime shared:2 - ext4 /dev/sda2 rw',
  '46 45 8:17 / /home/me/Sync/photos/archive rw,relatime shared:3 - ext4 /dev/sdb1 rw',
  '47 45 8:33 / /home/me/Sync/My\\040Drive rw,relatime shared:4 - vfat /dev/sdc1 rw',
  '48 45 8:49 /sub /home/me/Sync2 rw,relatime - ext4 /dev/sdd1 rw',
  '',
].join('\n');

test('mountinfo: mount points are field 5, with \\040 and other octal escapes decoded', () => {
  assert.deepEqual(parseMountInfo(MOUNTINFO), ['/', '/home', '/home/me/Sync/photos/archive', '/home/me/Sync/My Drive', '/home/me/Sync2']);
  assert.equal(unescapeMountPath('/a\\011tab\\012nl\\134back'), '/a\ttab\nnl\\back');
  assert.deepEqual(parseMountInfo('garbage\n\n12 1'), []);
});

test('the mounts around a root: its own mount point and the nested ones (a sibling with a common prefix is not inside)', () => {
  const mounts = parseMountInfo(MOUNTINFO);
  assert.deepEqual(localMountsOf('/home/me/Sync', mounts), { rootMount: '/home', nested: ['/home/me/Sync/My Drive', '/home/me/Sync/photos/archive'] });
  assert.deepEqual(localMountsOf('/home/me/Sync2', mounts), { rootMount: '/home/me/Sync2', nested: [] });
  assert.deepEqual(localMountsOf('/srv/data', mounts), { rootMount: '/', nested: [] });
  const recorded = localMountsOf('/home/me/Sync', mounts);
  const afterUnplug = mounts.filter((m) => m !== '/home/me/Sync/photos/archive');
  assert.deepEqual(missingMounts(recorded, afterUnplug), ['/home/me/Sync/photos/archive']);
  assert.deepEqual(missingMounts(recorded, afterUnplug.filter((m) => m !== '/home')), ['/home', '/home/me/Sync/photos/archive']);
  assert.deepEqual(missingMounts(recorded, mounts), []);
});

test('rclone listings: file lines only (not directories or the header), names unquoted; counts under a folder', () => {
  const text = [
    '# bisync listing v1 from 2026-12-04T21:48:19.273471128+0000',
    '-        0 - - 2026-12-04T21:48:19.164224656+0000 "RCLONE_TEST"',
    '-        2 md5:60b725f10c9c85c70d97880dfe8191b3 - 2026-12-04T21:48:19.164224656+0000 "a \\"quoted\\".txt"',
    'd        0 - - 2026-12-04T21:48:19.164224656+0000 "photos"',
    '-        2 - - 2026-12-04T21:48:19.164224656+0000 "photos/archive/2019.jpg"',
    '-        2 - - 2026-12-04T21:48:19.164224656+0000 "photos/archive-not/x.jpg"',
    '-        2 - - 2026-12-04T21:48:19.164224656+0000 ".directory"',
    '',
  ].join('\n');
  const files = listingFiles(text);
  assert.deepEqual(files, ['RCLONE_TEST', 'a "quoted".txt', 'photos/archive/2019.jpg', 'photos/archive-not/x.jpg', '.directory']);
  assert.equal(countListed(files, ''), 4, 'residue at the root is not counted');
  assert.equal(countListed(files, 'photos/archive'), 1);
});

test('residue: lost+found, .Trash-<uid>, desktop files; not user files', () => {
  for (const name of ['lost+found', '.Trash-1000', '.Trash', '.directory', '.DS_Store', 'System Volume Information', '$RECYCLE.BIN']) assert.ok(isResidue(name), name);
  for (const name of ['RCLONE_TEST', 'photos', '.Trash-x', 'lost+found2', '.bashrc']) assert.ok(!isResidue(name), name);
});

const side = (over: Partial<SideFacts>): SideFacts => ({
  side: 'local', root: '/home/me/Sync', isLocal: true, checkFilePresent: undefined, rootEntries: ['a.txt'], filesLastSeen: 20, filesNow: 20, ...over,
});
const remote = (over: Partial<SideFacts> = {}): SideFacts => ({
  side: 'remote', root: 'box:Sync', isLocal: false, checkFilePresent: undefined, rootEntries: undefined, filesLastSeen: 20, filesNow: -1, ...over,
});

test('decision: all is well → undefined', () => {
  assert.equal(decideSideCheck([side({}), remote()], { missing: [] }, 'RCLONE_TEST'), undefined);
  assert.equal(decideSideCheck([side({ checkFilePresent: true }), remote({ checkFilePresent: true })], { missing: [] }, 'RCLONE_TEST'), undefined);
  // A new or locked-out pair (no listing, or an empty one) is not "emptied": rclone handles those itself.
  assert.equal(decideSideCheck([side({ rootEntries: [], filesLastSeen: -1 }), remote()], { missing: [] }, 'RCLONE_TEST'), undefined);
  assert.equal(decideSideCheck([side({ rootEntries: [], filesLastSeen: 0 }), remote()], { missing: [] }, 'RCLONE_TEST'), undefined);
  // A remote's check of unknown result (unreachable) is not a failure: the bisync reports it.
  assert.equal(decideSideCheck([side({ checkFilePresent: true }), remote({ checkFilePresent: undefined })], { missing: [] }, 'RCLONE_TEST'), undefined);
});

test('decision: an emptied or residue-only local root while the last run saw files', () => {
  const emptied = decideSideCheck([side({ rootEntries: [], filesNow: 0 }), remote()], { missing: [] }, 'RCLONE_TEST');
  assert.deepEqual(emptied, { side: 'local', path: '/home/me/Sync', missing: ['files'], filesLastSeen: 20, filesNow: 0, residue: [] });
  assert.equal(sideCheckMessage(emptied), 'the local side looks unmounted or emptied: /home/me/Sync (no files; last run saw 20 files, now 0); is the drive mounted?');
  const residue = decideSideCheck([side({ rootEntries: ['lost+found', '.directory', '.Trash-1000'] }), remote()], { missing: [] }, 'RCLONE_TEST');
  assert.equal(sideCheckMessage(residue!), 'the local side looks unmounted or emptied: /home/me/Sync (only .Trash-1000, .directory, lost+found left; last run saw 20 files, now 0); is the drive mounted?');
  assert.equal(sideCheckError(residue!), 'side check failed: local /home/me/Sync: missing files (last run saw 20 files, now 0)');
  const gone = decideSideCheck([side({ rootEntries: 'missing' }), remote()], { missing: [] }, 'RCLONE_TEST');
  assert.deepEqual(gone?.missing, ['files']);
  // A local Path2 is checked the same way.
  const path2 = decideSideCheck([side({}), side({ side: 'remote', root: '/mnt/backup', rootEntries: ['lost+found'] })], { missing: [] }, 'RCLONE_TEST');
  assert.equal(path2?.side, 'remote');
  assert.equal(path2?.path, '/mnt/backup');
});

test('decision: a missing check file names the side and path; a lost mount comes first and mentions it too', () => {
  const local = decideSideCheck([side({ checkFilePresent: false, rootEntries: ['stray.txt'], filesLastSeen: 5, filesNow: 1 }), remote({ checkFilePresent: true })], { missing: [] }, 'RCLONE_TEST');
  assert.equal(sideCheckMessage(local!), 'the local side looks unmounted or emptied: /home/me/Sync (RCLONE_TEST is missing; last run saw 5 files, now 1); is the drive mounted?');
  const far = decideSideCheck([side({ checkFilePresent: true }), remote({ checkFilePresent: false })], { missing: [] }, 'CHECK');
  assert.equal(sideCheckMessage(far!), 'the remote side looks unmounted or emptied: box:Sync (CHECK is missing; last run saw 20 files, now unknown); is the remote folder intact?');
  const mount = decideSideCheck([side({ root: '/mnt/d', checkFilePresent: false }), remote({ checkFilePresent: true })], { missing: [{ path: '/mnt/d', filesLastSeen: 5, filesNow: 1 }] }, 'RCLONE_TEST');
  assert.equal(sideCheckMessage(mount!), 'the local side looks unmounted or emptied: /mnt/d (no longer a mount point; RCLONE_TEST is missing; last run saw 5 files, now 1); is the drive mounted?');
  const nested = decideSideCheck([side({})], { missing: [{ path: '/home/me/Sync/photos/archive', filesLastSeen: 3, filesNow: 0 }] }, 'RCLONE_TEST');
  assert.deepEqual(nested, { side: 'local', path: '/home/me/Sync/photos/archive', missing: ['mount'], filesLastSeen: 3, filesNow: 0, residue: [] });
  // A mount that held no file at the last run loses nothing: no reason to wait.
  assert.equal(decideSideCheck([side({})], { missing: [{ path: '/home/me/Sync/empty', filesLastSeen: 0, filesNow: 0 }] }, 'RCLONE_TEST'), undefined);
});

test("rclone's own check-access failure: the side and folder that lack the check file", () => {
  const roots = { local: '/home/me/Sync', remote: 'box:Sync' };
  const f = checkAccessFailureFrom(['Access test failed: Path1 count 2, Path2 count 1 - RCLONE_TEST', '-                   Access test failed: Path1 file not found in Path2 - nested/RCLONE_TEST'], roots);
  assert.deepEqual(f, { side: 'remote', path: 'box:Sync/nested', missing: ['RCLONE_TEST'], filesLastSeen: -1, filesNow: -1, residue: [] });
  const g = checkAccessFailureFrom(['-  Access test failed: Path2 file not found in Path1 - RCLONE_TEST'], roots);
  assert.equal(g.side, 'local');
  assert.equal(g.path, '/home/me/Sync');
  assert.equal(checkAccessFailureFrom([], roots).path, '/home/me/Sync');
});

test('state files written before the side check existed load with no failure and no recorded mounts', () => {
  const old: Record<string, unknown> = { ...initialJobState() };
  delete old.sideCheck;
  delete old.localMounts;
  const parsed = parseJobState(JSON.parse(JSON.stringify(old)));
  assert.equal(parsed?.sideCheck, null);
  assert.equal(parsed?.localMounts, null);
  const withBoth = { ...initialJobState(), lastOutcome: 'check-failed', sideCheck: { side: 'local', path: '/x', missing: ['mount'], filesLastSeen: 3, filesNow: 0, residue: [] }, localMounts: { rootMount: '/', nested: ['/x'] } };
  assert.deepEqual(parseJobState(JSON.parse(JSON.stringify(withBoth))), withBoth);
  assert.equal(parseJobState({ ...withBoth, sideCheck: { side: 'elsewhere' } }), undefined, 'a malformed failure is a corrupt state');
});

function record(outcome: RunRecord['outcome']): RunRecord {
  return {
    runId: 2, job: 'docs', operation: 'bisync', trigger: 'schedule', dryRun: false, startedMs: 1000, finishedMs: 2000, exitCode: null, signal: null,
    outcome, message: 'm', hint: '', counts: { filesTransferred: 0, bytesTransferred: 0, deletes: 0, renames: 0, errors: 0 }, conflicts: [], hashWarnings: 0, errorText: '', tail: [],
  };
}

test('check-failed: no backoff retry, no lockout; any later result clears it; a good run records the mounts', () => {
  const failure = { side: 'local' as const, path: '/x', missing: ['mount'], filesLastSeen: 3, filesNow: 0, residue: [] };
  const facts = { lockout: false, pendingDeletes: [], filtersHash: '', pairKey: 'k' };
  const base = { ...initialJobState(), resyncDone: true, consecutiveFailures: 2, retryAtMs: 5000 };
  const waiting = applyRunResult(base, record('check-failed'), { ...facts, sideCheck: failure });
  assert.deepEqual(waiting.sideCheck, failure);
  assert.equal(waiting.retryAtMs, 0);
  assert.equal(waiting.needsResync, false);
  assert.equal(waiting.needsApproval, false);
  const mounts = { rootMount: '/', nested: ['/x'] };
  const healed = applyRunResult(waiting, record('success'), { ...facts, localMounts: mounts });
  assert.equal(healed.sideCheck, null);
  assert.deepEqual(healed.localMounts, mounts);
  assert.equal(applyRunResult(waiting, record('retryable'), facts).sideCheck, null);
  assert.deepEqual(applyRunResult(waiting, record('failed'), facts).localMounts, null, 'mounts are recorded by good runs only');
});

test('scheduler: a check-failed job shows it, keeps its schedule (each slot checks again), no retry; a passing run clears it', async () => {
  const failure = { side: 'local' as const, path: '/x', missing: ['mount'], filesLastSeen: 3, filesNow: 0, residue: [] };
  const h = createHarness({ startMs: T0, jobs: [makeJob('c', { schedule: '*/5 * * * *' })], states: { c: { sideCheck: failure, lastOutcome: 'check-failed' } } });
  assert.equal(h.scheduler.info('c')!.activity, 'check-failed');
  assert.equal(h.scheduler.info('c')!.nextRunMs, T0 + 5 * MINUTE, 'still scheduled');
  await h.advance(5 * MINUTE);
  assert.equal(h.runs.length, 1);
  assert.equal(h.runs[0]!.request.trigger, 'schedule');
  await h.runs[0]!.finish({ outcome: 'check-failed' });
  assert.equal(h.scheduler.info('c')!.activity, 'check-failed');
  await h.advance(4 * MINUTE);
  assert.equal(h.runs.length, 1, 'no retry in between: the next slot checks again');
  await h.advance(MINUTE);
  assert.equal(h.runs.length, 2);
  h.states.set('c', makeState({ sideCheck: null, lastOutcome: 'success' }));
  await h.runs[1]!.finish({ outcome: 'success' });
  assert.equal(h.scheduler.info('c')!.activity, 'idle');
});

test('rbmctl status: a check-failed job is called out with the path from its last message', () => {
  const message = 'the local side looks unmounted or emptied: /home/u/photos/archive (no longer a mount point; last run saw 3 files, now 0); is the drive mounted?';
  const view: JobView = {
    name: 'photos', path: '/io/github/rbmanager/RcloneBisyncManager1/job/photos', state: 'check-failed', paused: false, local: '/home/u/photos',
    remote: 'box:photos', schedule: '*/5 * * * *', active: true, dry_run: false, last_result: 'check-failed', last_message: message,
    last_error: 'side check failed: local /home/u/photos/archive: missing mount (last run saw 3 files, now 0)', last_run_id: 7n, last_run_usec: 0n,
    last_finished_usec: 0n, next_run_usec: 0n, current_run_id: 0n, needs_resync: false, needs_approval: false, hash_warning: false, cpu_limit_applied: true,
  };
  const text = formatJob(view, 0);
  assert.match(text, /^state: +check-failed$/m);
  assert.ok(text.includes(`message:     ${message}`), text);
  assert.ok(text.includes(`photos: waits, nothing touched (it syncs by itself once the check passes): ${message}`), text);
});

test('D-Bus: the job object and Status() carry the state, the reason and the path', () => {
  const failure = { side: 'local' as const, path: '/home/u/photos/archive', missing: ['mount'], filesLastSeen: 3, filesNow: 0, residue: [] };
  const words = describeSideCheck(failure, 'photos');
  const state = makeState({ lastOutcome: 'check-failed', lastMessage: words.message, lastError: words.errorText, sideCheck: failure });
  const status = { name: 'photos', config: makeJob('photos'), activity: 'check-failed' as const, paused: false, state, nextRunMs: T0, currentRunId: 0, progress: undefined, cpuLimitNotApplied: false, health: 'attention' as const, healthReason: 'x', snoozedUntilMs: 0, waiting: '' };
  const props = jobProperties(status);
  assert.equal(props.State, 'check-failed');
  assert.equal(props.LastResult, 'check-failed');
  assert.equal(props.LastError, 'side check failed: local /home/u/photos/archive: missing mount (last run saw 3 files, now 0)');
  assert.ok(props.NextRunUsec > 0n, 'still scheduled');
  const dict = jobStatusToDict(status);
  assert.equal(dict.last_message?.value, words.message);
  assert.match(words.hint, /rbmctl sync photos --resync/);
});
