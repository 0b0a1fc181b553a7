// Issue 13, kill -9 of the service mid-upload, on Debian's rclone 1.60 (same scenario as the 1.75 integration file).
import '../integration/interrupts-service.test.js';
