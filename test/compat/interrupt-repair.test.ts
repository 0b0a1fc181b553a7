// The repair rules of issue 13 on Debian's rclone 1.60 (RBM_TEST_RCLONE=/usr/bin/rclone in CI).
import '../integration/interrupt-repair.test.js';
