// Catch-up runs on the real service process with the current rclone (issue 16 point 4 "must show": NetworkManager
// State going to connected and logind PrepareForSleep(false) trigger catch-up runs; issue 17 point 6: no system bus).
// The same scenarios run on Debian's rclone 1.60 in test/compat/catch-up-service.test.ts.
import { test } from 'node:test';
import { networkBackRetriesAtOnce, noSystemBus, resumeRunsMissedSlot, suspendDuringRun } from '../helpers/catch-up-scenarios.js';
import { serviceSuite } from '../helpers/service-env.js';
import { systemBusSkip } from '../helpers/system-bus.js';

const suite = serviceSuite();
const skip = suite.skip || systemBusSkip();
// The time limit only turns a wait that never ends into a failure; nothing is measured.
const options = { skip, timeout: 240_000 };

test('issue 16.4: the remote unreachable (sftp stopped) fails retryable with a 30 min backoff; server back, NetworkManager 20 → 70 → the job runs at once (trigger network) and syncs', options, (t) =>
  networkBackRetriesAtOnce(t, suite));

test('issue 16.4 / 17.5: a daily slot passed while asleep; PrepareForSleep(true) then (false) → the job runs with trigger resume, the job that missed nothing does not', options, (t) =>
  resumeRunsMissedSlot(t, suite));

test('issue 17.6: no system bus at all: the service starts and syncs (start-up run and a request), one line per missing part', { skip: suite.skip, timeout: 240_000 }, (t) => noSystemBus(t, suite));

test('issue 17.5: a suspend during a run that loses its remote (sftp stopped while asleep): retryable, then retried at the resume (trigger resume), the file whole, no lockout', options, (t) =>
  suspendDuringRun(t, suite));
