// Issue 15 on Debian's rclone 1.60 (the compat run sets RBM_TEST_RCLONE to it): the notification scenarios of
// test/integration/notifications.test.ts (approval and its recovery in dunst, "Sync now", 20 failing jobs, no server).
import '../integration/notifications.test.js';
