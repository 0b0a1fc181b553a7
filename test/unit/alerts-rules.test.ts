// The pure alert rules (src/alerts): what is announced, in which words, with which urgency and actions; one
// notification per job and problem; the level and snooze filter; the burst summary; the replaces bookkeeping.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actionPairs, detailsArgv, invokedAction } from '../../src/alerts/actions.js';
import { createBurstGate, latestHeld, summaryEvent } from '../../src/alerts/burst.js';
import { conflictsEvent, eventText, firstPaths, problemEvent, recoveryEvent } from '../../src/alerts/events.js';
import { isSnoozed, wantedAtLevel } from '../../src/alerts/filter.js';
import { createNotificationIds } from '../../src/alerts/replaces.js';
import { createAlertTracker } from '../../src/alerts/tracker.js';
import { DEFAULT_DETAILS_COMMAND } from '../../src/config/parse.js';
import { alertStatus, approvalStatus } from '../helpers/alert-status.js';

test('an approval names the job, the count and the first paths; critical, Review… as its only action', () => {
  const event = problemEvent(approvalStatus('docs', 12))!;
  assert.equal(event.kind, 'attention');
  assert.equal(event.summary, 'docs: approve 12 changes?');
  assert.match(event.body, /before deleting 12 files: \/remote\/docs\/f1\.txt, \/remote\/docs\/f2\.txt, \/remote\/docs\/f3\.txt and 9 more\. Nothing was deleted\./);
  assert.equal(event.hint, 'rbmctl approve docs');
  assert.deepEqual([event.urgency, event.icon, event.category], [2, 'dialog-error', 'transfer.error']);
  assert.deepEqual(event.actions, ['review']);
  assert.equal(event.runId, 7);
});

test('overwrites waiting for approval are named too', () => {
  const event = problemEvent(approvalStatus('docs', 0, { state: { pendingOverwriteCount: 2, pendingOverwrites: [{ to: 'Path2', path: '/r/a' }, { to: 'Path1', path: '/l/b' }] } }))!;
  assert.equal(event.summary, 'docs: approve 2 changes?');
  assert.match(event.body, /before overwriting 2 files: \/r\/a, \/l\/b\./);
});

test('a failed side check says "drive not mounted?" and offers Sync now; a resync does not', () => {
  const check = problemEvent(alertStatus('usb', { health: 'attention', reason: 'the local side looks unmounted', state: { sideCheck: { side: 'local', path: '/mnt/usb', missing: ['files'], filesLastSeen: 10, filesNow: 0, residue: [] } } }))!;
  assert.equal(check.summary, 'usb: safety check failed: drive not mounted?');
  assert.equal(check.body, 'the local side looks unmounted');
  assert.deepEqual(check.actions, ['details', 'sync']);
  const resync = problemEvent(alertStatus('docs', { health: 'attention', reason: 'needs a resync', state: { needsResync: true } }))!;
  assert.equal(resync.summary, 'docs: needs a resync');
  assert.equal(resync.hint, 'rbmctl sync docs --resync');
  assert.deepEqual(resync.actions, ['details']);
});

test('failing and stale are normal urgency with Sync now; ok is no event', () => {
  const failing = problemEvent(alertStatus('docs', { health: 'failing', reason: 'failed 3 times in a row: x' }))!;
  assert.deepEqual([failing.kind, failing.urgency, failing.summary, failing.body], ['failing', 1, 'docs: sync failing', 'failed 3 times in a row: x']);
  assert.deepEqual(failing.actions, ['details', 'sync']);
  const stale = problemEvent(alertStatus('docs', { health: 'stale', reason: 'no successful sync for 3 d' }))!;
  assert.deepEqual([stale.kind, stale.urgency, stale.category], ['stale', 1, 'transfer.error']);
  assert.equal(problemEvent(alertStatus('docs')), undefined);
  const ok = recoveryEvent(alertStatus('docs'));
  assert.deepEqual([ok.kind, ok.urgency, ok.category, ok.summary, ok.slot], ['ok', 0, 'transfer.complete', 'docs: healthy again', 'health']);
});

