// The one outcome table (src/api/outcomes.ts): one row per outcome, exit codes and error names from src/errors.ts
// and the documented tables, and the lists derived from it (state files, rbmctl's results, attention) accepting
// exactly its outcomes. The documents are read, not copied, so a row added or dropped on either side fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_TABLE, EXIT_OK, errorName, worstExitCode } from '../../src/errors.js';
import { OUTCOMES, OUTCOME_NAMES, exitCodeForOutcome, isOkOutcome, isOutcome, needsAttention, type Outcome } from '../../src/api/outcomes.js';
import { exitCodeForResult } from '../../src/cli/outcomes.js';
import { exitCodeForResult as oneShotExitCode } from '../../src/cli/outcomes.js';
import { initialJobState, parseJobState } from '../../src/run/rules/job-state.js';
import { PROJECT_ROOT } from '../../src/version.js';

const doc = (name: string): string => readFileSync(join(PROJECT_ROOT, name), 'utf8');

/** Names that are no outcome, including keys every object inherits (a lookup by `in` would accept them). */
const NOT_OUTCOMES = ['', 'never', 'succes', 'SUCCESS', 'success ', 'needs_resync', 'constructor', 'toString', '__proto__', 'hasOwnProperty'];

/** The rows of the markdown table under `heading` in `text`, as cells. */
function markdownTable(text: string, heading: string): string[][] {
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `no section ${heading}`);
  const rows: string[][] = [];
  for (const line of text.slice(start + heading.length + 2).split('\n')) {
    if (line.startsWith('|')) rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
    else if (rows.length > 0) break;
  }
  return rows.slice(2);
}

const backticked = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
const okOutcomes = (): string[] => OUTCOME_NAMES.filter(isOkOutcome).sort();

test('every outcome has exactly one row, and each row is complete', () => {
  assert.equal(new Set(OUTCOME_NAMES).size, OUTCOME_NAMES.length);
  assert.deepEqual([...OUTCOME_NAMES].sort(), Object.keys(OUTCOMES).sort());
  for (const o of OUTCOME_NAMES) {
    const row: { meaning: string; error: string | undefined; severity: number; attention: string | undefined } = OUTCOMES[o];
    assert.ok(row.meaning.length > 0, o);
    assert.ok(row.error === undefined || Object.hasOwn(ERROR_TABLE, row.error), `${o}: ${String(row.error)} is in src/errors.ts`);
    assert.ok(Number.isInteger(row.severity) && row.severity >= 0, o);
    assert.equal(row.severity === 0, row.error === undefined, `${o}: severity 0 exactly for ok outcomes`);
    assert.ok(row.attention === undefined || row.attention.length > 0, o);
  }
  assert.ok(Object.isFrozen(OUTCOMES) && Object.isFrozen(OUTCOME_NAMES));
});

