// rbmctl without the service, on the current rclone (the scenario: test/helpers/standalone-scenarios.ts; Debian's
// 1.60 runs it from test/compat/cli-standalone.test.ts).
import { test } from 'node:test';
import { serviceSuite } from '../helpers/service-env.js';
import { standaloneLikeService } from '../helpers/standalone-scenarios.js';

const suite = serviceSuite();
const { skip } = suite;

test('sync --standalone --json prints what the service path prints; history JOB and status work with the service stopped; next steps name the job', { skip }, (t) =>
  standaloneLikeService(t, suite));
