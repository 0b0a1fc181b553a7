// rbmctl without the service on whatever rclone RBM_TEST_RCLONE names: CI runs this file with Debian's rclone 1.60
// (the scenario: test/helpers/standalone-scenarios.ts; the current rclone runs it from test/integration/).
import { test } from 'node:test';
import { serviceSuite } from '../helpers/service-env.js';
import { standaloneLikeService } from '../helpers/standalone-scenarios.js';

const suite = serviceSuite();
const { skip } = suite;

test('on this rclone: sync --standalone --json prints what the service path prints; history JOB and status work with the service stopped; next steps name the job', { skip }, (t) =>
  standaloneLikeService(t, suite));
