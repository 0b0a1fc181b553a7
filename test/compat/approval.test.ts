// Issue 12 on Debian's rclone 1.60 (the compat run sets RBM_TEST_RCLONE to it): the scenarios of
// test/integration/approval.test.ts. An approval is bound to the list it showed, and a parked job heals.
import '../integration/approval.test.js';