test('a run with conflicts is one low-urgency event with the count; a dry run or none is nothing', () => {
  const conflicts = [{ path: 'a.txt', copies: [] }, { path: 'b.txt', copies: [] }];
  const event = conflictsEvent({ job: 'docs', runId: 9, dryRun: false, conflicts })!;
  assert.deepEqual([event.kind, event.slot, event.urgency, event.runId, event.summary], ['conflicts', 'conflicts', 0, 9, 'docs: 2 conflicts']);
  assert.match(event.body, /a\.txt, b\.txt$/);
  assert.equal(conflictsEvent({ job: 'docs', runId: 9, dryRun: true, conflicts }), undefined);
  assert.equal(conflictsEvent({ job: 'docs', runId: 9, dryRun: false, conflicts: [] }), undefined);
  assert.equal(firstPaths(['a', 'b'], 2), 'a, b');
});

test('the tracker announces a problem once, a changed problem again, and a recovery only after an announced problem', () => {
  const tracker = createAlertTracker();
  assert.equal(tracker.observe(alertStatus('docs')), undefined, 'an ordinary success is never announced');
  assert.equal(tracker.observe(approvalStatus('docs', 12))?.kind, 'attention');
  tracker.markAnnounced('docs');
  assert.equal(tracker.observe(approvalStatus('docs', 19)), undefined, 'the same problem again does not re-notify');
  assert.equal(tracker.observe(alertStatus('docs', { health: 'failing', reason: 'x' }))?.kind, 'failing', 'another problem replaces it');
  tracker.markAnnounced('docs');
  const recovered = tracker.observe(alertStatus('docs', { state: { lastOutcome: 'success', lastSuccessMs: 5000 } }));
  assert.deepEqual([recovered?.kind, recovered?.summary, recovered?.quiet], ['ok', 'docs: healthy again', undefined]);
  assert.equal(tracker.observe(alertStatus('docs')), undefined);

  assert.equal(tracker.observe(alertStatus('photos', { health: 'stale', reason: 'x' }))?.kind, 'stale');
  const unseen = tracker.observe(alertStatus('photos', { state: { lastOutcome: 'success', lastSuccessMs: 5000 } }));
  assert.deepEqual([unseen?.summary, unseen?.quiet], ['photos: healthy again', 'its problem was not announced'], 'never announced (snoozed or level none): "healthy again" only for the log');
  tracker.observe(alertStatus('photos', { health: 'stale', reason: 'x' }));
  tracker.markAnnounced('photos');
  tracker.forget('photos');
  assert.equal(tracker.observe(alertStatus('photos')), undefined, 'a removed job starts afresh');
});

test('"healthy again" only after a real sync since the problem: pausing, a reload, a failed run after a failed check are no recovery', () => {
  const tracker = createAlertTracker();
  const failing = { health: 'failing' as const, reason: 'failed 3 times in a row: x', state: { lastOutcome: 'failed' as const, lastSuccessMs: 1000, consecutiveFailures: 3 } };
  // Paused (or inactive, or failures_before_alert raised by a reload): health turns ok, nothing synced.
  tracker.observe(alertStatus('docs', failing));
  tracker.markAnnounced('docs');
  const paused = tracker.observe(alertStatus('docs', { state: failing.state }));
  assert.deepEqual([paused?.kind, paused?.summary, paused?.quiet], ['ok', 'docs: no longer flagged', 'no sync succeeded since the problem']);
  assert.match(paused!.body, /^No sync succeeded since the problem/);
  // A failed check, then a failed run (sideCheck cleared, one failure below the threshold).
  const check = { health: 'attention' as const, reason: 'the local side looks unmounted', state: { lastOutcome: 'check-failed' as const, lastSuccessMs: 1000, sideCheck: { side: 'local' as const, path: '/mnt/usb', missing: ['files'], filesLastSeen: 10, filesNow: 0, residue: [] } } };
  tracker.observe(alertStatus('usb', check));
  tracker.markAnnounced('usb');
  assert.equal(tracker.observe(alertStatus('usb', { state: { lastOutcome: 'failed', lastSuccessMs: 1000, consecutiveFailures: 1 } }))?.summary, 'usb: no longer flagged');
  // A problem that became another keeps the first one's reference: a success before the second is not "since".
  tracker.observe(alertStatus('mail', { ...failing, state: { ...failing.state, lastSuccessMs: 1000 } }));
  tracker.observe(alertStatus('mail', { health: 'stale', reason: 'x', state: { lastOutcome: 'success', lastSuccessMs: 2000 } }));
  tracker.markAnnounced('mail');
  assert.equal(tracker.observe(alertStatus('mail', { state: { lastOutcome: 'success', lastSuccessMs: 3000 } }))?.summary, 'mail: healthy again');
  // A dry run that succeeds is no sync (lastSuccessMs does not move).
  tracker.observe(alertStatus('pics', failing));
  tracker.markAnnounced('pics');
  assert.equal(tracker.observe(alertStatus('pics', { state: { lastOutcome: 'dry-run', lastSuccessMs: 1000 } }))?.summary, 'pics: no longer flagged');
});

