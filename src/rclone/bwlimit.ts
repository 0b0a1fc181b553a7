// rclone's --bwlimit and --bwlimit-file values (pure): a rate ("512k", "10M:1M", "off") or a timetable of
// "HH:MM,RATE" / "DAY-HH:MM,RATE" entries ("08:00,512k 19:00,off", "Mon-08:00,512 Sat-10:00,off"). Checked when the
// config is read so that a typo is a located config error, not a failed run. The forms are the ones both rclone 1.60
// and 1.75 accept (measured with each binary; test/integration/bwlimit-rclone.test.ts keeps them in step); 1.60 is the
// stricter one about blanks, so entries are separated by exactly one space.

import { flagName } from './flags.js';

/** The option names whose value is a bandwidth timetable. */
const TIMETABLE_FLAGS: ReadonlySet<string> = new Set(['bwlimit', 'bwlimit-file']);

export const BWLIMIT_EXPECTED = 'a rate such as "512k", "10M", "off" or UPLOAD:DOWNLOAD "10M:1M", or a timetable such as "08:00,512k 19:00,off" or "Mon-08:00,512k Sat-10:00,off", entries separated by one space';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FULL_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
/** A number of KiB/s, or with a unit: B, K, M, G, T, P, E (any case), the binary ones also as Ki / KiB. */
const SIZE = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[bB]|[kKmMgGtTpPeE](?:i[bB]?)?)?$/;

/** True for the option keys (any spelling: bwlimit, bwlimit_file) whose value is a timetable. */
export function isBwlimitOption(key: string): boolean {
  return TIMETABLE_FLAGS.has(flagName(key));
}

function rateProblem(rate: string): string | undefined {
  const parts = rate.split(':');
  if (parts.length > 2) return `${JSON.stringify(rate)} is not a rate: one rate, or two as UPLOAD:DOWNLOAD`;
  const bad = parts.find((part) => part !== 'off' && !SIZE.test(part));
  if (bad === undefined) return undefined;
  if (bad === '') return parts.length === 1 ? 'the rate is empty' : `${JSON.stringify(rate)} is not a rate: a side of UPLOAD:DOWNLOAD is empty`;
  if (bad.startsWith('-')) return `${JSON.stringify(bad)} is not a rate: it is negative`;
  return `${JSON.stringify(bad)} is not a rate: a number of KiB/s, or one with a unit B, K, M, G, T or P, or off`;
}

function timeProblem(time: string): string | undefined {
  const match = /^(\d\d):(\d\d)$/.exec(time);
  if (match === null) return `${JSON.stringify(time)} is not a time: HH:MM, two digits each`;
  if (Number(match[1]) > 23) return `${JSON.stringify(time)} is not a time: hours go from 00 to 23`;
  if (Number(match[2]) > 59) return `${JSON.stringify(time)} is not a time: minutes go from 00 to 59`;
  return undefined;
}

function entryProblem(entry: string): string | undefined {
  const fields = entry.split(',');
  if (fields.length !== 2) return `${JSON.stringify(entry)} is not an entry TIME,RATE such as "08:00,512k" or "Mon-08:00,512k"`;
  const [when, rate] = fields as [string, string];
  const dash = when.split('-');
  if (dash.length > 2) return `${JSON.stringify(when)} is not a time or a DAY-HH:MM: one day per entry, such as Mon-08:00`;
  if (dash.length === 2) {
    const day = dash[0]!.toLowerCase();
    if (!DAYS.includes(day) && !FULL_DAYS.includes(day)) return `${JSON.stringify(dash[0])} is not a day: Mon, Tue, Wed, Thu, Fri, Sat, Sun, or the full name`;
  }
  return timeProblem(dash[dash.length - 1]!) ?? rateProblem(rate);
}

/** Why `value` is not a usable --bwlimit / --bwlimit-file value (the part that is wrong and why), or undefined. */
export function bwlimitProblem(value: unknown): string | undefined {
  if (typeof value === 'number') return value >= 0 && Number.isFinite(value) ? undefined : `${String(value)} is not a bandwidth limit: it is negative (expected ${BWLIMIT_EXPECTED})`;
  // false removes a limit set at a lower level (rclone/flags.ts); true, empty and a list would give rclone no rate.
  if (value === false) return undefined;
  if (typeof value !== 'string') return `this option needs one value (expected ${BWLIMIT_EXPECTED})`;
  const fail = (problem: string): string => `${JSON.stringify(value)} is not a bandwidth limit: ${problem} (expected ${BWLIMIT_EXPECTED})`;
  if (value === '') return fail('it is empty');
  if (!value.includes(' ') && !value.includes(',')) {
    const problem = rateProblem(value);
    return problem === undefined ? undefined : fail(problem);
  }
  const entries = value.split(' ');
  if (entries.includes('')) return fail('a blank at the start or the end, or two blanks in a row, which rclone 1.60 refuses');
  for (const entry of entries) {
    const problem = entryProblem(entry);
    if (problem !== undefined) return fail(problem);
  }
  return undefined;
}
