// Issue 17's mid-run cases on whatever rclone RBM_TEST_RCLONE names (CI runs this file with Debian's rclone 1.60),
// with the running rclone frozen (SIGSTOP) while the world changes: a metered switch or a window end lets the run
// finish on 1.60 (a signal would force a resync) and stops it gracefully on >= 1.66; a suspend never leaves it
// running. No lockout, nothing truncated, both sides equal (test/helpers/conditions-midrun.ts).
import { test } from 'node:test';
import { meteredDuringRun, sleepDuringFrozenRun, windowEndDuringRun } from '../helpers/conditions-midrun.js';
import { fakeClockSkip } from '../helpers/fake-wall-clock.js';
import { serviceSuite } from '../helpers/service-env.js';
import { systemBusSkip } from '../helpers/system-bus.js';

const suite = serviceSuite(['dbus-daemon', 'python3']);
const skip = suite.skip || systemBusSkip();
const options = { skip, timeout: 240_000 };

test('on this rclone: a metered switch while the bisync is frozen finishes it (1.60) or stops it gracefully (>= 1.66); no lockout, nothing truncated, converged', options, (t) => meteredDuringRun(t, suite));

test('on this rclone: a window end (fake clock) while the bisync is frozen finishes it (1.60) or stops it gracefully and the next window converges (>= 1.66)', { ...options, skip: skip || fakeClockSkip() }, (t) =>
  windowEndDuringRun(t, suite));

test('on this rclone: PrepareForSleep(true/false) around a frozen bisync: it ends as a success, not left running, no lockout', options, (t) => sleepDuringFrozenRun(t, suite));
