// What the product needs to know about the machine, reduced from the raw properties of NetworkManager, UPower and
// logind on the system bus (docs/decisions.md "System bus monitor"). Pure: the adapter
// (src/platform/system-monitor.ts) reads the properties and hands them here; the numbers are NetworkManager's
// NMState / NMConnectivityState / NMMetered and UPower's device Type.

export type NetworkState = 'unknown' | 'disconnected' | 'connecting' | 'connected-local' | 'connected-site' | 'connected-global' | 'asleep';
export type Connectivity = 'unknown' | 'none' | 'portal' | 'limited' | 'full';

export interface NetworkFacts {
  /** NetworkManager answers on the system bus. */
  available: boolean;
  state: NetworkState;
  connectivity: Connectivity;
  /** yes and guess-yes → true; no and guess-no → false; unknown (or not published) → undefined. */
  metered: boolean | undefined;
}

export interface PowerFacts {
  /** UPower answers on the system bus. */
  available: boolean;
  onBattery: boolean;
  /** The display device's charge, 0–100; undefined when it is not a present battery. */
  batteryPercent: number | undefined;
}

export interface SleepFacts {
  /** logind answers on the system bus (PrepareForSleep will be heard). */
  available: boolean;
}

export interface SystemFacts {
  network: NetworkFacts;
  power: PowerFacts;
  sleep: SleepFacts;
}

/** Raw D-Bus property values by name (variants already unwrapped). */
export type RawProperties = Readonly<Record<string, unknown>>;

export const NETWORK_UNAVAILABLE: NetworkFacts = Object.freeze({ available: false, state: 'unknown', connectivity: 'unknown', metered: undefined });
export const POWER_UNAVAILABLE: PowerFacts = Object.freeze({ available: false, onBattery: false, batteryPercent: undefined });
export const SLEEP_UNAVAILABLE: SleepFacts = Object.freeze({ available: false });

/** Nothing known yet, or no system bus. */
export const UNKNOWN_FACTS: SystemFacts = Object.freeze({ network: NETWORK_UNAVAILABLE, power: POWER_UNAVAILABLE, sleep: SLEEP_UNAVAILABLE });

/** UPower's device Type for a battery (2); a UPS (3) or a mouse is not what the machine runs on. */
const UPOWER_TYPE_BATTERY = 2;

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

/** NMState by number; 30 (disconnecting) counts as disconnected: it is no longer usable. */
const NM_STATES: ReadonlyMap<number, NetworkState> = new Map([
  [10, 'asleep'],
  [20, 'disconnected'],
  [30, 'disconnected'],
  [40, 'connecting'],
  [50, 'connected-local'],
  [60, 'connected-site'],
  [70, 'connected-global'],
]);

/** NMConnectivityState by number. */
const NM_CONNECTIVITY: ReadonlyMap<number, Connectivity> = new Map([
  [1, 'none'],
  [2, 'portal'],
  [3, 'limited'],
  [4, 'full'],
]);

/** NMMetered by number: NetworkManager's docs say to treat guess-yes like yes and the rest as not metered; unknown (0) stays unknown. */
const NM_METERED: ReadonlyMap<number, boolean> = new Map([
  [1, true],
  [2, false],
  [3, true],
  [4, false],
]);

function lookUp<T>(table: ReadonlyMap<number, T>, value: unknown): T | undefined {
  const n = asNumber(value);
  return n === undefined ? undefined : table.get(n);
}

export function networkStateFrom(value: unknown): NetworkState {
  return lookUp(NM_STATES, value) ?? 'unknown';
}

export function connectivityFrom(value: unknown): Connectivity {
  return lookUp(NM_CONNECTIVITY, value) ?? 'unknown';
}

export function meteredFrom(value: unknown): boolean | undefined {
  return lookUp(NM_METERED, value);
}

/** From org.freedesktop.NetworkManager's properties (State, Connectivity, Metered). */
export function networkFactsFrom(props: RawProperties): NetworkFacts {
  return { available: true, state: networkStateFrom(props['State']), connectivity: connectivityFrom(props['Connectivity']), metered: meteredFrom(props['Metered']) };
}

/** From org.freedesktop.UPower's properties (OnBattery) and the display device's (IsPresent, Type, Percentage; empty when it could not be read). */
export function powerFactsFrom(upower: RawProperties, displayDevice: RawProperties): PowerFacts {
  const isBattery = displayDevice['IsPresent'] === true && asNumber(displayDevice['Type']) === UPOWER_TYPE_BATTERY;
  const percent = asNumber(displayDevice['Percentage']);
  return {
    available: true,
    onBattery: upower['OnBattery'] === true,
    batteryPercent: isBattery && percent !== undefined ? Math.min(100, Math.max(0, percent)) : undefined,
  };
}

/** The network is usable for a sync: connected to the internet, or NetworkManager's check says full. */
export function isOnline(network: NetworkFacts): boolean {
  return network.available && (network.state === 'connected-global' || network.connectivity === 'full');
}

/**
 * The network came back: NetworkManager answered before and after, and it went from not online to online (state
 * reached connected-global, or connectivity reached full). NetworkManager itself appearing is not a return: its
 * (re)start says nothing about the network, and a start-up catch-up is the service's own business.
 */
export function networkCameBack(before: SystemFacts, after: SystemFacts): boolean {
  return before.network.available && !isOnline(before.network) && isOnline(after.network);
}

/** The network went away (the opposite of networkCameBack): online before, answering but not online now. */
export function networkWentAway(before: SystemFacts, after: SystemFacts): boolean {
  return isOnline(before.network) && after.network.available && !isOnline(after.network);
}

/** Metered went from not true to true (a condition "not on a metered connection" stops holding). */
export function becameMetered(before: SystemFacts, after: SystemFacts): boolean {
  return before.network.metered !== true && after.network.metered === true;
}

export function sameNetwork(a: NetworkFacts, b: NetworkFacts): boolean {
  return a.available === b.available && a.state === b.state && a.connectivity === b.connectivity && a.metered === b.metered;
}

export function samePower(a: PowerFacts, b: PowerFacts): boolean {
  return a.available === b.available && a.onBattery === b.onBattery && a.batteryPercent === b.batteryPercent;
}

export function sameFacts(a: SystemFacts, b: SystemFacts): boolean {
  return sameNetwork(a.network, b.network) && samePower(a.power, b.power) && a.sleep.available === b.sleep.available;
}

/** One short line for the log and for a status: "network connected-global/full (metered), AC power, sleep watched". */
export function describeFacts(facts: SystemFacts): string {
  const { network, power, sleep } = facts;
  const net = network.available
    ? `network ${network.state}/${network.connectivity}${network.metered === undefined ? '' : network.metered ? ' (metered)' : ' (not metered)'}`
    : 'network unknown (no NetworkManager)';
  const percent = power.batteryPercent === undefined ? '' : ` ${Math.round(power.batteryPercent)}%`;
  const pow = power.available ? `${power.onBattery ? 'on battery' : 'AC power'}${percent}` : 'power unknown (no UPower)';
  const slp = sleep.available ? 'sleep watched' : 'sleep not watched (no logind)';
  return `${net}, ${pow}, ${slp}`;
}
