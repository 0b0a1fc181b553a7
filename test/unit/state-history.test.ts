// The run history on disk (src/state/history.ts): a record written before hints were rendered when built (a literal
// JOB in its hint) reads back naming its job, so History over D-Bus and rbmctl never show the placeholder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistoryStore } from '../../src/state/history.js';
import { jobPaths } from '../../src/state/paths.js';
import { buildRunRecord } from '../../src/run/rules/run-record.js';
import { nullLogger } from '../../src/ports.js';

test('a stored record whose hint says JOB reads back with the job name; new records are stored rendered', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = createHistoryStore({ baseDir: dir, logger: nullLogger });
  const old = { ...buildRunRecord({ runId: 1, job: 'photos', outcome: 'needs-resync', message: 'locked out', startedMs: 1000 }), hint: 'Run rbmctl sync JOB --resync' };
  const path = jobPaths(dir, 'photos').history;
  mkdirSync(join(path, '..'), { recursive: true });
  appendFileSync(path, JSON.stringify(old) + '\n');
  store.append(buildRunRecord({ runId: 2, job: 'photos', outcome: 'needs-approval', message: 'safety abort', hint: 'Review with rbmctl approve JOB', startedMs: 2000 }));
  const [newest, older] = store.read('photos', 10);
  assert.equal(newest?.hint, 'Review with rbmctl approve photos');
  assert.equal(older?.hint, 'Run rbmctl sync photos --resync');
});
