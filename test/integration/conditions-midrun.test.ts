// Issue 17's mid-run cases on rclone 1.75 through the real service process, with the running rclone frozen (SIGSTOP)
// while the world changes, so the service's reaction is asserted before rclone can move on: a switch to a metered
// connection, a time window ending on a fake wall clock (libfaketime), PrepareForSleep(true/false). The same cases run
// on Debian's rclone 1.60 in test/compat/conditions-midrun.test.ts (test/helpers/conditions-midrun.ts).
import { test } from 'node:test';
import { meteredDuringRun, sleepDuringFrozenRun, windowEndDuringRun } from '../helpers/conditions-midrun.js';
import { fakeClockSkip } from '../helpers/fake-wall-clock.js';
import { serviceSuite } from '../helpers/service-env.js';
import { systemBusSkip } from '../helpers/system-bus.js';

const suite = serviceSuite();
const skip = suite.skip || systemBusSkip();
// The limit only turns a wait that never ends into a failure; nothing is measured.
const options = { skip, timeout: 240_000 };

test('a switch to metered while the bisync is frozen mid-transfer: one SIGTERM (pending while frozen), a graceful stop, no lockout, nothing truncated; it waits while metered, then runs as a bisync and converges', options, (t) =>
  meteredDuringRun(t, suite));

test('a time window ends (fake clock, the service\'s own window timer) while the bisync is frozen mid-transfer: a graceful stop, no lockout, nothing truncated; the next window runs it as a bisync and it converges', { ...options, skip: skip || fakeClockSkip() }, (t) =>
  windowEndDuringRun(t, suite));

test('PrepareForSleep(true) while the bisync is frozen, then thawed and PrepareForSleep(false): the run ends as a success, the job is not left running, no lockout, both sides equal', options, (t) =>
  sleepDuringFrozenRun(t, suite));
