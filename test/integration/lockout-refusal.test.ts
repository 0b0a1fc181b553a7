// Issue 14 ("needs attention" decided once) on the rclone of the full suite (1.75): the scenario is in
// test/helpers/lockout-scenario.ts; test/compat/lockout-refusal.test.ts runs it on 1.60.
import { test } from 'node:test';
import { lockoutRefusedEverywhere } from '../helpers/lockout-scenario.js';
import { serviceSuite } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'python3']);
const { skip } = suite;

test('a locked-out job is refused with the same words and next step through the service and without it', { skip }, (t) => lockoutRefusedEverywhere(t, suite));
