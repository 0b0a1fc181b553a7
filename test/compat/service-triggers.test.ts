// The scenarios of test/integration/service-triggers.test.ts (issue 12 cases 3 and 6, issue 13 case 3) on whatever
// rclone RBM_TEST_RCLONE names: CI runs this file with Debian's rclone 1.60.
import { test } from 'node:test';
import { serviceSuite } from '../helpers/service-env.js';
import { dryRunThenPlainSync, refusedRunRetried, slowConfigWriter } from '../helpers/trigger-scenarios.js';

const suite = serviceSuite();
const { skip } = suite;

test('issue 12.3 on this rclone: {dry_run, force} then an ordinary Sync → a dry run and a plain run, no remote file deleted', { skip }, (t) =>
  dryRunThenPlainSync(t, suite, { dryRun: true, force: true }));

test('issue 12.3 on this rclone: {dry_run, resync} then an ordinary Sync → a dry resync and a plain run', { skip }, (t) => dryRunThenPlainSync(t, suite, { dryRun: true, resync: true }));

test('issue 12.6 on this rclone: a slowly written config never puts a cut path in force', { skip }, (t) => slowConfigWriter(t, suite));

test('issue 13.3 on this rclone: a run refused by a one-shot run is recorded and retried', { skip }, (t) => refusedRunRetried(t, suite));