test('levels: none is nothing, attention is health and recovery, all adds conflicts; a snooze silences until its end', () => {
  for (const kind of ['attention', 'failing', 'stale', 'ok', 'conflicts'] as const) {
    assert.equal(wantedAtLevel(kind, 'none'), false);
    assert.equal(wantedAtLevel(kind, 'all'), true);
    assert.equal(wantedAtLevel(kind, 'attention'), kind !== 'conflicts');
  }
  assert.equal(isSnoozed(0, 1000), false);
  assert.equal(isSnoozed(2000, 1000), true);
  assert.equal(isSnoozed(1000, 1000), false);
});

test('a burst shows the first two at once and holds the rest for one summary at its end', () => {
  const gate = createBurstGate({ free: 2, quietMs: 100, maxMs: 1000 });
  const events = Array.from({ length: 20 }, (_, i) => problemEvent(alertStatus(`job${i}`, { health: 'failing', reason: 'r' }))!);
  const shown = events.map((e, i) => gate.offer(e, 10 + i).show);
  assert.deepEqual(shown, [true, true, ...Array<boolean>(18).fill(false)]);
  assert.equal(gate.dueAtMs(false), 29 + 100);
  assert.deepEqual(gate.end(128, false), [], 'not over yet');
  const held = gate.end(129, false);
  assert.equal(held.length, 18);
  const summary = summaryEvent(held);
  assert.equal(summary.summary, '18 more jobs need a look');
  assert.match(summary.body, /^job2, job3, job4, job5, job6, job7, job8, job9 and 10 more\.\n/);
  assert.deepEqual([summary.job, summary.kind, summary.urgency, summary.hint], ['', 'failing', 1, 'rbmctl status']);
  assert.equal(gate.dueAtMs(false), undefined);
  assert.equal(gate.open(), false);
  assert.equal(gate.offer(events[0]!, 500).show, true, 'a new burst starts afresh');
});

test('while runs are running or queued a quiet spell does not end the burst: 20 failing at once is one burst however slow', () => {
  const gate = createBurstGate({ free: 2, quietMs: 100, maxMs: 10_000 });
  const events = Array.from({ length: 20 }, (_, i) => problemEvent(alertStatus(`job${i}`, { health: 'failing', reason: 'r' }))!);
  // One failure every 500 ms (five quiet periods apart) while the other runs are still going.
  const offers = events.map((e, i) => gate.offer(e, i * 500));
  assert.deepEqual(offers.map((o) => o.show), [true, true, ...Array<boolean>(18).fill(false)]);
  assert.deepEqual(offers.map((o) => o.ended.length), Array<number>(20).fill(0), 'no burst ended in between');
  assert.equal(gate.dueAtMs(true), 10_000, 'busy: only the maximum length ends it');
  assert.deepEqual(gate.end(9_600, true), []);
  assert.equal(gate.dueAtMs(false), 9_500 + 100, 'idle: quiet since the last event');
  assert.equal(gate.end(9_600, false).length, 18);
});

test('a long burst ends at maxMs; an offer after a missed end returns the held events', () => {
  const gate = createBurstGate({ free: 1, quietMs: 100, maxMs: 250 });
  const e = problemEvent(alertStatus('a', { health: 'failing', reason: 'r' }))!;
  gate.offer(e, 0);
  for (let t = 50; t <= 200; t += 50) assert.equal(gate.offer(e, t).show, false);
  assert.equal(gate.dueAtMs(false), 250);
  const late = gate.offer(e, 400);
  assert.equal(late.ended.length, 4);
  assert.equal(late.show, true);
});

test('recoveries in a burst are summarised as healthy again', () => {
  const held = ['a', 'b', 'c'].map((n) => recoveryEvent(alertStatus(n)));
  const summary = summaryEvent(held);
  assert.equal(summary.summary, '3 more jobs are healthy again');
  assert.deepEqual([summary.urgency, summary.category], [0, 'transfer.complete']);
});

