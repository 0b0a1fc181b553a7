// The scenario of test/integration/hints-dbus.test.ts on whatever rclone RBM_TEST_RCLONE names: CI runs this file
// with Debian's rclone 1.60.
import { test } from 'node:test';
import { safetyAbortHintNamesTheJob } from '../helpers/hint-scenarios.js';
import { serviceSuite } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'busctl', 'gdbus', 'python3']);

test('on this rclone: a safety abort\'s hint over D-Bus names the job, never a literal JOB', { skip: suite.skip }, (t) => safetyAbortHintNamesTheJob(t, suite));
