// Issue 13 cases 4–7 on Debian's rclone 1.60 (the same scenarios as test/integration/failures.test.ts; where a case
// needs a flag 1.60 lacks, the scenario checks what a 1.60 user gets instead).
import { registerFailureCases } from '../helpers/failure-cases.js';

registerFailureCases();
