// Debian's rclone 1.60 (RBM_TEST_RCLONE in the compat run): the bwlimit values the config check accepts are ones it
// takes, and it refuses the extra blanks between entries that 1.75 takes (test/integration/bwlimit-rclone.test.ts runs the
// same cases on the modern rclone; the table is test/helpers/bwlimit-cases.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bwlimitMismatches } from '../helpers/bwlimit-cases.js';
import { rcloneVersion, requireProgram, testRclone } from '../helpers/tools.js';

test('every bwlimit case: this rclone accepts or refuses it as the table says, and never refuses what the check accepts', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (rclone === undefined) return;
  const { minor } = rcloneVersion(rclone);
  const dir = mkdtempSync(join(tmpdir(), 'rbm-bwlimit-'));
  try {
    writeFileSync(join(dir, 'rclone.conf'), '');
    assert.deepEqual(await bwlimitMismatches(rclone, minor, dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
