// Judging run conditions (src/conditions/evaluate.ts): each condition's fact and its `waiting` text, the order in which
// they are judged, facts the machine cannot give (counted as met and listed), and what a change during a run does to it
// on each rclone version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { askedConditions, earliestWindowChangeMs, evaluateConditions, factsMatter, hasConditions, midRunAction, midRunDecision, needsSystemFacts, NO_CONDITIONS, unavailableText } from '../../src/conditions/evaluate.js';
import { stopsGracefully } from '../../src/rclone/caps.js';
import { stopPolicyFor } from '../../src/run/rules/stop-policy.js';
import { parseWindow } from '../../src/conditions/windows.js';
import type { ConditionFacts, ConditionsVerdict, RunConditions, TimeWindow } from '../../src/conditions/types.js';

/** Monday 2026-03-02 12:00 UTC. */
const NOON_MONDAY = Date.UTC(2026, 2, 2, 12, 0);

const GOOD: ConditionFacts = {
  network: { available: true, connectivity: 'full', metered: false },
  power: { available: true, onBattery: false, batteryPercent: 80 },
};
const NO_BUS: ConditionFacts = {
  network: { available: false, connectivity: 'unknown', metered: undefined },
  power: { available: false, onBattery: false, batteryPercent: undefined },
};

function facts(network: Partial<ConditionFacts['network']> = {}, power: Partial<ConditionFacts['power']> = {}): ConditionFacts {
  return { network: { ...GOOD.network, ...network }, power: { ...GOOD.power, ...power } };
}

function window(text: string): TimeWindow {
  const parsed = parseWindow(text);
  assert.ok(parsed.ok);
  return parsed.window;
}

const EVERY: RunConditions = { metered: 'avoid', power: { kind: 'ac' }, network: 'full', windows: [window('22:00-06:00')], midRun: 'stop' };
const conditions = (own: Partial<RunConditions>): RunConditions => ({ ...NO_CONDITIONS, ...own });
const judge = (c: RunConditions, f: ConditionFacts, now = NOON_MONDAY): ConditionsVerdict => evaluateConditions(c, f, now, 'UTC');
const waiting = (verdict: ConditionsVerdict): string | undefined => (verdict.met ? undefined : verdict.waiting);

test('no conditions: a job runs whatever the machine says, and nothing is reported unavailable', () => {
  assert.deepEqual(judge(NO_CONDITIONS, NO_BUS), { met: true, unavailable: [] });
  assert.deepEqual(judge(NO_CONDITIONS, facts({ metered: true, connectivity: 'none' }, { onBattery: true, batteryPercent: 3 })), { met: true, unavailable: [] });
});

test('every condition met: the job runs', () => {
  assert.deepEqual(judge({ ...EVERY, windows: [window('10:00-14:00')] }, GOOD), { met: true, unavailable: [] });
});

test('metered: yes and guess-yes (true) wait; no, guess-no (false) run', () => {
  const avoid = conditions({ metered: 'avoid' });
  assert.deepEqual(judge(avoid, facts({ metered: true })), { met: false, waiting: 'metered connection', unmet: [{ condition: 'metered', text: 'metered connection' }], unavailable: [] });
  assert.equal(judge(avoid, facts({ metered: false })).met, true);
  assert.equal(judge(conditions({ metered: 'allow' }), facts({ metered: true })).met, true);
});

test('network full: portal, limited and none wait; full runs', () => {
  const full = conditions({ network: 'full' });
  for (const connectivity of ['portal', 'limited', 'none'] as const) assert.equal(waiting(judge(full, facts({ connectivity }))), 'network not fully connected', connectivity);
  assert.equal(judge(full, facts({ connectivity: 'full' })).met, true);
});

