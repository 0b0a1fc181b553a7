// Time windows of run conditions (src/conditions/windows.ts): every form a window may be written in and every mistake
// with its message; inside or not across midnight and weekdays; when the next window opens or closes, in UTC and in
// Europe/Berlin across both DST changes of 2026, checked against a minute-by-minute walk of the clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatWallClock, insideWindows, nextWindowChangeMs, parseWindow } from '../../src/conditions/windows.js';
import { LOCAL_TIMEZONE, isKnownTimezone, utcOffsetMinutes, wallClock } from '../../src/conditions/zone.js';
import type { TimeWindow } from '../../src/conditions/types.js';

const BERLIN = 'Europe/Berlin';
const MIN = 60_000;
const HOUR = 3_600_000;
const [SUN, MON, TUE, WED, THU, FRI, SAT] = [1, 2, 4, 8, 16, 32, 64];
const ALL = 127;

/** 2026-03-02 is a Monday: `at(0, '23:00')` is Monday 23:00 UTC, `at(4, …)` Friday, `at(7, …)` the Monday after. */
const at = (dayAfterMonday: number, hhmm: string): number => Date.UTC(2026, 2, 2 + dayAfterMonday, Number(hhmm.slice(0, 2)), Number(hhmm.slice(3)));

function windows(...texts: string[]): TimeWindow[] {
  return texts.map((text) => {
    const parsed = parseWindow(text);
    assert.ok(parsed.ok, `${text}: ${parsed.ok ? '' : parsed.problem}`);
    return parsed.window;
  });
}

test('every way of writing a window: a time range, days, or both; across midnight; day ranges that wrap', () => {
  const cases: [string, number, number, number][] = [
    ['22:00-06:00', ALL, 22 * 60, 6 * 60],
    ['Mon-Fri 09:00-17:00', MON | TUE | WED | THU | FRI, 9 * 60, 17 * 60],
    ['Sat,Sun', SAT | SUN, 0, 1440],
    ['sat, SUN', SAT | SUN, 0, 1440],
    ['Fri-Mon', FRI | SAT | SUN | MON, 0, 1440],
    ['Monday-Wednesday,Friday 8:30-12:00', MON | TUE | WED | FRI, 8 * 60 + 30, 12 * 60],
    ['Fri 22:00 - 06:00', FRI, 22 * 60, 6 * 60],
    ['00:00-24:00', ALL, 0, 1440],
    ['Sun 18:00-24:00', SUN, 18 * 60, 1440],
    ['  Tue 00:00-00:01  ', TUE, 0, 1],
  ];
  for (const [text, days, start, end] of cases) {
    assert.deepEqual(parseWindow(text), { ok: true, window: { text: text.trim(), days, start, end } }, text);
  }
});

test('a bad window says which part is wrong', () => {
  const cases: [string, string][] = [
    ['25:00-26:00', '"25:00" is not a time: HH:MM from 00:00 to 23:59'],
    ['22:00-26:00', '"26:00" is not a time: HH:MM from 00:00 to 24:00'],
    ['24:00-06:00', '"24:00" is not a time: HH:MM from 00:00 to 23:59'],
    ['08:60-09:00', '"08:60" is not a time: HH:MM from 00:00 to 23:59'],
    ['Mon-Fri 9-17', '"9" is not a time: HH:MM from 00:00 to 23:59'],
    ['22:00', '"22:00" is not a time range: two times such as 22:00-06:00'],
    ['22:00-23:00-01:00', '"22:00-23:00-01:00" is not a time range: two times such as 22:00-06:00'],
    ['09:00-09:00', '"09:00-09:00" starts and ends at the same time; for whole days give the days alone, such as "Sat,Sun"'],
    ['Mo 10:00-11:00', '"Mo" is not a day: Mon, Tue, Wed, Thu, Fri, Sat, Sun, or the full name'],
    ['Mon-Fri-Sat', '"Mon-Fri-Sat" is not a day or a range of days such as Mon-Fri'],
    ['Mon,,Tue', '"" is not a day or a range of days such as Mon-Fri'],
    ['Mon- 10:00-11:00', '"Mon-" is not a day: Mon, Tue, Wed, Thu, Fri, Sat, Sun, or the full name'],
    ['weekends', '"weekends" is not a day: Mon, Tue, Wed, Thu, Fri, Sat, Sun, or the full name'],
    ['  ', 'it is empty'],
  ];
  for (const [text, problem] of cases) {
    assert.deepEqual(parseWindow(text), { ok: false, problem: `${JSON.stringify(text)} is not a time window: ${problem}` }, text);
  }
});

