// Issue 13 cases 4–7 on the rclone of the full suite (1.75): the scenarios are in test/helpers/failure-cases.ts,
// shared with test/compat/failures.test.ts, which runs them on Debian's 1.60.
import { registerFailureCases } from '../helpers/failure-cases.js';

registerFailureCases();
