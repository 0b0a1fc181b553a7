// Issue 17 through the real service process on rclone 1.75 (the mid-run cases, on both versions, are in
// conditions-midrun.test.ts): NetworkManager's Metered and UPower's OnBattery from python-dbusmock on a private
// system bus hold a start-up run (a non-manual trigger) and say why in Status(), the Job's Waiting property and `rbmctl status`; the
// change lets it run at once (JobStarted, no polling); a manual `rbmctl sync` runs anyway and `--respect-conditions`
// waits; no system bus at all: the conditions count as met, the status says which once, one log line.
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { serviceSuite } from '../helpers/service-env.js';
import { systemBusSkip } from '../helpers/system-bus.js';
import { treeHashes } from '../helpers/engine-env.js';
import { JOB, METERED_NO, METERED_YES, countStarted, finished, startConditionsWorld, started } from '../helpers/conditions-scenarios.js';

const suite = serviceSuite();
const skip = suite.skip || systemBusSkip();
// The limit only turns a wait that never ends into a failure; nothing is measured.
const options = { skip, timeout: 180_000 };
const STARTUP = 'run_initial_sync_on_startup: true';

test('Metered yes: the start-up run waits and says why (Status, Waiting, rbmctl status); Metered no: it runs at once', options, async (t) => {
  const w = await startConditionsWorld(t, suite, { job: '    run_conditions:\n      metered: avoid', globals: STARTUP, metered: METERED_YES });
  await w.waitsWith('metered connection');
  assert.equal(await w.client.getProperty('Waiting', JOB), 'metered connection', 'the Job object property');
  const table = await w.rbmctl(['status']);
  assert.match(table.stdout, /^docs: waiting: metered connection$/m, table.stdout + table.stderr);
  const one = await w.rbmctl(['status', JOB]);
  assert.match(one.stdout, /^waiting: +metered connection$/m, one.stdout);
  assert.equal(countStarted(w.signals), 0, 'nothing ran on the metered connection');
  assert.deepEqual(treeHashes(w.remote), {}, 'the remote is untouched');

  await w.setMetered(METERED_NO);
  const start = await w.until('JobStarted', started(1));
  const end = await w.until('JobFinished', finished(start.runId));
  assert.equal(end.result, 'success', w.daemonOutput());
  assert.equal(await w.waiting(), '');
  w.assertConverged('after the connection turned unmetered');
});

test('OnBattery with power: ac: the start-up run waits "on battery"; back on AC it runs', options, async (t) => {
  const w = await startConditionsWorld(t, suite, { job: '    run_conditions:\n      power: ac', globals: STARTUP, onBattery: true });
  await w.waitsWith('on battery');
  assert.equal(countStarted(w.signals), 0);
  await w.setOnBattery(false);
  const start = await w.until('JobStarted', started(1));
  assert.equal((await w.until('JobFinished', finished(start.runId))).result, 'success', w.daemonOutput());
  w.assertConverged('back on AC');
});

test('a manual rbmctl sync runs on a metered connection; --respect-conditions waits until it is unmetered', options, async (t) => {
  const w = await startConditionsWorld(t, suite, { job: '    run_conditions:\n      metered: avoid', metered: METERED_YES });
  const manual = await w.rbmctl(['sync', JOB, '--wait']);
  assert.equal(manual.code, 0, manual.stdout + manual.stderr);
  assert.equal(countStarted(w.signals), 1, 'the manual run ran anyway');
  w.assertConverged('after the manual run');

  writeFileSync(join(w.local, 'new.txt'), 'new\n');
  utimesSync(join(w.local, 'new.txt'), 1_700_000_100, 1_700_000_100);
  const queued = await w.rbmctl(['sync', JOB, '--respect-conditions']);
  assert.equal(queued.code, 0, queued.stdout + queued.stderr);
  assert.match(queued.stdout, /^queued: docs \(run \d+\)$/m);
  await w.waitsWith('metered connection');
  assert.equal(countStarted(w.signals), 1, 'the respecting run waits');
  await w.setMetered(METERED_NO);
  const start = await w.until('second JobStarted', started(2));
  assert.equal((await w.until('JobFinished', finished(start.runId))).result, 'success', w.daemonOutput());
  w.assertConverged('the respecting run synced new.txt');
});

test('no system bus at all: a job asking for metered and power runs (counted as met) and the log says so once', options, async (t) => {
  const w = await startConditionsWorld(t, suite, { job: '    run_conditions:\n      metered: avoid\n      power: ac', noSystemBus: true });
  // A run that respects the conditions, like a scheduled one (queued after the subscription).
  await w.client.sync([JOB], { respectConditions: true });
  const start = await w.until('JobStarted', started(1));
  assert.equal((await w.until('JobFinished', finished(start.runId))).result, 'success', w.daemonOutput());
  const said = w.daemonOutput().match(/run conditions not available here \(counted as met\): metered \(NetworkManager is not on the system bus\), power \(UPower is not on the system bus\)/g) ?? [];
  assert.equal(said.length, 1, w.daemonOutput());
  assert.equal(await w.waiting(), '');
  const note = 'run conditions not available here (counted as met): metered (NetworkManager is not on the system bus), power (UPower is not on the system bus)';
  assert.equal((await w.client.status()).jobs.find((j) => j.name === JOB)?.conditions_note, note, 'Status() says which and why');
  const one = await w.rbmctl(['status', JOB]);
  assert.ok(one.stdout.split('\n').some((line) => /^conditions: +/.test(line) && line.endsWith(note)), one.stdout);
  w.assertConverged('without a system bus');
});
