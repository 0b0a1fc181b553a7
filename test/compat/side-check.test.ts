// Issue 12, cases 5 and 7, on Debian's rclone 1.60 (the compat run sets RBM_TEST_RCLONE to it): the scenarios of
// test/integration/side-check.test.ts. A missing drive is a check that waits, never a resync or a delete.
import '../integration/side-check.test.js';
