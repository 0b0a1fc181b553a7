// Issue 13 on Debian's rclone 1.60 (CI runs this folder with RBM_TEST_RCLONE=/usr/bin/rclone): the same scenarios
// as the 1.75 integration file, which reads the rclone to use from RBM_TEST_RCLONE.
import '../integration/interrupts.test.js';
