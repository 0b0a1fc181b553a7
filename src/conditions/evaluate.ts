// Judging a job's run conditions against the machine's facts (pure). A condition whose fact is not available counts
// as met and is listed, so a server without NetworkManager or UPower still syncs. Imports only the rule "this rclone
// stops gracefully" from src/rclone/caps.ts (the stop policy's own). How the service uses it (no polling):
//   - a trigger falls: hasConditions(job.runConditions) ? evaluateConditions(…, facts, clock now, the service's zone)
//     : run. Not met → keep the trigger pending and show `waiting: ${verdict.waiting}`; log unavailableText once;
//   - the system-bus monitor reports new facts: judge again the jobs for which factsMatter(conditions, before, after);
//   - one timer at earliestWindowChangeMs(all jobs' conditions, now, zone): judge the jobs with windows, re-arm;
//   - a job is running when its verdict changes: midRunDecision(conditions, verdict, the running rclone's caps,
//     { resync }) → stop (the stop policy's graceful SIGTERM; the trigger stays pending for the next window), finish,
//     or continue.

import { stopsGracefully } from '../rclone/caps.js';
import type { RcloneCapabilities } from '../config/types.js';
import { formatWallClock, insideWindows, nextWindowChangeMs } from './windows.js';
import type { ConditionFacts, ConditionName, ConditionsVerdict, MidRunPolicy, RunConditions, UnavailableCondition, UnmetCondition } from './types.js';

/** No condition: a job that says nothing runs whenever it is triggered; a window end lets a 1.60 run finish. */
export const NO_CONDITIONS: RunConditions = Object.freeze({ metered: 'allow', power: Object.freeze({ kind: 'any' }), network: 'any', windows: Object.freeze([]), midRun: 'stop' });

const NO_NETWORK_MANAGER = 'NetworkManager is not on the system bus';
const NO_UPOWER = 'UPower is not on the system bus';

interface Judged {
  unmet?: UnmetCondition;
  unavailable?: UnavailableCondition;
}

function judgeWindow(conditions: RunConditions, nowMs: number, timezone: string): Judged {
  if (insideWindows(conditions.windows, nowMs, timezone)) return {};
  const opens = nextWindowChangeMs(conditions.windows, nowMs, timezone);
  const when = opens === undefined ? '' : ` (next opens ${formatWallClock(opens, timezone)})`;
  return { unmet: { condition: 'window', text: `outside its time window${when}` } };
}

function judgeNetwork(conditions: RunConditions, facts: ConditionFacts): Judged {
  if (conditions.network === 'any') return {};
  const { network } = facts;
  if (!network.available) return { unavailable: { condition: 'network', why: NO_NETWORK_MANAGER } };
  if (network.connectivity === 'unknown') return { unavailable: { condition: 'network', why: 'NetworkManager does not know the connectivity (its check is off)' } };
  return network.connectivity === 'full' ? {} : { unmet: { condition: 'network', text: 'network not fully connected' } };
}

function judgeMetered(conditions: RunConditions, facts: ConditionFacts): Judged {
  if (conditions.metered === 'allow') return {};
  const { network } = facts;
  if (!network.available) return { unavailable: { condition: 'metered', why: NO_NETWORK_MANAGER } };
  // NetworkManager's "unknown" is not metered (its documentation says so); it is still said once.
  if (network.metered === undefined) return { unavailable: { condition: 'metered', why: 'NetworkManager does not know whether the connection is metered' } };
  return network.metered ? { unmet: { condition: 'metered', text: 'metered connection' } } : {};
}

function judgePower(conditions: RunConditions, facts: ConditionFacts): Judged {
  const { power: policy } = conditions;
  if (policy.kind === 'any') return {};
  const { power } = facts;
  if (!power.available) return { unavailable: { condition: 'power', why: NO_UPOWER } };
  if (!power.onBattery) return {};
  if (policy.kind === 'ac') return { unmet: { condition: 'power', text: 'on battery' } };
  if (power.batteryPercent === undefined) return { unavailable: { condition: 'power', why: 'UPower reports no battery charge' } };
  if (power.batteryPercent > policy.percent) return {};
  return { unmet: { condition: 'power', text: `on battery at ${Math.floor(power.batteryPercent)}% (runs above ${policy.percent}%)` } };
}

/**
 * Whether a run may start now. Judged in a fixed order (time window, network, metered, power); `waiting` is the first
 * unmet condition's text and `unmet` lists them all. `timezone` is the service's (LOCAL_TIMEZONE in the service).
 */
export function evaluateConditions(conditions: RunConditions, facts: ConditionFacts, nowMs: number, timezone: string): ConditionsVerdict {
  const judged = [judgeWindow(conditions, nowMs, timezone), judgeNetwork(conditions, facts), judgeMetered(conditions, facts), judgePower(conditions, facts)];
  const unmet = judged.flatMap((j) => (j.unmet === undefined ? [] : [j.unmet]));
  const unavailable = judged.flatMap((j) => (j.unavailable === undefined ? [] : [j.unavailable]));
  if (unmet.length === 0) return { met: true, unavailable };
  return { met: false, waiting: unmet[0]!.text, unmet, unavailable };
}

