// Issue 17's mid-run case on whatever rclone RBM_TEST_RCLONE names (CI runs this file with Debian's rclone 1.60): a
// switch to a metered connection during a bisync lets the run finish on 1.60 (a signal would force a resync) and
// stops it gracefully on >= 1.66; no lockout, both sides equal (test/helpers/conditions-scenarios.ts).
import { test } from 'node:test';
import { meteredDuringRun } from '../helpers/conditions-scenarios.js';
import { serviceSuite } from '../helpers/service-env.js';
import { systemBusSkip } from '../helpers/system-bus.js';

const suite = serviceSuite(['dbus-daemon', 'python3']);
const skip = suite.skip || systemBusSkip();

test('on this rclone: a metered switch during a bisync finishes it (1.60) or stops it gracefully (>= 1.66); no lockout, converged', { skip, timeout: 180_000 }, (t) => meteredDuringRun(t, suite));
