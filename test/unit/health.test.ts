// The health of a job (src/api/health.ts): each value and its reason, their order, paused and inactive jobs, the
// staleness reference of old state files, and the default stale_after of common schedules (scheduler/next-run.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAge, healthChangesAtMs, jobHealth, staleAtMs, type HealthFacts } from '../../src/api/health.js';
import { parseJobState } from '../../src/run/rules/job-state.js';
import { defaultStaleAfterMs } from '../../src/scheduler/next-run.js';
import { parseWindow } from '../../src/conditions/windows.js';
import type { TimeWindow } from '../../src/conditions/types.js';
import { makeState } from '../helpers/scheduler-fixtures.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2024, 0, 10, 12, 0, 0); // a Wednesday

function facts(overrides: Partial<HealthFacts> = {}, state: Partial<HealthFacts['state']> = {}): HealthFacts {
  return {
    name: 'docs',
    activity: 'idle',
    paused: false,
    state: makeState({ lastSuccessMs: NOW - HOUR, trackedSinceMs: NOW - 10 * DAY, ...state }),
    failuresBeforeAlert: 3,
    staleAfterMs: 36 * HOUR,
    knownSinceMs: NOW - DAY,
    nowMs: NOW,
    ...overrides,
  };
}

test('ok: a recent success, fewer failures than the limit, nothing waiting; the reason is empty', () => {
  assert.deepEqual(jobHealth(facts()), { health: 'ok', reason: '' });
  assert.deepEqual(jobHealth(facts({}, { consecutiveFailures: 2, lastMessage: 'remote unreachable' })), { health: 'ok', reason: '' });
});

test('attention: each way a job waits for a person, with what to do', () => {
  const resync = jobHealth(facts({}, { needsResync: true, lastMessage: 'bisync aborted: listings are corrupt' }));
  assert.deepEqual(resync, { health: 'attention', reason: 'needs a resync: bisync aborted: listings are corrupt. Check both sides, then run: rbmctl sync docs --resync' });
  const approval = jobHealth(facts({}, { needsApproval: true, pendingDeleteCount: 40, pendingOverwriteCount: 1 }));
  assert.deepEqual(approval, { health: 'attention', reason: 'waits for your approval of 40 deletes and 1 overwrite: review them with rbmctl approve docs' });
  const oneDelete = jobHealth(facts({}, { needsApproval: true, pendingDeleteCount: 1 }));
  assert.equal(oneDelete.reason, 'waits for your approval of 1 delete: review them with rbmctl approve docs');
  const check = jobHealth(facts({}, { sideCheck: { side: 'local', path: '/data/docs', missing: ['RCLONE_TEST'], filesLastSeen: 10, filesNow: 0, residue: [] }, lastMessage: 'the local side looks unmounted' }));
  assert.deepEqual(check, { health: 'attention', reason: 'the local side looks unmounted; it syncs by itself once the check passes' });
});

test('failing: failures_before_alert failed runs in a row, with the last message', () => {
  assert.deepEqual(jobHealth(facts({}, { consecutiveFailures: 3, lastMessage: 'remote unreachable' })), { health: 'failing', reason: 'failed 3 times in a row: remote unreachable' });
  assert.deepEqual(jobHealth(facts({ failuresBeforeAlert: 1 }, { consecutiveFailures: 1, lastMessage: '' })), { health: 'failing', reason: 'failed 1 times in a row: see rbmctl history docs' });
  assert.equal(jobHealth(facts({ failuresBeforeAlert: 4 }, { consecutiveFailures: 3 })).health, 'ok');
});

test('stale: no success for longer than stale_after, measured from the last success, else the first run, else when first seen', () => {
  const since = jobHealth(facts({}, { lastSuccessMs: NOW - 36 * HOUR - 1 }));
  assert.deepEqual(since, { health: 'stale', reason: 'no successful sync for more than 1 d 12 h: see why with rbmctl history docs' });
  assert.equal(jobHealth(facts({}, { lastSuccessMs: NOW - 36 * HOUR })).health, 'ok', 'exactly stale_after is not yet stale');
  const neverOk = jobHealth(facts({}, { lastSuccessMs: 0, trackedSinceMs: NOW - 2 * DAY }));
  assert.deepEqual(neverOk, { health: 'stale', reason: 'has not synced successfully once in more than 1 d 12 h: see why with rbmctl history docs' });
  assert.equal(jobHealth(facts({}, { lastSuccessMs: 0, trackedSinceMs: NOW - DAY })).health, 'ok', 'a day after its first run');
  const neverRan = jobHealth(facts({ knownSinceMs: NOW - 2 * DAY }, { lastSuccessMs: 0, trackedSinceMs: 0 }));
  assert.deepEqual(neverRan, { health: 'stale', reason: 'has not run in more than 1 d 12 h: check its schedule, or run it now with rbmctl sync docs' });
  assert.equal(jobHealth(facts({ knownSinceMs: NOW - DAY }, { lastSuccessMs: 0, trackedSinceMs: 0 })).health, 'ok');
});