test('power ac: on battery waits, whatever the charge; on mains runs', () => {
  const ac = conditions({ power: { kind: 'ac' } });
  assert.equal(waiting(judge(ac, facts({}, { onBattery: true, batteryPercent: 100 }))), 'on battery');
  assert.equal(waiting(judge(ac, facts({}, { onBattery: true, batteryPercent: undefined }))), 'on battery', 'the charge does not matter');
  assert.equal(judge(ac, facts({}, { onBattery: false, batteryPercent: 2 })).met, true);
});

test('power battery_above_N: on battery only while the charge is above N; on mains always', () => {
  const above30 = conditions({ power: { kind: 'battery-above', percent: 30 } });
  assert.equal(waiting(judge(above30, facts({}, { onBattery: true, batteryPercent: 25.7 }))), 'on battery at 25% (runs above 30%)');
  assert.equal(waiting(judge(above30, facts({}, { onBattery: true, batteryPercent: 30 }))), 'on battery at 30% (runs above 30%)', 'exactly N is not above it');
  assert.equal(judge(above30, facts({}, { onBattery: true, batteryPercent: 30.5 })).met, true);
  assert.equal(judge(above30, facts({}, { onBattery: false, batteryPercent: 5 })).met, true);
});

test('a time window: outside, the text says when it next opens in the service\'s zone', () => {
  const night = conditions({ windows: [window('Mon 22:00-06:00')] });
  assert.equal(waiting(judge(night, GOOD)), 'outside its time window (next opens Mon 22:00)');
  assert.equal(waiting(evaluateConditions(night, GOOD, NOON_MONDAY, 'Asia/Tokyo')), 'outside its time window (next opens Mon 22:00)', 'Monday 21:00 in Tokyo');
  const tuesdayNoon = NOON_MONDAY + 86_400_000;
  assert.equal(waiting(judge(night, GOOD, tuesdayNoon)), 'outside its time window (next opens Mon 22:00)', 'a week ahead');
  assert.equal(judge(night, GOOD, Date.UTC(2026, 2, 3, 5, 59)).met, true, 'Tuesday 05:59 is inside Monday night');
});

test('the order: time window, network, metered, power; waiting names the first, unmet lists them all', () => {
  const worst = facts({ connectivity: 'limited', metered: true }, { onBattery: true });
  assert.deepEqual(judge(EVERY, worst), {
    met: false,
    waiting: 'outside its time window (next opens Mon 22:00)',
    unmet: [
      { condition: 'window', text: 'outside its time window (next opens Mon 22:00)' },
      { condition: 'network', text: 'network not fully connected' },
      { condition: 'metered', text: 'metered connection' },
      { condition: 'power', text: 'on battery' },
    ],
    unavailable: [],
  });
  const inWindow = Date.UTC(2026, 2, 2, 23, 0);
  assert.equal(waiting(judge(EVERY, worst, inWindow)), 'network not fully connected');
  assert.equal(waiting(judge(EVERY, facts({ metered: true }, { onBattery: true }), inWindow)), 'metered connection');
  assert.equal(waiting(judge(EVERY, facts({}, { onBattery: true }), inWindow)), 'on battery');
});

test('no system bus: every condition that needs it counts as met and is listed once, with why', () => {
  const inWindow = Date.UTC(2026, 2, 2, 23, 0);
  const verdict = judge(EVERY, NO_BUS, inWindow);
  assert.deepEqual(verdict, {
    met: true,
    unavailable: [
      { condition: 'network', why: 'NetworkManager is not on the system bus' },
      { condition: 'metered', why: 'NetworkManager is not on the system bus' },
      { condition: 'power', why: 'UPower is not on the system bus' },
    ],
  });
  assert.equal(
    unavailableText(verdict.unavailable),
    'run conditions not available here (counted as met): network (NetworkManager is not on the system bus), metered (NetworkManager is not on the system bus), power (UPower is not on the system bus)',
  );
  assert.equal(unavailableText([]), undefined);
  const outside = judge(EVERY, NO_BUS);
  assert.equal(waiting(outside), 'outside its time window (next opens Mon 22:00)', 'a window needs no bus: it still holds');
  assert.equal(outside.unavailable.length, 3);
});

