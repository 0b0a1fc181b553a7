// Approvals cover overwrites on Debian's rclone 1.60 (the compat run sets RBM_TEST_RCLONE to it): the scenarios of
// test/integration/approval-overwrites.test.ts.
import '../integration/approval-overwrites.test.js';
