// The vocabulary of run conditions (issue 17), pure: what a job asks for (parsed from the config by src/config/parse.ts),
// the facts of the machine they are judged against, and the verdict. The facts are a structural subset of the system-bus
// monitor's SystemFacts, so the service hands those over as they are.
import type { NetworkFacts, PowerFacts } from '../sysbus/facts.js';

/** `avoid`: no run while NetworkManager says the connection is metered (yes or guess-yes; unknown is not metered). */
export type MeteredPolicy = 'allow' | 'avoid';
/** `full`: a run only while NetworkManager's Connectivity is full (no captive portal, not limited). */
export type NetworkPolicy = 'any' | 'full';
/** `ac`: only on mains power; `battery-above`: on mains, or on battery while its charge is above `percent`. */
export type PowerPolicy = { kind: 'any' } | { kind: 'ac' } | { kind: 'battery-above'; percent: number };
/** What happens to a running sync when its window ends or the connection turns metered (./evaluate.ts midRunAction). */
export type MidRunPolicy = 'stop' | 'finish';

/** One time window: days (bit d set = weekday d, 0 = Sunday) and a wall-clock range in minutes since midnight. */
export interface TimeWindow {
  /** As written in the config (trimmed), for messages. */
  text: string;
  days: number;
  /** 0–1439. */
  start: number;
  /** 1–1440; below `start` when the window crosses midnight (it then ends on the day after each of its days). */
  end: number;
}

/** A job's run conditions, the global ones merged in key by key. */
export interface RunConditions {
  metered: MeteredPolicy;
  power: PowerPolicy;
  network: NetworkPolicy;
  /** Empty: any time. */
  windows: readonly TimeWindow[];
  midRun: MidRunPolicy;
}

/**
 * The facts the conditions read: the system-bus monitor's own (src/sysbus/facts.ts, the one definition), of which the
 * network's state is not needed, so the service hands SystemFacts over as they are.
 */
export interface ConditionFacts {
  network: Pick<NetworkFacts, 'available' | 'connectivity' | 'metered'>;
  power: PowerFacts;
}

/** The conditions, in the order they are judged (and the first unmet one is the `waiting` text). */
export type ConditionName = 'window' | 'network' | 'metered' | 'power';

export interface UnmetCondition {
  condition: ConditionName;
  /** What `rbmctl status` shows after "waiting: ", e.g. "on battery". */
  text: string;
}

/** A condition whose fact the machine cannot give: it counts as met. */
export interface UnavailableCondition {
  condition: ConditionName;
  /** Why, e.g. "NetworkManager is not on the system bus". */
  why: string;
}

export type ConditionsVerdict =
  | { met: true; unavailable: readonly UnavailableCondition[] }
  | {
      met: false;
      /** The first unmet condition's text: "on battery", "outside its time window (next opens Mon 22:00)", … */
      waiting: string;
      /** Every unmet condition, in the order of ConditionName. */
      unmet: readonly UnmetCondition[];
      unavailable: readonly UnavailableCondition[];
    };