test('the stale reason does not change with time alone (the D-Bus property only changes with a PropertiesChanged)', () => {
  const old = { lastSuccessMs: NOW - 40 * HOUR };
  const a = jobHealth(facts({}, old));
  const b = jobHealth(facts({ nowMs: NOW + 5 * DAY }, old));
  assert.equal(a.health, 'stale');
  assert.equal(b.reason, a.reason);
});

test('order: attention before failing before stale', () => {
  const all = { needsApproval: true, pendingDeleteCount: 5, consecutiveFailures: 9, lastSuccessMs: NOW - 30 * DAY };
  assert.equal(jobHealth(facts({}, all)).health, 'attention');
  assert.equal(jobHealth(facts({}, { ...all, needsApproval: false })).health, 'failing');
  assert.equal(jobHealth(facts({}, { ...all, needsApproval: false, consecutiveFailures: 0 })).health, 'stale');
});

test('paused or inactive jobs are never stale or failing, but a job waiting for a person still says so', () => {
  const troubled = { consecutiveFailures: 9, lastSuccessMs: NOW - 30 * DAY };
  assert.deepEqual(jobHealth(facts({ paused: true, activity: 'paused' }, troubled)), { health: 'ok', reason: '' });
  assert.deepEqual(jobHealth(facts({ activity: 'inactive' }, troubled)), { health: 'ok', reason: '' });
  assert.deepEqual(jobHealth(facts({ activity: 'inactive' }, { lastSuccessMs: 0, trackedSinceMs: 0 })), { health: 'ok', reason: '' });
  assert.equal(jobHealth(facts({ paused: true, activity: 'paused' }, { ...troubled, needsResync: true })).health, 'attention');
});

test('a job whose every run is a dry run is never stale (a dry run records no success), but still needs a person when it waits', () => {
  assert.deepEqual(jobHealth(facts({ dryRunOnly: true }, { lastSuccessMs: 0, trackedSinceMs: NOW - 30 * DAY })), { health: 'ok', reason: '' });
  assert.equal(healthChangesAtMs(facts({ dryRunOnly: true })), undefined);
  assert.equal(jobHealth(facts({ dryRunOnly: true }, { needsResync: true })).health, 'attention');
  assert.equal(jobHealth(facts({ dryRunOnly: false }, { lastSuccessMs: 0, trackedSinceMs: NOW - 30 * DAY })).health, 'stale');
});

test('staleAtMs and healthChangesAtMs: the first moment of staleness, only for a job that is ok and can become stale', () => {
  const f = facts({}, { lastSuccessMs: NOW - HOUR });
  const at = NOW - HOUR + 36 * HOUR + 1;
  assert.equal(staleAtMs(f), at);
  assert.equal(healthChangesAtMs(f), at);
  assert.equal(jobHealth({ ...f, nowMs: at - 1 }).health, 'ok');
  assert.equal(jobHealth({ ...f, nowMs: at }).health, 'stale');
  assert.equal(healthChangesAtMs(facts({ paused: true }, { lastSuccessMs: NOW - HOUR })), undefined, 'paused');
  assert.equal(healthChangesAtMs(facts({ activity: 'inactive' })), undefined, 'inactive');
  assert.equal(healthChangesAtMs(facts({}, { consecutiveFailures: 3 })), undefined, 'failing: only a run changes it');
  assert.equal(healthChangesAtMs(facts({}, { needsResync: true })), undefined, 'attention: only a person changes it');
  assert.equal(healthChangesAtMs(facts({}, { lastSuccessMs: NOW - 40 * HOUR })), undefined, 'already stale');
});

test('a state file from before health existed loads with the right reference: its last ok finish, else its last start', () => {
  const before = {
    version: 1, resyncDone: true, filtersHash: '', pairKey: '', lastRunId: 7, lastStartedMs: NOW - 3 * DAY, lastFinishedMs: NOW - 3 * DAY + 60_000,
    lastOutcome: 'success', lastMessage: 'synced', lastError: '', lastScheduledMs: 0, needsResync: false, needsApproval: false, pendingDeletes: [],
    consecutiveFailures: 0, retryAtMs: 0, hashWarning: false, interrupted: false,
  };
  const ok = parseJobState(before);
  assert.ok(ok);
  assert.equal(ok.lastSuccessMs, NOW - 3 * DAY + 60_000);
  assert.deepEqual(jobHealth(facts({ state: ok })), { health: 'stale', reason: 'no successful sync for more than 1 d 12 h: see why with rbmctl history docs' });
  assert.equal(jobHealth(facts({ state: ok, staleAfterMs: 4 * DAY })).health, 'ok');

  const failed = parseJobState({ ...before, lastOutcome: 'failed', consecutiveFailures: 1 });
  assert.ok(failed);
  assert.equal(failed.lastSuccessMs, 0, 'a failed last run says nothing about the last success');
  assert.equal(failed.trackedSinceMs, NOW - 3 * DAY, 'its last start is the reference');
  assert.equal(staleAtMs(facts({ state: failed })), NOW - 3 * DAY + 36 * HOUR + 1);

  const never = parseJobState({ ...before, lastOutcome: 'never', lastRunId: 0, lastStartedMs: 0, lastFinishedMs: 0 });
  assert.ok(never);
  assert.equal(staleAtMs(facts({ state: never, knownSinceMs: NOW })), NOW + 36 * HOUR + 1, 'no run at all: from when the service first saw it');
});

