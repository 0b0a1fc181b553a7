// No resync drops a version (issue 12 case 4, case 6 in part), on Debian's rclone 1.60 (the compat run sets
// RBM_TEST_RCLONE to it): the cases of test/integration/run-resync-guard.test.ts, local↔local and local↔sftp.
import '../integration/run-resync-guard.test.js';
