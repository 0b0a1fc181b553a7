// Approvals cover overwrites, on the rclone under test (RBM_TEST_RCLONE, 1.75 in the suite; the same scenarios run on
// 1.60 from test/compat/approval-overwrites.test.ts). local↔local and local↔sftp (a real `rclone serve sftp` on
// 127.0.0.1); both trees checked by sha256.
import { test } from 'node:test';
import { allFilesChangedNeedsApprovalOfItsOverwrites, deletesWithEditsNeedApprovalOfBoth, type PairKind } from '../helpers/overwrite-scenario.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

for (const kind of ['local', 'sftp'] as const satisfies readonly PairKind[]) {
  test(`${kind}: "all files were changed" parks with the 10 overwrites; an approval of a list that no longer matches parks again and overwrites nothing; approving the new list syncs`, async (t) => {
    const rclone = requireProgram(t, 'rclone', testRclone());
    if (rclone) await allFilesChangedNeedsApprovalOfItsOverwrites(t, rclone, kind);
  });

  test(`${kind}: too many deletes with edits: the approval covers the overwrites too, and one more edit parks again`, async (t) => {
    const rclone = requireProgram(t, 'rclone', testRclone());
    if (rclone) await deletesWithEditsNeedApprovalOfBoth(t, rclone, kind);
  });
}
