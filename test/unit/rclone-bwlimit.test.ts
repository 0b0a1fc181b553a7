// The --bwlimit check (src/rclone/bwlimit.ts): it accepts what both rclone 1.60 and 1.75 take and refuses the rest,
// per the table in test/helpers/bwlimit-cases.ts (which the integration and compat tests hold against the real binaries),
// and it names the part that is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BWLIMIT_EXPECTED, bwlimitProblem, isBwlimitOption } from '../../src/rclone/bwlimit.js';
import { BWLIMIT_CASES } from '../helpers/bwlimit-cases.js';

test('accepted exactly when both rclone versions take the value (and a few Go float oddities are refused)', () => {
  const wrong = BWLIMIT_CASES.filter((c) => (bwlimitProblem(c.value) === undefined) !== c.ours).map((c) => JSON.stringify(c.value));
  assert.deepEqual(wrong, []);
  for (const c of BWLIMIT_CASES) if (c.ours) assert.ok(c.v160 && c.v175, `${c.value}: the check never accepts what an rclone refuses`);
  assert.ok(BWLIMIT_CASES.filter((c) => c.ours).length >= 30 && BWLIMIT_CASES.filter((c) => !c.ours).length >= 40);
});

test('the message names the part that is wrong', () => {
  const problem = (value: unknown): string | undefined => bwlimitProblem(value)?.replace(` (expected ${BWLIMIT_EXPECTED})`, '');
  assert.equal(problem('25:00,512k 19:00,off'), '"25:00,512k 19:00,off" is not a bandwidth limit: "25:00" is not a time: hours go from 00 to 23');
  assert.equal(problem('08:60,1M'), '"08:60,1M" is not a bandwidth limit: "08:60" is not a time: minutes go from 00 to 59');
  assert.equal(problem('8:00,1M'), '"8:00,1M" is not a bandwidth limit: "8:00" is not a time: HH:MM, two digits each');
  assert.equal(problem('08:00,512q'), '"08:00,512q" is not a bandwidth limit: "512q" is not a rate: a number of KiB/s, or one with a unit B, K, M, G, T or P, or off');
  assert.equal(problem('08:00,-5'), '"08:00,-5" is not a bandwidth limit: "-5" is not a rate: it is negative');
  assert.equal(problem('08:00,'), '"08:00," is not a bandwidth limit: the rate is empty');
  assert.equal(problem('10M:'), '"10M:" is not a bandwidth limit: "10M:" is not a rate: a side of UPLOAD:DOWNLOAD is empty');
  assert.equal(problem('10M:1M:1M'), '"10M:1M:1M" is not a bandwidth limit: "10M:1M:1M" is not a rate: one rate, or two as UPLOAD:DOWNLOAD');
  assert.equal(problem('Mo-08:00,1M'), '"Mo-08:00,1M" is not a bandwidth limit: "Mo" is not a day: Mon, Tue, Wed, Thu, Fri, Sat, Sun, or the full name');
  assert.equal(problem('Mon-Fri-08:00,1M'), '"Mon-Fri-08:00,1M" is not a bandwidth limit: "Mon-Fri-08:00" is not a time or a DAY-HH:MM: one day per entry, such as Mon-08:00');
  assert.equal(problem('08:00,512k,1'), '"08:00,512k,1" is not a bandwidth limit: "08:00,512k,1" is not an entry TIME,RATE such as "08:00,512k" or "Mon-08:00,512k"');
  assert.equal(problem(' 08:00,512k'), '" 08:00,512k" is not a bandwidth limit: a blank at the start or the end, or two blanks in a row, which rclone 1.60 refuses');
  assert.equal(problem(''), '"" is not a bandwidth limit: it is empty');
  assert.equal(problem(-3), '-3 is not a bandwidth limit: it is negative');
  assert.equal(problem(true), 'this option needs one value');
  assert.equal(problem(null), 'this option needs one value');
  assert.equal(problem(['1M', '2M']), 'this option needs one value');
  assert.equal(problem(512), undefined);
  assert.equal(problem(false), undefined, 'false removes a limit set at a lower level');
});

test('the timetable flags, in any spelling', () => {
  assert.deepEqual(['bwlimit', 'bwlimit_file', 'bwlimit-file', 'bw_limit', 'max_delete'].map(isBwlimitOption), [true, true, true, false, false]);
});
