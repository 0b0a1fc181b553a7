// Issue 14: hints over D-Bus name the job (JobFinished as gdbus monitor prints it, History as busctl returns it), with
// the current rclone; test/compat/hints-dbus.test.ts runs the same scenario on Debian's rclone 1.60.
import { test } from 'node:test';
import { safetyAbortHintNamesTheJob } from '../helpers/hint-scenarios.js';
import { serviceSuite } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'busctl', 'gdbus', 'python3']);

test('a safety abort\'s hint reaches JobFinished and History as "rbmctl approve photos-2024", never a literal JOB', { skip: suite.skip }, (t) => safetyAbortHintNamesTheJob(t, suite));