test('facts NetworkManager or UPower do not know count as met and are listed', () => {
  const verdict = judge(
    conditions({ metered: 'avoid', network: 'full', power: { kind: 'battery-above', percent: 50 } }),
    facts({ metered: undefined, connectivity: 'unknown' }, { onBattery: true, batteryPercent: undefined }),
  );
  assert.deepEqual(verdict, {
    met: true,
    unavailable: [
      { condition: 'network', why: 'NetworkManager does not know the connectivity (its check is off)' },
      { condition: 'metered', why: 'NetworkManager does not know whether the connection is metered' },
      { condition: 'power', why: 'UPower reports no battery charge' },
    ],
  });
  const mixed = judge(conditions({ metered: 'avoid', power: { kind: 'ac' } }), facts({ metered: undefined }, { onBattery: true }));
  assert.deepEqual(mixed, { met: false, waiting: 'on battery', unmet: [{ condition: 'power', text: 'on battery' }], unavailable: [{ condition: 'metered', why: 'NetworkManager does not know whether the connection is metered' }] });
});

const V160 = { version: '1.60.1' };
const V165 = { version: '1.65.2' };
const V166 = { version: '1.66.0' };
const V175 = { version: '1.75.2' };

test('mid-run: stop gracefully where rclone can (>= 1.66), finish where a stop would force a resync (1.60)', () => {
  assert.deepEqual([V160, V165, V166, V175].map((caps) => midRunAction('stop', caps)), ['finish', 'finish', 'stop', 'stop']);
  assert.deepEqual([V160, V165, V166, V175].map((caps) => midRunAction('finish', caps)), ['finish', 'finish', 'finish', 'finish']);
  assert.equal(midRunAction('stop', V175, { resync: true }), 'finish', 'a resync would start over: it finishes');
  assert.equal(midRunAction(NO_CONDITIONS.midRun, V175), 'stop', 'the default is stop');
});

test('mid-run decision: a window end or a metered switch stops (or finishes); battery and connectivity let the run go on', () => {
  const night = { ...EVERY, windows: [window('22:00-06:00')] };
  const inWindow = Date.UTC(2026, 2, 2, 23, 0);
  const afterWindow = Date.UTC(2026, 2, 3, 6, 0);
  assert.deepEqual(midRunDecision(night, judge(night, GOOD, inWindow), V175), { action: 'continue' });
  assert.deepEqual(midRunDecision(night, judge(night, GOOD, afterWindow), V175), { action: 'stop', reason: 'its time window ended' });
  assert.deepEqual(midRunDecision(night, judge(night, GOOD, afterWindow), V160), { action: 'finish', reason: 'its time window ended' });
  assert.deepEqual(midRunDecision(night, judge(night, facts({ metered: true }), inWindow), V175), { action: 'stop', reason: 'metered connection' });
  assert.deepEqual(midRunDecision({ ...night, midRun: 'finish' }, judge(night, facts({ metered: true }), inWindow), V175), { action: 'finish', reason: 'metered connection' });
  assert.deepEqual(midRunDecision(night, judge(night, facts({ connectivity: 'limited' }, { onBattery: true }), inWindow), V175), { action: 'continue' });
  assert.deepEqual(midRunDecision(night, judge(night, facts({ metered: true }), inWindow), V175, { resync: true }), { action: 'finish', reason: 'metered connection' });
});

test('one rule for "rclone stops gracefully": the stop policy sends SIGTERM exactly where a window end stops the run', () => {
  for (const caps of [V160, V165, V166, V175]) {
    const graceful = stopsGracefully(caps);
    assert.equal(stopPolicyFor(caps).signal === 'SIGTERM', graceful, caps.version);
    assert.equal(midRunAction('stop', caps), graceful ? 'stop' : 'finish', caps.version);
  }
  assert.deepEqual([V160, V165, V166, V175].map(stopsGracefully), [false, false, true, true]);
});

