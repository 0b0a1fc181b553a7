// Cron slots in an explicit time zone: the zone is an input of the scheduler (the daemon passes the system's), so
// the same schedule gives different instants in different zones and never depends on the process's TZ.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOCAL_TIMEZONE } from '../../src/conditions/zone.js';
import { nextRunAfter } from '../../src/scheduler/next-run.js';
import { createHarness, HOUR, MINUTE } from '../helpers/scheduler-harness.js';
import { makeJob } from '../helpers/scheduler-fixtures.js';

const T0 = Date.UTC(2024, 0, 1, 0, 0, 0); // Monday 1 January 2024, 00:00 UTC (winter on both sides of the Atlantic)

/** The wall-clock time of `ms` in `zone`, as "YYYY-MM-DD HH:MM". */
function wallClock(ms: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(ms);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '?';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}`;
}

/** Run `fn` with the process's TZ set to `zone`, then put it back. */
function withProcessTimezone<T>(zone: string | undefined, fn: () => T): T {
  const saved = process.env.TZ;
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

test('the same daily 03:00 schedule gives a different instant in Tokyo, Kolkata and New York', () => {
  const tokyo = nextRunAfter('0 3 * * *', T0, 'Asia/Tokyo');
  const kolkata = nextRunAfter('0 3 * * *', T0, 'Asia/Kolkata');
  const newYork = nextRunAfter('0 3 * * *', T0, 'America/New_York');
  assert.equal(tokyo, Date.UTC(2024, 0, 1, 18, 0), '03:00 JST (UTC+9) on 2 January');
  assert.equal(kolkata, Date.UTC(2024, 0, 1, 21, 30), '03:00 IST (UTC+5:30) on 2 January');
  assert.equal(newYork, Date.UTC(2024, 0, 1, 8, 0), '03:00 EST (UTC-5) on 1 January');
  assert.equal(wallClock(tokyo, 'Asia/Tokyo'), '2024-01-02 03:00');
  assert.equal(wallClock(kolkata, 'Asia/Kolkata'), '2024-01-02 03:00');
  assert.equal(wallClock(newYork, 'America/New_York'), '2024-01-01 03:00');
});

test('a daily 03:00 slot in Europe/Berlin moves one hour earlier in UTC across the March DST change', () => {
  const slots: number[] = [];
  let from = Date.UTC(2024, 2, 29, 12, 0); // Friday 29 March 2024, noon UTC
  for (let i = 0; i < 4; i++) {
    from = nextRunAfter('0 3 * * *', from, 'Europe/Berlin')!;
    slots.push(from);
  }
  assert.deepEqual(slots, [Date.UTC(2024, 2, 30, 2, 0), Date.UTC(2024, 2, 31, 1, 0), Date.UTC(2024, 3, 1, 1, 0), Date.UTC(2024, 3, 2, 1, 0)]);
  assert.deepEqual(
    slots.map((ms) => wallClock(ms, 'Europe/Berlin')),
    ['2024-03-30 03:00', '2024-03-31 03:00', '2024-04-01 03:00', '2024-04-02 03:00'],
  );
});

test("a slot does not depend on the process's TZ, with a zone given or with the default (UTC)", () => {
  for (const processZone of ['Asia/Tokyo', 'America/New_York', 'Europe/Berlin', undefined]) {
    withProcessTimezone(processZone, () => {
      const note = `process TZ=${processZone ?? '(unset)'}`;
      assert.equal(nextRunAfter('0 3 * * *', T0, 'Asia/Kolkata'), Date.UTC(2024, 0, 1, 21, 30), note);
      assert.equal(nextRunAfter('0 3 * * *', T0), Date.UTC(2024, 0, 1, 3, 0), note);
    });
  }
  // The check above can fail: the process's zone really changes what a local Date says.
  withProcessTimezone('Asia/Tokyo', () => assert.equal(new Date(T0).getHours(), 9));
});

test('the scheduler runs a daily 03:00 job at 03:00 of the zone it is given', async () => {
  for (const [zone, expected] of [
    ['Asia/Kolkata', Date.UTC(2024, 0, 1, 21, 30)],
    ['America/New_York', Date.UTC(2024, 0, 1, 8, 0)],
  ] as const) {
    const h = createHarness({ startMs: T0, autoFinish: true, timezone: zone, jobs: [makeJob('nightly', { schedule: '0 3 * * *' })] });
    assert.equal(h.scheduler.info('nightly')?.nextRunMs, expected, `${zone}: the announced next run`);
    for (let t = 0; t < 24 * HOUR; t += 30 * MINUTE) await h.advance(30 * MINUTE);
    assert.deepEqual(h.runs.map((r) => r.atMs), [expected], `${zone}: one run, at 03:00 local time`);
    assert.equal(wallClock(h.runs[0]!.atMs, zone).slice(11), '03:00');
    h.scheduler.stop();
  }
});

test('the host zone (LOCAL_TIMEZONE) follows the process TZ, as the service wants', () => {
  withProcessTimezone('Asia/Tokyo', () => assert.equal(new Date(nextRunAfter('0 3 * * *', T0, LOCAL_TIMEZONE)!).getHours(), 3));
  withProcessTimezone('America/New_York', () => assert.equal(new Date(nextRunAfter('0 3 * * *', T0, LOCAL_TIMEZONE)!).getHours(), 3));
  const tokyo = withProcessTimezone('Asia/Tokyo', () => nextRunAfter('0 3 * * *', T0, LOCAL_TIMEZONE));
  const newYork = withProcessTimezone('America/New_York', () => nextRunAfter('0 3 * * *', T0, LOCAL_TIMEZONE));
  assert.notEqual(tokyo, newYork);
});
