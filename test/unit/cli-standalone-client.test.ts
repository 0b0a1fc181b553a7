// rbmctl's in-process client (src/cli/standalone.ts) is an adapter like the D-Bus one: what it passes to the
// ControlApi is parsed by the one request parser first, so a standalone run cannot do what the bus would refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RbmError } from '../../src/errors.js';
import { createInProcessClient } from '../../src/cli/standalone.js';
import { createFakeControl } from '../helpers/fake-control.js';

const invalidArgs = (pattern: RegExp) => (e: unknown) => e instanceof RbmError && e.code === 'InvalidArgs' && pattern.test(e.message);

test('force without named jobs, bad names and bad tokens are refused before the service is asked', async () => {
  const api = createFakeControl({ jobs: ['photos'] });
  const client = createInProcessClient(api, 'act');
  await assert.rejects(client.sync([], { force: true }), invalidArgs(/--force-bisync needs the jobs named/));
  await assert.rejects(client.sync(['../x'], {}), invalidArgs(/^jobs\[0\]: invalid job name/));
  await assert.rejects(client.approve('photos', ''), invalidArgs(/^token: expected the 64-character token/));
  await assert.rejects(client.approve('photos', 'z'.repeat(64)), invalidArgs(/^token:/));
  assert.deepEqual(api.calls.filter((c) => c.method === 'sync' || c.method === 'approve'), [], 'nothing reached the service');
  const ids = await client.sync(['photos', 'photos'], { force: true });
  assert.equal(ids.length, 1, 'a named job may be forced; duplicates queue once');
});
