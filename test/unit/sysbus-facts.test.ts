// The reduction of NetworkManager / UPower property values to SystemFacts, and the changes worth a catch-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  UNKNOWN_FACTS,
  becameMetered,
  connectivityFrom,
  describeFacts,
  isOnline,
  meteredFrom,
  networkCameBack,
  networkFactsFrom,
  networkStateFrom,
  networkWentAway,
  powerFactsFrom,
  sameFacts,
  type SystemFacts,
} from '../../src/sysbus/facts.js';

function facts(network: Record<string, unknown> | undefined): SystemFacts {
  return { ...UNKNOWN_FACTS, network: network === undefined ? UNKNOWN_FACTS.network : networkFactsFrom(network) };
}

test('NMState numbers map to the states, disconnecting counts as disconnected, anything else is unknown', () => {
  const seen = [0, 10, 20, 30, 40, 50, 60, 70, 71, -1, '70', undefined, 70n].map(networkStateFrom);
  assert.deepEqual(seen, ['unknown', 'asleep', 'disconnected', 'disconnected', 'connecting', 'connected-local', 'connected-site', 'connected-global', 'unknown', 'unknown', 'unknown', 'unknown', 'connected-global']);
});

test('NMConnectivityState numbers map to the connectivity levels', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, undefined].map(connectivityFrom), ['unknown', 'none', 'portal', 'limited', 'full', 'unknown', 'unknown']);
});

test('Metered: yes and guess-yes are metered, no and guess-no are not, unknown or absent stays undefined', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, undefined].map(meteredFrom), [undefined, true, false, true, false, undefined, undefined]);
});

test('NetworkManager properties give available network facts; a template without Metered gives metered undefined', () => {
  assert.deepEqual(networkFactsFrom({ State: 60, Connectivity: 3, Metered: 3 }), { available: true, state: 'connected-site', connectivity: 'limited', metered: true });
  assert.deepEqual(networkFactsFrom({ State: 70, Connectivity: 4 }), { available: true, state: 'connected-global', connectivity: 'full', metered: undefined });
});

test('the display device gives a percentage only when it is a present battery, clamped to 0–100', () => {
  assert.deepEqual(powerFactsFrom({ OnBattery: true }, { IsPresent: true, Type: 2, Percentage: 15 }), { available: true, onBattery: true, batteryPercent: 15 });
  assert.equal(powerFactsFrom({ OnBattery: false }, { IsPresent: false, Type: 2, Percentage: 80 }).batteryPercent, undefined);
  assert.equal(powerFactsFrom({ OnBattery: false }, { IsPresent: true, Type: 3, Percentage: 80 }).batteryPercent, undefined, 'a UPS is not the machine battery');
  assert.equal(powerFactsFrom({ OnBattery: true }, {}).batteryPercent, undefined, 'an unreadable display device');
  assert.equal(powerFactsFrom({}, { IsPresent: true, Type: 2, Percentage: 100.4 }).batteryPercent, 100);
  assert.equal(powerFactsFrom({ OnBattery: 1 }, {}).onBattery, false, 'only a real boolean true means on battery');
});

test('online: connected-global, or connectivity full; never when NetworkManager is not there', () => {
  assert.equal(isOnline(networkFactsFrom({ State: 70, Connectivity: 3 })), true);
  assert.equal(isOnline(networkFactsFrom({ State: 60, Connectivity: 4 })), true);
  assert.equal(isOnline(networkFactsFrom({ State: 60, Connectivity: 3 })), false);
  assert.equal(isOnline(networkFactsFrom({ State: 20, Connectivity: 1 })), false);
  assert.equal(isOnline(UNKNOWN_FACTS.network), false);
});

test('networkCameBack: from below to connected-global or full, with NetworkManager there before and after', () => {
  const down = facts({ State: 20, Connectivity: 1 });
  const site = facts({ State: 60, Connectivity: 3 });
  const global = facts({ State: 70, Connectivity: 3 });
  const full = facts({ State: 60, Connectivity: 4 });
  assert.equal(networkCameBack(down, global), true);
  assert.equal(networkCameBack(site, full), true);
  assert.equal(networkCameBack(down, site), false, 'a local connection is not the network back');
  assert.equal(networkCameBack(global, full), false, 'already online');
  assert.equal(networkCameBack(facts(undefined), global), false, 'NetworkManager appearing is not the network coming back');
  assert.equal(networkCameBack(global, facts(undefined)), false);
});

test('networkWentAway and becameMetered are the transitions, not the states', () => {
  const up = facts({ State: 70, Connectivity: 4, Metered: 2 });
  const down = facts({ State: 20, Connectivity: 1, Metered: 2 });
  assert.equal(networkWentAway(up, down), true);
  assert.equal(networkWentAway(down, down), false);
  assert.equal(networkWentAway(up, facts(undefined)), false, 'NetworkManager going away says nothing about the network');
  assert.equal(becameMetered(up, facts({ State: 70, Connectivity: 4, Metered: 3 })), true);
  assert.equal(becameMetered(facts({ State: 70, Connectivity: 4, Metered: 1 }), facts({ State: 70, Connectivity: 4, Metered: 3 })), false);
  assert.equal(becameMetered(facts({ State: 70, Connectivity: 4, Metered: 1 }), up), false);
});

test('sameFacts compares every field', () => {
  const a = facts({ State: 70, Connectivity: 4, Metered: 2 });
  assert.equal(sameFacts(a, facts({ State: 70, Connectivity: 4, Metered: 2 })), true);
  assert.equal(sameFacts(a, facts({ State: 70, Connectivity: 4, Metered: 0 })), false);
  assert.equal(sameFacts(a, { ...a, power: { available: true, onBattery: false, batteryPercent: undefined } }), false);
  assert.equal(sameFacts(a, { ...a, sleep: { available: true } }), false);
});

test('describeFacts says what is known and what is missing', () => {
  assert.equal(describeFacts(UNKNOWN_FACTS), 'network unknown (no NetworkManager), power unknown (no UPower), sleep not watched (no logind)');
  const known: SystemFacts = { network: networkFactsFrom({ State: 70, Connectivity: 4, Metered: 1 }), power: { available: true, onBattery: true, batteryPercent: 15.4 }, sleep: { available: true } };
  assert.equal(describeFacts(known), 'network connected-global/full (metered), on battery 15%, sleep watched');
});
