// Triggers that mean what they asked for, a config file applied only when complete, refused runs recorded and retried
// (issue 12 cases 3 and 6, issue 13 case 3): the real service over a private bus with the current rclone. The same
// scenarios run on Debian's rclone 1.60 in test/compat/service-triggers.test.ts.
import { test } from 'node:test';
import { serviceSuite } from '../helpers/service-env.js';
import { dryRunThenPlainSync, refusedRunRetried, slowConfigWriter } from '../helpers/trigger-scenarios.js';

const suite = serviceSuite();
const { skip } = suite;

test('issue 12.3: Sync {dry_run, force} then an ordinary Sync while the job runs: a dry run and a plain run, no remote file deleted', { skip }, (t) =>
  dryRunThenPlainSync(t, suite, { dryRun: true, force: true }));

test('issue 12.3: Sync {dry_run, resync} then an ordinary Sync while the job runs: a dry resync and a plain run, no real resync', { skip }, (t) =>
  dryRunThenPlainSync(t, suite, { dryRun: true, resync: true }));

test('issue 12.6: a config written slowly in place, cut inside a path: no run uses a cut path, the final file is applied', { skip }, (t) => slowConfigWriter(t, suite));

test('issue 13.3: a run refused because rbmctl sync --standalone held the job is recorded (history, JobFinished) and retried', { skip }, (t) => refusedRunRetried(t, suite));
