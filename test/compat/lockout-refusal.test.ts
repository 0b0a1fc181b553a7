// The lockout refusal of test/integration/lockout-refusal.test.ts on whatever rclone RBM_TEST_RCLONE names: CI runs
// this file with Debian's rclone 1.60.
import { test } from 'node:test';
import { lockoutRefusedEverywhere } from '../helpers/lockout-scenario.js';
import { serviceSuite } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'python3']);
const { skip } = suite;

test('on this rclone: a locked-out job is refused with the same words and next step through the service and without it', { skip }, (t) => lockoutRefusedEverywhere(t, suite));
