// Issue 12.8 on Debian's rclone 1.60 (the compatibility run): the same scenario as the integration file, whose
// 1.60 branch checks that no --compare is passed and that the job's note tells the truth.
import '../integration/checksum-compare.test.js';