test('inside or not: a window across midnight, weekdays, whole days, a weekend range that wraps', () => {
  const night = windows('22:00-06:00');
  assert.equal(insideWindows(night, at(0, '21:59'), 'UTC'), false);
  assert.equal(insideWindows(night, at(0, '22:00'), 'UTC'), true, 'the start is inside');
  assert.equal(insideWindows(night, at(1, '05:59'), 'UTC'), true, 'the morning after');
  assert.equal(insideWindows(night, at(1, '06:00'), 'UTC'), false, 'the end is outside');

  const fridayNight = windows('Fri 22:00-06:00');
  assert.equal(insideWindows(fridayNight, at(4, '23:00'), 'UTC'), true);
  assert.equal(insideWindows(fridayNight, at(5, '05:00'), 'UTC'), true, 'Saturday morning belongs to Friday night');
  assert.equal(insideWindows(fridayNight, at(4, '05:00'), 'UTC'), false, 'Friday morning belongs to Thursday night, not a window day');
  assert.equal(insideWindows(fridayNight, at(5, '23:00'), 'UTC'), false);

  const office = windows('Mon-Fri 09:00-17:00');
  assert.equal(insideWindows(office, at(2, '16:59'), 'UTC'), true);
  assert.equal(insideWindows(office, at(2, '17:00'), 'UTC'), false);
  assert.equal(insideWindows(office, at(5, '10:00'), 'UTC'), false, 'Saturday');

  const weekend = windows('Sat,Sun');
  assert.equal(insideWindows(weekend, at(5, '00:00'), 'UTC'), true);
  assert.equal(insideWindows(weekend, at(6, '23:59'), 'UTC'), true);
  assert.equal(insideWindows(weekend, at(7, '00:00'), 'UTC'), false);
  assert.equal(insideWindows(weekend, at(4, '23:59'), 'UTC'), false);

  const wraps = windows('Fri-Mon');
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((d) => insideWindows(wraps, at(d, '12:00'), 'UTC')), [true, false, false, false, true, true, true]);

  assert.equal(insideWindows([], at(2, '03:00'), 'UTC'), true, 'no windows: any time');
});

test('the next opening or closing: across midnight, over a weekend, overlapping and adjacent windows', () => {
  const night = windows('22:00-06:00');
  assert.equal(nextWindowChangeMs(night, at(0, '12:00'), 'UTC'), at(0, '22:00'));
  assert.equal(nextWindowChangeMs(night, at(0, '23:00'), 'UTC'), at(1, '06:00'));
  assert.equal(nextWindowChangeMs(night, at(0, '22:00'), 'UTC'), at(1, '06:00'), 'at the opening instant, the next change is the close');
  assert.equal(nextWindowChangeMs(windows('Mon-Fri 09:00-17:00'), at(4, '18:00'), 'UTC'), at(7, '09:00'), 'Friday evening → Monday morning');
  assert.equal(nextWindowChangeMs(windows('Mon-Fri 09:00-17:00', '16:00-18:00'), at(0, '10:00'), 'UTC'), at(0, '18:00'), 'overlapping windows close at the later end');
  assert.equal(nextWindowChangeMs(windows('Sat,Sun', 'Mon 00:00-08:00'), at(5, '10:00'), 'UTC'), at(7, '08:00'), 'adjacent windows do not close at midnight');
  assert.equal(nextWindowChangeMs(windows('Sun 23:00-01:00'), at(0, '00:30'), 'UTC'), at(0, '01:00'), 'Monday 00:30 is inside Sunday night');
  assert.equal(nextWindowChangeMs(windows('00:00-24:00'), at(0, '10:00'), 'UTC'), undefined, 'always open: no change');
  assert.equal(nextWindowChangeMs(windows('Mon-Sun'), at(3, '10:00'), 'UTC'), undefined);
  assert.equal(nextWindowChangeMs([], at(0, '10:00'), 'UTC'), undefined, 'no windows: no timer');
  assert.equal(nextWindowChangeMs(night, at(0, '12:00') + 17_345, 'UTC'), at(0, '22:00'), 'from an instant that is not a whole minute');
});

// 2026-03-29 (the last Sunday of March): Europe/Berlin goes from 02:00 CET to 03:00 CEST at 01:00 UTC.
// 2026-10-25 (the last Sunday of October): from 03:00 CEST back to 02:00 CET at 01:00 UTC.
const SPRING = Date.UTC(2026, 2, 29, 1, 0);
const AUTUMN = Date.UTC(2026, 9, 25, 1, 0);

test('Europe/Berlin in spring: a window starting in the skipped hour opens when the clock jumps; a night window is an hour shorter', () => {
  assert.equal(utcOffsetMinutes(SPRING - 1, BERLIN), 60);
  assert.equal(utcOffsetMinutes(SPRING, BERLIN), 120);
  const skipped = windows('02:30-04:00');
  assert.equal(nextWindowChangeMs(skipped, SPRING - HOUR, BERLIN), SPRING, '01:00 CET → opens at the jump, 03:00 CEST');
  assert.equal(formatWallClock(SPRING, BERLIN), 'Sun 03:00');
  assert.equal(nextWindowChangeMs(skipped, SPRING, BERLIN), SPRING + HOUR, 'closes at 04:00 CEST');
  const night = windows('22:00-06:00');
  const saturdayNoon = Date.UTC(2026, 2, 28, 12, 0);
  const opens = nextWindowChangeMs(night, saturdayNoon, BERLIN)!;
  assert.equal(opens, Date.UTC(2026, 2, 28, 21, 0), 'Saturday 22:00 CET');
  const closes = nextWindowChangeMs(night, opens, BERLIN)!;
  assert.equal(closes, Date.UTC(2026, 2, 29, 4, 0), 'Sunday 06:00 CEST');
  assert.equal(closes - opens, 7 * HOUR);
  assert.equal(nextWindowChangeMs(windows('Sun 01:00-02:30'), SPRING - 30 * MIN, BERLIN), SPRING, 'a window ending in the skipped hour closes at the jump');
});