test('the outcomes are the ones the D-Bus documents list as run results (a new outcome needs a row and a line there)', () => {
  const xml = doc('dbus/io.github.rbmanager.RcloneBisyncManager1.Manager.xml');
  const xmlList = /Run results:([\s\S]*?)\n\s*\n/.exec(xml)?.[1]?.split(/\s+/).filter((w) => w !== '') ?? [];
  assert.deepEqual(xmlList.filter((w) => w !== 'never').sort(), [...OUTCOME_NAMES].sort(), 'Manager.xml "Run results"');
  const dbusMd = /Run results \(`JobFinished\.result`[^:]*:([\s\S]*?)\(`never`/.exec(doc('docs/dbus.md'))?.[1] ?? '';
  assert.deepEqual(backticked(dbusMd).sort(), [...OUTCOME_NAMES].sort(), 'docs/dbus.md "Run results"');
  const engineRows = markdownTable(doc('docs/engine.md'), '## Outcomes').map((r) => backticked(r[0] ?? '')[0]);
  assert.deepEqual(engineRows.sort(), [...OUTCOME_NAMES].sort(), 'docs/engine.md "Outcomes"');
});

test('exit codes and D-Bus error names come from src/errors.ts and match the rbmctl exit code table', () => {
  const rows = markdownTable(doc('docs/rbmctl.md'), '## Exit codes');
  for (const o of OUTCOME_NAMES) {
    const code = OUTCOMES[o].error;
    if (code === undefined) {
      assert.equal(exitCodeForOutcome(o), EXIT_OK, o);
      continue;
    }
    assert.equal(exitCodeForOutcome(o), ERROR_TABLE[code][1], o);
    assert.equal(errorName(code), ERROR_TABLE[code][0], o);
    const documented = rows.find((r) => r[1] === code);
    assert.ok(documented, `docs/rbmctl.md has a row for ${code}`);
    assert.equal(Number(documented[0]), exitCodeForOutcome(o), `docs/rbmctl.md: ${o} exits ${documented[0]}`);
  }
  const zero = rows.find((r) => r[0] === '0');
  const zeroResults = (zero?.[2] ?? '').split('`sync --wait`:')[1] ?? '';
  assert.deepEqual(backticked(zeroResults).sort(), okOutcomes(), 'docs/rbmctl.md: the results that exit 0');
});

test('one-shot (rbmctl result codes) exits with the same codes, as docs/engine.md lists them', () => {
  const rows = markdownTable(doc('docs/engine.md'), '## One-shot exit codes (`rbmctl sync --standalone`)');
  assert.deepEqual(backticked(rows.find((r) => r[0] === '0')?.[1] ?? '').sort(), okOutcomes());
  const listed = new Set(rows.map((r) => Number(r[0])));
  for (const o of OUTCOME_NAMES) {
    assert.equal(oneShotExitCode(o), exitCodeForOutcome(o), o);
    assert.ok(listed.has(exitCodeForOutcome(o)), `docs/engine.md lists exit ${exitCodeForOutcome(o)} (${o})`);
  }
  const order = /the most serious code wins, in this order: ([\d, ]+)\./.exec(doc('docs/engine.md'))?.[1]?.split(', ').map(Number) ?? [];
  const ranked = OUTCOME_NAMES.filter((o) => !isOkOutcome(o)).sort((a, b) => OUTCOMES[b].severity - OUTCOMES[a].severity).map(exitCodeForOutcome);
  assert.deepEqual(order.filter((c) => ranked.includes(c)), ranked, 'the documented order agrees with the severities');
});

test('severity: of two outcomes, the more severe one decides the exit code of several runs', () => {
  const failing = OUTCOME_NAMES.filter((o) => !isOkOutcome(o));
  assert.equal(new Set(failing.map((o) => OUTCOMES[o].severity)).size, failing.length, 'no two error outcomes share a rank');
  for (const a of OUTCOME_NAMES) {
    for (const b of OUTCOME_NAMES) {
      if (OUTCOMES[a].severity <= OUTCOMES[b].severity) continue;
      assert.equal(worstExitCode([exitCodeForOutcome(b), exitCodeForOutcome(a)]), exitCodeForOutcome(a), `${a} over ${b}`);
      assert.equal(worstExitCode([exitCodeForOutcome(a), exitCodeForOutcome(b)]), exitCodeForOutcome(a), `${a} over ${b}`);
    }
  }
});

test('the ok outcomes', () => {
  assert.deepEqual(okOutcomes(), ['conflicts', 'dry-run', 'no-changes', 'success']);
});

test('needs attention: the outcomes a person must act on, and the job activities with their names', () => {
  assert.deepEqual(OUTCOME_NAMES.filter(needsAttention).sort(), ['check-failed', 'failed', 'needs-approval', 'needs-resync']);
  // The activities as docs/dbus.md lists them for the Job's State property.
  const states = /`State` \(`([^`]+)`\)/.exec(doc('docs/dbus.md'))?.[1]?.split(' ') ?? [];
  assert.equal(states.length, 8, states.join(' '));
  const waiting = states.filter((s) => needsAttention(s as Outcome));
  assert.deepEqual(waiting.sort(), ['check-failed', 'needs-approval', 'needs-resync']);
});

test('a state file is read back exactly when its last outcome is a row of the table or never', () => {
  for (const o of [...OUTCOME_NAMES, 'never']) assert.equal(parseJobState({ ...initialJobState(), lastOutcome: o })?.lastOutcome, o, o);
  for (const bad of NOT_OUTCOMES.filter((b) => b !== 'never')) assert.equal(parseJobState({ ...initialJobState(), lastOutcome: bad }), undefined, bad);
});

test("rbmctl's exit code of a run result is the table's; an unknown result counts as a failure", () => {
  for (const o of OUTCOME_NAMES) assert.equal(exitCodeForResult(o), exitCodeForOutcome(o), o);
  for (const bad of NOT_OUTCOMES) {
    assert.equal(isOutcome(bad), false, bad);
    assert.equal(exitCodeForResult(bad), ERROR_TABLE.RunFailed[1], bad);
  }
});