/** One line for the status and the log, said once: "run conditions not available here (counted as met): …". */
export function unavailableText(unavailable: readonly UnavailableCondition[]): string | undefined {
  if (unavailable.length === 0) return undefined;
  return `run conditions not available here (counted as met): ${unavailable.map((u) => `${u.condition} (${u.why})`).join(', ')}`;
}

/**
 * What a window end or a metered switch does to a running sync. `stop` (the default) stops it gracefully where rclone
 * can (>= 1.66: one SIGTERM, transfers in flight finish, the listings are saved) and lets it finish where a stop would
 * force a resync (1.60). A running resync always finishes: rclone ends it at once on a signal and the next run would
 * have to resync again from the start, so a window shorter than the resync would never see it done.
 */
export function midRunAction(policy: MidRunPolicy, caps: Pick<RcloneCapabilities, 'version'>, run: { resync?: boolean } = {}): 'stop' | 'finish' {
  if (policy === 'finish' || run.resync === true) return 'finish';
  return stopsGracefully(caps) ? 'stop' : 'finish';
}

/**
 * The conditions whose change stops a run (issue 17): the window's end and a metered connection, with what the run's
 * record says it was stopped for ("stopped for its run conditions (its time window ended)").
 */
const STOPPING: Readonly<Partial<Record<ConditionName, string>>> = Object.freeze({ window: 'its time window ended', metered: 'metered connection' });

export type MidRunDecision = { action: 'continue' } | { action: 'finish'; reason: string } | { action: 'stop'; reason: string };

/**
 * What the service does with a running sync after the conditions were judged again (`verdict`) during it: `continue`
 * when nothing that stops runs is unmet (a battery or a lost connection does not stop a run: rclone fails by itself
 * without a network), else `stop` or `finish` per midRunAction. `caps` are those of the rclone running the run (the
 * runner reports them when rclone starts). `reason` names the condition ("its time window ended", "metered
 * connection") for the log and the run's record.
 */
export function midRunDecision(conditions: RunConditions, verdict: ConditionsVerdict, caps: Pick<RcloneCapabilities, 'version'>, run: { resync?: boolean } = {}): MidRunDecision {
  if (verdict.met) return { action: 'continue' };
  const stopping = verdict.unmet.find((u) => STOPPING[u.condition] !== undefined);
  if (stopping === undefined) return { action: 'continue' };
  return { action: midRunAction(conditions.midRun, caps, run), reason: STOPPING[stopping.condition]! };
}

/**
 * The one table of which conditions a job asks for and which change of the facts concerns each (the window reads
 * only the clock). hasConditions, needsSystemFacts and factsMatter all read it.
 */
const CONDITIONS: Readonly<Record<ConditionName, { asked: (c: RunConditions) => boolean; changed?: (before: ConditionFacts, after: ConditionFacts, c: RunConditions) => boolean }>> = Object.freeze({
  window: { asked: (c) => c.windows.length > 0 },
  network: {
    asked: (c) => c.network !== 'any',
    changed: (b, a) => b.network.available !== a.network.available || b.network.connectivity !== a.network.connectivity,
  },
  metered: {
    asked: (c) => c.metered !== 'allow',
    changed: (b, a) => b.network.available !== a.network.available || b.network.metered !== a.network.metered,
  },
  power: {
    asked: (c) => c.power.kind !== 'any',
    // A battery percentage moving matters only to battery_above_N; `ac` reads OnBattery alone.
    changed: (b, a, c) => b.power.available !== a.power.available || b.power.onBattery !== a.power.onBattery || (c.power.kind === 'battery-above' && b.power.batteryPercent !== a.power.batteryPercent),
  },
});

const CONDITION_NAMES = Object.keys(CONDITIONS) as ConditionName[];

/** The conditions the job asks for, in the order they are judged. */
export function askedConditions(conditions: RunConditions): ConditionName[] {
  return CONDITION_NAMES.filter((name) => CONDITIONS[name].asked(conditions));
}

/** True when the job asks for any condition (a job without any is never judged, waits for nothing, and lists nothing). */
export function hasConditions(conditions: RunConditions): boolean {
  return askedConditions(conditions).length > 0;
}

/** True when a condition of the job needs NetworkManager or UPower (a window needs only the clock). */
export function needsSystemFacts(conditions: RunConditions): boolean {
  return askedConditions(conditions).some((name) => CONDITIONS[name].changed !== undefined);
}

/**
 * Whether a change of the facts from `before` to `after` can change this job's verdict, so that the service judges
 * again only the jobs a PropertiesChanged concerns (a battery percentage moving matters only to battery_above_N).
 */
export function factsMatter(conditions: RunConditions, before: ConditionFacts, after: ConditionFacts): boolean {
  return askedConditions(conditions).some((name) => CONDITIONS[name].changed?.(before, after, conditions) === true);
}

/** The one instant the service's window timer is armed for: the earliest window change of any job, or undefined. */
export function earliestWindowChangeMs(jobs: readonly RunConditions[], nowMs: number, timezone: string): number | undefined {
  let earliest: number | undefined;
  for (const conditions of jobs) {
    const next = nextWindowChangeMs(conditions.windows, nowMs, timezone);
    if (next !== undefined && (earliest === undefined || next < earliest)) earliest = next;
  }
  return earliest;
}