test('askedConditions / needsSystemFacts: a window needs only the clock, the others the system bus', () => {
  assert.deepEqual(askedConditions(EVERY), ['window', 'network', 'metered', 'power']);
  assert.deepEqual(askedConditions(NO_CONDITIONS), []);
  assert.equal(needsSystemFacts(conditions({ windows: [window('Sat,Sun')] })), false);
  assert.equal(needsSystemFacts(NO_CONDITIONS), false);
  for (const own of [{ metered: 'avoid' }, { power: { kind: 'battery-above', percent: 40 } }, { network: 'full' }] as Partial<RunConditions>[]) {
    assert.equal(needsSystemFacts(conditions(own)), true, JSON.stringify(own));
  }
});

test('hasConditions: only a job that asks for something is judged', () => {
  assert.equal(hasConditions(NO_CONDITIONS), false);
  assert.equal(hasConditions({ ...NO_CONDITIONS, midRun: 'finish' }), false, 'mid_run alone asks for nothing');
  for (const own of [{ metered: 'avoid' }, { power: { kind: 'ac' } }, { network: 'full' }, { windows: [window('Sat,Sun')] }] as Partial<RunConditions>[]) {
    assert.equal(hasConditions(conditions(own)), true, JSON.stringify(own));
  }
});

test('factsMatter: a change of the facts concerns only the jobs whose conditions read that fact', () => {
  const charge = facts({}, { onBattery: true, batteryPercent: 40 });
  const lower = facts({}, { onBattery: true, batteryPercent: 39 });
  assert.equal(factsMatter(conditions({ power: { kind: 'battery-above', percent: 30 } }), charge, lower), true);
  assert.equal(factsMatter(conditions({ power: { kind: 'ac' } }), charge, lower), false, 'ac reads OnBattery only');
  assert.equal(factsMatter(conditions({ power: { kind: 'ac' } }), GOOD, charge), true);
  assert.equal(factsMatter(conditions({ metered: 'avoid' }), GOOD, facts({ metered: true })), true);
  assert.equal(factsMatter(conditions({ metered: 'avoid' }), GOOD, facts({ connectivity: 'limited' })), false);
  assert.equal(factsMatter(conditions({ network: 'full' }), GOOD, facts({ connectivity: 'limited' })), true);
  assert.equal(factsMatter(conditions({ network: 'full' }), GOOD, facts({ metered: true })), false);
  assert.equal(factsMatter(EVERY, GOOD, NO_BUS), true, 'the bus going away concerns every condition that reads it');
  assert.equal(factsMatter(conditions({ windows: [window('Sat,Sun')] }), GOOD, NO_BUS), false, 'windows read no fact');
  assert.equal(factsMatter(NO_CONDITIONS, GOOD, NO_BUS), false);
});

test('earliestWindowChangeMs: one timer for all jobs, at the earliest opening or closing', () => {
  const night = conditions({ windows: [window('22:00-06:00')] });
  const office = conditions({ windows: [window('Mon-Fri 09:00-17:00')] });
  assert.equal(earliestWindowChangeMs([night, office, NO_CONDITIONS], NOON_MONDAY, 'UTC'), Date.UTC(2026, 2, 2, 17, 0), 'the office window closes first');
  assert.equal(earliestWindowChangeMs([night, NO_CONDITIONS], NOON_MONDAY, 'UTC'), Date.UTC(2026, 2, 2, 22, 0));
  assert.equal(earliestWindowChangeMs([NO_CONDITIONS, conditions({ metered: 'avoid' })], NOON_MONDAY, 'UTC'), undefined, 'no windows, no timer');
  assert.equal(earliestWindowChangeMs([], NOON_MONDAY, 'UTC'), undefined);
});