test('Europe/Berlin in autumn: the repeated hour is judged as the clock shows it, so a window within it is open twice', () => {
  assert.equal(utcOffsetMinutes(AUTUMN - 1, BERLIN), 120);
  assert.equal(utcOffsetMinutes(AUTUMN, BERLIN), 60);
  const repeated = windows('02:30-04:00');
  const changes: number[] = [];
  for (let from = AUTUMN - HOUR; changes.length < 4; ) changes.push((from = nextWindowChangeMs(repeated, from, BERLIN)!));
  assert.deepEqual(
    changes.map((ms) => new Date(ms).toISOString()),
    ['2026-10-25T00:30:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T01:30:00.000Z', '2026-10-25T03:00:00.000Z'],
    '02:30 CEST opens, the clock going back to 02:00 CET closes, 02:30 CET opens again, 04:00 CET closes',
  );
  const night = windows('22:00-06:00');
  const opens = nextWindowChangeMs(night, Date.UTC(2026, 9, 24, 12, 0), BERLIN)!;
  assert.equal(nextWindowChangeMs(night, opens, BERLIN)! - opens, 9 * HOUR, 'the night window is an hour longer');
});

/** A deterministic stream of numbers in [0, 1). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

test('the next change agrees with the clock walked minute by minute (random windows around both DST changes)', () => {
  const random = seeded(17);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const times = ['00:00', '01:30', '02:00', '02:30', '03:00', '06:15', '09:00', '17:45', '22:00', '23:59'];
  const days = ['', 'Sun ', 'Sat,Sun ', 'Mon-Fri ', 'Fri-Mon ', 'Wed '];
  for (let i = 0; i < 40; i++) {
    const texts = Array.from({ length: 1 + Math.floor(random() * 2) }, () => {
      const [start, end] = [pick(times), pick(times)];
      return start === end ? `${pick(days)}`.trim() || 'Tue' : `${pick(days)}${start}-${end}`;
    });
    const list = windows(...texts);
    const base = pick([SPRING, AUTUMN]);
    const now = base + Math.floor((random() - 0.5) * 3 * 86_400_000 / MIN) * MIN + 17_000;
    const inside = insideWindows(list, now, BERLIN);
    const next = nextWindowChangeMs(list, now, BERLIN);
    const label = `${texts.join(' | ')} from ${new Date(now).toISOString()}`;
    if (next === undefined) {
      for (let t = now; t < now + 8 * 86_400_000; t += 15 * MIN) assert.equal(insideWindows(list, t, BERLIN), inside, `${label}: no change promised, but ${new Date(t).toISOString()} differs`);
      continue;
    }
    assert.notEqual(insideWindows(list, next, BERLIN), inside, `${label}: ${new Date(next).toISOString()} is a change`);
    for (let t = Math.ceil(now / MIN) * MIN; t < next; t += MIN) assert.equal(insideWindows(list, t, BERLIN), inside, `${label}: ${new Date(t).toISOString()} changed before ${new Date(next).toISOString()}`);
  }
});

test('the host\'s zone (LOCAL_TIMEZONE, what the service uses) gives what the named zone gives', () => {
  const saved = process.env.TZ;
  process.env.TZ = BERLIN;
  try {
    for (const ms of [SPRING - 1, SPRING, AUTUMN - 1, AUTUMN, at(2, '12:34')]) {
      assert.deepEqual(wallClock(ms, LOCAL_TIMEZONE), wallClock(ms, BERLIN), new Date(ms).toISOString());
    }
    const night = windows('22:00-06:00', '02:30-04:00');
    assert.equal(nextWindowChangeMs(night, SPRING - 2 * HOUR, LOCAL_TIMEZONE), nextWindowChangeMs(night, SPRING - 2 * HOUR, BERLIN));
    assert.equal(formatWallClock(AUTUMN, LOCAL_TIMEZONE), 'Sun 02:00');
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

test('zones: UTC, the host, IANA names; an unknown name is refused', () => {
  assert.equal(isKnownTimezone('UTC'), true);
  assert.equal(isKnownTimezone(LOCAL_TIMEZONE), true);
  assert.equal(isKnownTimezone('America/New_York'), true);
  assert.equal(isKnownTimezone('Mars/Olympus'), false);
  assert.equal(formatWallClock(at(0, '22:00'), 'UTC'), 'Mon 22:00');
  assert.equal(formatWallClock(at(0, '22:00'), 'America/New_York'), 'Mon 17:00');
});
