// Run ids across real processes sharing one state dir (the service and one-shot `rbmctl sync` do): reservations
// serialize on run-id.lock, so no id is handed out twice, and the durable mark covers every id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runIdPath } from '../../src/state/paths.js';
import { tempDir } from '../helpers/engine-env.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../fixtures/bin/allocate-run-ids.ts', import.meta.url));

test('three processes reserving small blocks at once never hand out the same id', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const count = 150;
  const outputs = await Promise.all([0, 1, 2].map(() => run(process.execPath, ['--import', 'tsx', script, stateDir, String(count), '2'])));
  const lists = outputs.map((o) => JSON.parse(o.stdout) as number[]);
  for (const ids of lists) {
    assert.equal(ids.length, count);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, 'each process hands out increasing ids');
  }
  const all = lists.flat();
  const seen = new Set(all);
  assert.equal(seen.size, all.length, `duplicates: ${all.filter((id, i) => all.indexOf(id) !== i).join(', ')}`);
  assert.ok(Number(readFileSync(runIdPath(stateDir), 'utf8').trim()) >= Math.max(...all), 'the stored mark covers every id');
});
