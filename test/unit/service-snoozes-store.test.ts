// The snooze store's edges (src/service/snoozes.ts): a snooze read back is never longer than Snooze allows, and a
// standalone run of another config does not forget the service's snoozes of jobs it does not know.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nullLogger } from '../../src/ports.js';
import { MAX_SNOOZE_SEC, createSnoozes, type SnoozeRecord, type SnoozeStore } from '../../src/service/snoozes.js';

function memoryStore(record: SnoozeRecord, prunes?: boolean): SnoozeStore & { saved: SnoozeRecord[] } {
  const saved: SnoozeRecord[] = [];
  return { load: () => record, save: (r) => void saved.push(r), saved, ...(prunes === undefined ? {} : { prunes }) };
}

const NOW = 1_700_000_000_000;
const DAY = 86_400_000;

test('a snooze read from the file ends at most 30 days from now (a clock set back, a hand-edited file)', () => {
  const store = memoryStore({ globalUntilMs: NOW + 400 * DAY, jobs: { docs: NOW + 365 * DAY, photos: NOW + DAY } });
  const snoozes = createSnoozes({ logger: nullLogger, now: () => NOW, store });
  assert.equal(MAX_SNOOZE_SEC, 30 * 86_400);
  assert.equal(snoozes.globalUntil(), NOW + 30 * DAY);
  assert.equal(snoozes.untilOf('photos'), NOW + 30 * DAY, 'the global snooze covers it');
  snoozes.unsnooze([]);
  const again = createSnoozes({ logger: nullLogger, now: () => NOW, store: memoryStore({ globalUntilMs: 0, jobs: { docs: NOW + 365 * DAY, photos: NOW + DAY } }) });
  assert.equal(again.untilOf('docs'), NOW + 30 * DAY);
  assert.equal(again.untilOf('photos'), NOW + DAY);
});

test('the service forgets the snoozes of jobs that left its config; a standalone run of another config does not', () => {
  const record = { globalUntilMs: 0, jobs: { docs: NOW + DAY, photos: NOW + DAY } };
  const service = memoryStore(record);
  createSnoozes({ logger: nullLogger, now: () => NOW, store: service }).keepOnly(['docs']);
  assert.deepEqual(service.saved, [{ globalUntilMs: 0, jobs: { docs: NOW + DAY } }]);

  const standalone = memoryStore(record, false);
  const snoozes = createSnoozes({ logger: nullLogger, now: () => NOW, store: standalone });
  snoozes.keepOnly(['other']);
  assert.deepEqual(standalone.saved, [], 'nothing forgotten, nothing written');
  snoozes.snooze(['other'], NOW + 2 * DAY);
  assert.deepEqual(standalone.saved.at(-1), { globalUntilMs: 0, jobs: { docs: NOW + DAY, photos: NOW + DAY, other: NOW + 2 * DAY } });
});