test('formatAge: the coarse age a person reads at a glance', () => {
  assert.equal(formatAge(0), '1 min');
  assert.equal(formatAge(12 * 60_000), '12 min');
  assert.equal(formatAge(HOUR), '1 h');
  assert.equal(formatAge(2 * HOUR + 5 * 60_000), '2 h 5 min');
  assert.equal(formatAge(3 * DAY), '3 d');
  assert.equal(formatAge(3 * DAY + 4 * HOUR + 59 * 60_000), '3 d 4 h');
});

function windows(...texts: string[]): TimeWindow[] {
  return texts.map((text) => {
    const parsed = parseWindow(text);
    assert.ok(parsed.ok, text);
    return parsed.window;
  });
}

test('default stale_after with run-condition windows: the gaps between the moments its runs can start (review finding 9)', () => {
  const night = windows('22:00-06:00');
  for (let hour = 0; hour < 24; hour += 5) {
    assert.equal(defaultStaleAfterMs('0 * * * *', NOW + hour * HOUR, 'UTC', night), 3 * 17 * HOUR, `hourly in 22:00-06:00, asked at +${hour} h: three times 05:00 → 22:00, not 3 h`);
  }
  assert.equal(defaultStaleAfterMs('0 12 * * *', NOW, 'UTC', night), 3 * DAY, 'daily at noon, outside the window: it runs at 22:00 every day');
  assert.equal(defaultStaleAfterMs('0 * * * *', NOW, 'UTC', windows('Sat,Sun')), 3 * (5 * DAY + HOUR), 'hourly on weekends only: Sunday 23:00 → Saturday 00:00');
  assert.equal(defaultStaleAfterMs('* * * * *', NOW, 'UTC', windows('Mon-Fri 09:00-17:00')), 3 * (2 * DAY + 16 * HOUR + 60_000), 'every minute in office hours: Friday 16:59 → Monday 09:00');
  assert.equal(defaultStaleAfterMs('0 9 * * 1-5', NOW, 'UTC', windows('08:00-18:00')), 9 * DAY, 'a window that holds every slot changes nothing');
  assert.equal(defaultStaleAfterMs('0 * * * *', NOW, 'UTC', []), 3 * HOUR, 'no windows: the schedule alone');
});

test('default stale_after with windows and an irregular schedule: a night inside the window is not skipped (session 6 review finding 9)', () => {
  // Every 5 minutes 09:00-17:55, in a window open Monday to Friday: the next 8 slots are 5 minutes apart, but the
  // nights are 15 h and the weekend run waits for Monday 00:00: Friday 17:55 → Monday 00:00.
  assert.equal(defaultStaleAfterMs('*/5 9-17 * * *', NOW, 'UTC', windows('Mon-Fri')), 3 * (2 * DAY + 6 * HOUR + 5 * 60_000));
  assert.equal(defaultStaleAfterMs('0 9,17 * * *', NOW, 'UTC', windows('Mon-Fri')), 3 * (2 * DAY + 7 * HOUR), 'twice a day: Friday 17:00 → Monday 00:00');
});

test('default stale_after: three schedule periods, at least an hour; a weekdays job is not stale over a weekend', () => {
  assert.equal(defaultStaleAfterMs('*/15 * * * *', NOW), HOUR, 'every 15 min: 45 min, raised to the 1 h minimum');
  assert.equal(defaultStaleAfterMs('0 * * * *', NOW), 3 * HOUR, 'hourly');
  assert.equal(defaultStaleAfterMs('0 3 * * *', NOW), 3 * DAY, 'daily');
  for (let day = 0; day < 7; day++) {
    assert.equal(defaultStaleAfterMs('0 9 * * 1-5', NOW + day * DAY), 9 * DAY, `weekdays 09:00, asked on day ${day}: three times the Friday-Monday gap`);
  }
  // The gaps are looked for over 8 days, not the next 8 slots: a job every 5 minutes in office hours is not stale
  // every night (the next 8 slots are 5 minutes apart; its nights are 15 h and its weekends 63 h).
  assert.equal(defaultStaleAfterMs('*/5 9-17 * * 1-5', NOW), 3 * (2 * DAY + 15 * HOUR + 5 * 60_000), 'every 5 min 09:00-17:55 on weekdays: Friday 17:55 → Monday 09:00');
  assert.equal(defaultStaleAfterMs('0 9-17 * * *', NOW), 3 * 16 * HOUR, 'hourly 09:00-17:00 every day: 17:00 → 09:00');
  assert.equal(defaultStaleAfterMs('0 0 1 1 *', NOW), 3 * 366 * DAY, 'yearly: three times its longest gap, a leap year (stale_after says less)');
});