test('actions are offered only with the actions capability; the default key maps to the first action', () => {
  assert.deepEqual(actionPairs(['details', 'sync'], true), ['default', 'Show details', 'sync', 'Sync now']);
  assert.deepEqual(actionPairs(['review'], true), ['default', 'Review…']);
  assert.deepEqual(actionPairs(['details', 'sync'], false), []);
  assert.equal(invokedAction('default', ['review']), 'review');
  assert.equal(invokedAction('sync', ['details', 'sync']), 'sync');
  assert.equal(invokedAction('sync', ['review']), undefined, 'a key never offered does nothing');
  assert.equal(invokedAction('details', ['details', 'sync']), undefined, 'the first action only as default');
});

test('the details command gets the job; a review shows the approval list; a summary shows every job', () => {
  assert.deepEqual(detailsArgv(DEFAULT_DETAILS_COMMAND, 'docs', false), ['x-terminal-emulator', '-e', 'rbmctl', 'status', 'docs']);
  assert.deepEqual(detailsArgv(DEFAULT_DETAILS_COMMAND, 'docs', true), ['x-terminal-emulator', '-e', 'rbmctl', 'approve', 'docs']);
  assert.deepEqual(detailsArgv(DEFAULT_DETAILS_COMMAND, '', false), ['x-terminal-emulator', '-e', 'rbmctl', 'status']);
  assert.deepEqual(detailsArgv(['foot', 'sh', '-c', 'rbmctl status {job}; read'], 'docs', true), ['foot', 'sh', '-c', 'rbmctl status docs; read']);
  assert.deepEqual(detailsArgv(['my-status', 'status', '{job}'], 'docs', true), ['my-status', 'status', 'docs'], 'a custom command without {action} runs as written');
  assert.deepEqual(detailsArgv(['foot', 'sh', '-c', 'rbmctl {action} {job}; read'], 'docs', true), ['foot', 'sh', '-c', 'rbmctl approve docs; read']);
});

test('notification ids: replaced per job and slot, looked up for actions, forgotten when closed', () => {
  const ids = createNotificationIds();
  assert.equal(ids.replacesId('docs', 'health'), 0);
  ids.remember(5, { job: 'docs', slot: 'health', actions: ['review'] });
  ids.remember(6, { job: 'docs', slot: 'conflicts', actions: ['details'] });
  assert.equal(ids.replacesId('docs', 'health'), 5);
  assert.equal(ids.replacesId('docs', 'conflicts'), 6);
  assert.deepEqual(ids.lookup(5)?.actions, ['review']);
  ids.remember(8, { job: 'docs', slot: 'health', actions: ['details'] });
  assert.equal(ids.lookup(5), undefined);
  ids.closed(8);
  assert.equal(ids.replacesId('docs', 'health'), 0);
  ids.clear();
  assert.equal(ids.replacesId('docs', 'conflicts'), 0);
});

test('an id the server gives to another slot (reused) is that slot\'s only: the old slot no longer replaces it', () => {
  const ids = createNotificationIds();
  ids.remember(5, { job: 'docs', slot: 'health', actions: ['details'] });
  ids.remember(5, { job: 'photos', slot: 'health', actions: ['details'] });
  assert.equal(ids.replacesId('photos', 'health'), 5);
  assert.equal(ids.replacesId('docs', 'health'), 0, 'docs would otherwise replace photos\' notification');
  ids.closed(5);
  assert.equal(ids.replacesId('photos', 'health'), 0);
});

test('held events keep only the latest per job and slot; an event reads as one line', () => {
  const failing = problemEvent(alertStatus('a', { health: 'failing', reason: 'r' }))!;
  const okA = recoveryEvent(alertStatus('a'));
  const staleB = problemEvent(alertStatus('b', { health: 'stale', reason: 's' }))!;
  const conflictsA = conflictsEvent({ job: 'a', runId: 3, dryRun: false, conflicts: [{ path: 'x', copies: [] }] })!;
  assert.deepEqual(latestHeld([failing, staleB, conflictsA, okA]), [staleB, conflictsA, okA]);
  assert.equal(eventText(okA), 'a: healthy again — The last sync succeeded.');
  assert.equal(eventText({ summary: 's', body: '' }), 's');
});
