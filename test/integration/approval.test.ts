// Issue 12 on the rclone under test (RBM_TEST_RCLONE, 1.75 in the suite; the same scenarios run on 1.60 from
// test/compat/approval.test.ts): an approval is bound to the list it showed, and a parked job heals.
// local↔local and local↔sftp (a real `rclone serve sftp` on 127.0.0.1); both trees checked by sha256.
import { test } from 'node:test';
import { approvalBoundToWhatWasShown, approvedRunDeletesOnlyWhatIsStillGone, parkedJobHeals, partlyRestoredJobSyncsWithinLimits, type PairKind } from '../helpers/approval-scenario.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

for (const kind of ['local', 'sftp'] as const satisfies readonly PairKind[]) {
  test(`${kind}: approving the 12 shown deletes after 7 more parks again with 19; approving the 19 deletes them, the 20th file stays`, async (t) => {
    const rclone = requireProgram(t, 'rclone', testRclone());
    if (rclone) await approvalBoundToWhatWasShown(t, rclone, kind);
  });

  test(`${kind}: an approved run deletes only the approved files that are still gone`, async (t) => {
    const rclone = requireProgram(t, 'rclone', testRclone());
    if (rclone) await approvedRunDeletesOnlyWhatIsStillGone(t, rclone, kind);
  });

  test(`${kind}: a parked job updates its list on each trigger and heals once the files are back`, async (t) => {
    const rclone = requireProgram(t, 'rclone', testRclone());
    if (rclone) await parkedJobHeals(t, rclone, kind);
  });

  test(`${kind}: a parked job whose remaining deletes are within max_delete syncs them as an ordinary run, nothing else`, async (t) => {
    const rclone = requireProgram(t, 'rclone', testRclone());
    if (rclone) await partlyRestoredJobSyncsWithinLimits(t, rclone, kind);
  });
}
