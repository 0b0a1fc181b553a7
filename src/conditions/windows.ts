// Time windows of run conditions (pure): "22:00-06:00", "Mon-Fri 09:00-17:00", "Sat,Sun". Parsing with a message for
// each mistake, whether a moment is inside, and when the next window opens or closes: the one instant the service
// arms its single timer for (no polling). Times are wall-clock times in an explicit zone (./zone.ts); a window that
// crosses midnight belongs to the day it starts on ("Fri 22:00-06:00" ends Saturday 06:00).

import { DAY_MS, utcOffsetMinutes, wallClock } from './zone.js';
import type { TimeWindow } from './types.js';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
const ALL_DAYS = 0b111_1111;
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const SHORT_DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** What a window looks like: the "expected" half of every message about one. */
export const WINDOW_EXPECTED = 'a window such as "22:00-06:00", "Mon-Fri 09:00-17:00" or "Sat,Sun": days, a time range HH:MM-HH:MM, or both; days Mon to Sun or their full names, times 00:00 to 24:00';

export type WindowParse = { ok: true; window: TimeWindow } | { ok: false; problem: string };

/** A day name (Mon or Monday, any case) → 0 = Sunday … 6 = Saturday. */
function dayNumber(text: string): number | undefined {
  const lower = text.toLowerCase();
  const index = DAY_NAMES.findIndex((name) => name === lower || name.slice(0, 3) === lower);
  return index === -1 ? undefined : index;
}

/** "Mon-Fri", "Sat,Sun", "Fri-Mon" (wraps over the weekend) → a bit mask of days, or why not. */
function parseDays(text: string): { mask: number } | { problem: string } {
  let mask = 0;
  for (const item of text.split(',').map((s) => s.trim())) {
    const ends = item.split('-').map((s) => s.trim());
    if (item === '' || ends.length > 2) return { problem: `${JSON.stringify(item)} is not a day or a range of days such as Mon-Fri` };
    const [first, last] = ends.map(dayNumber);
    const bad = ends.find((name) => dayNumber(name) === undefined);
    if (bad !== undefined || first === undefined) return { problem: `${JSON.stringify(bad === undefined || bad === '' ? item : bad)} is not a day: Mon, Tue, Wed, Thu, Fri, Sat, Sun, or the full name` };
    for (let day = first; ; day = (day + 1) % 7) {
      mask |= 1 << day;
      if (day === (last ?? first)) break;
    }
  }
  return { mask };
}

/** "HH:MM" (or "H:MM") → minutes since midnight; 24:00 only as an end. */
function parseTime(text: string, isEnd: boolean): number | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (match === null) return undefined;
  const [hours, minutes] = [Number(match[1]), Number(match[2])];
  if (minutes > 59) return undefined;
  if (hours === 24 && minutes === 0 && isEnd) return DAY_MINUTES;
  return hours <= 23 ? hours * 60 + minutes : undefined;
}

function parseRange(text: string): { start: number; end: number } | { problem: string } {
  const ends = text.split('-').map((s) => s.trim());
  if (ends.length !== 2) return { problem: `${JSON.stringify(text)} is not a time range: two times such as 22:00-06:00` };
  const [startText, endText] = ends as [string, string];
  const start = parseTime(startText, false);
  if (start === undefined) return { problem: `${JSON.stringify(startText)} is not a time: HH:MM from 00:00 to 23:59` };
  const end = parseTime(endText, true);
  if (end === undefined) return { problem: `${JSON.stringify(endText)} is not a time: HH:MM from 00:00 to 24:00` };
  if (start === end) return { problem: `${JSON.stringify(text)} starts and ends at the same time; for whole days give the days alone, such as "Sat,Sun"` };
  return { start, end };
}

/** Read one window as written in the config. */
export function parseWindow(text: string): WindowParse {
  const trimmed = text.trim();
  const fail = (problem: string): WindowParse => ({ ok: false, problem: `${JSON.stringify(text)} is not a time window: ${problem}` });
  if (trimmed === '') return fail('it is empty');
  // The days come first and hold no digit; the time range starts at the first digit.
  const firstDigit = trimmed.search(/\d/);
  const daysText = (firstDigit === -1 ? trimmed : trimmed.slice(0, firstDigit)).trim();
  const rangeText = firstDigit === -1 ? '' : trimmed.slice(firstDigit).trim();
  let days = ALL_DAYS;
  if (daysText !== '') {
    const parsed = parseDays(daysText);
    if ('problem' in parsed) return fail(parsed.problem);
    days = parsed.mask;
  }
  if (rangeText === '') return { ok: true, window: { text: trimmed, days, start: 0, end: DAY_MINUTES } };
  const range = parseRange(rangeText);
  if ('problem' in range) return fail(range.problem);
  return { ok: true, window: { text: trimmed, days, start: range.start, end: range.end } };
}

