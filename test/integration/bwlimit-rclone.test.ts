// The bwlimit values the config check accepts are ones the real rclone takes (here the suite's modern rclone; the
// same cases run on Debian's 1.60 in test/compat/bwlimit-rclone.test.ts), and the table of what each version does
// (test/helpers/bwlimit-cases.ts) is still true.
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