const hasDay = (window: TimeWindow, weekday: number): boolean => (window.days & (1 << weekday)) !== 0;

/** Whether the wall-clock moment (weekday, minute) is inside `window`. */
function insideWindow(window: TimeWindow, weekday: number, minute: number): boolean {
  if (window.start < window.end) return hasDay(window, weekday) && minute >= window.start && minute < window.end;
  // Crosses midnight: the evening of one of its days, or the morning after one.
  return (hasDay(window, weekday) && minute >= window.start) || (hasDay(window, (weekday + 6) % 7) && minute < window.end);
}

/** True when there are no windows (no restriction) or `ms` is inside one of them. */
export function insideWindows(windows: readonly TimeWindow[], ms: number, timezone: string): boolean {
  if (windows.length === 0) return true;
  const { weekday, minute } = wallClock(ms, timezone);
  return windows.some((window) => insideWindow(window, weekday, minute));
}

/** Minutes of the day at which some window may open or close (midnight always: the day changes). */
function boundaryMinutes(windows: readonly TimeWindow[]): number[] {
  const minutes = new Set<number>([0]);
  for (const window of windows) minutes.add(window.start).add(window.end % DAY_MINUTES);
  return [...minutes].sort((a, b) => a - b);
}

/**
 * The next instant after `fromMs` at which the wall clock reaches a boundary minute, or jumps (a change of UTC offset:
 * DST). Within one offset the wall clock runs with real time, so the next boundary is found in local terms.
 */
function nextBoundaryMs(boundaries: readonly number[], fromMs: number, timezone: string): number {
  const offset = utcOffsetMinutes(fromMs, timezone);
  const localMs = fromMs + offset * MINUTE_MS;
  const dayStart = Math.floor(localMs / DAY_MS) * DAY_MS;
  const later = boundaries.map((m) => dayStart + m * MINUTE_MS).find((ms) => ms > localMs) ?? dayStart + DAY_MS + boundaries[0]! * MINUTE_MS;
  const candidate = later - offset * MINUTE_MS;
  if (utcOffsetMinutes(candidate, timezone) === offset) return candidate;
  // The offset changes before the candidate: find the change to the second (zones change on whole seconds).
  let low = Math.floor(fromMs / 1000);
  let high = Math.ceil(candidate / 1000);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (utcOffsetMinutes(middle * 1000, timezone) === offset) low = middle;
    else high = middle;
  }
  return Math.max(high * 1000, fromMs + 1);
}

/** Windows repeat every week; a search longer than this finds no change (the windows cover all time). */
const SEARCH_HORIZON_MS = 8 * DAY_MS;

/**
 * When `windows` next open (if `nowMs` is outside them) or close (if inside): the first instant after `nowMs` at which
 * insideWindows changes. Undefined without windows, or when they cover every moment. The clock is read as it shows:
 * a window that starts in the hour skipped in spring opens when the clock jumps past its start, and a window within
 * the hour repeated in autumn is open on both passes.
 */
export function nextWindowChangeMs(windows: readonly TimeWindow[], nowMs: number, timezone: string): number | undefined {
  if (windows.length === 0) return undefined;
  const boundaries = boundaryMinutes(windows);
  const inside = insideWindows(windows, nowMs, timezone);
  for (let at = nowMs; at <= nowMs + SEARCH_HORIZON_MS; ) {
    at = nextBoundaryMs(boundaries, at, timezone);
    if (insideWindows(windows, at, timezone) !== inside) return at;
  }
  return undefined;
}

/**
 * When a run that falls due at `ms` can start: then, inside the windows (or without any), else when they next open (a
 * trigger outside them waits, src/scheduler/run-gate.ts). Undefined when they never open.
 */
export function runnableFromMs(windows: readonly TimeWindow[], ms: number, timezone: string): number | undefined {
  return insideWindows(windows, ms, timezone) ? ms : nextWindowChangeMs(windows, ms, timezone);
}

/** "Mon 22:00": a moment as the zone's wall clock shows it, for "next opens …". */
export function formatWallClock(ms: number, timezone: string): string {
  const { weekday, minute } = wallClock(ms, timezone);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${SHORT_DAY_NAMES[weekday]!} ${pad(Math.floor(minute / 60))}:${pad(minute % 60)}`;
}
