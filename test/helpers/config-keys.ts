// Shared by the tests of one group of config keys (alerts, watch, run conditions): a two-job config to put keys into,
// and the located issues a bad one gets.
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/parse.js';
import { ConfigError, formatIssue } from '../../src/errors.js';
import type { Config } from '../../src/config/types.js';

export const FILE = '/home/u/.config/rclone-bisync-manager/config.yaml';
export const parse = (text: string): Config => parseConfig(text, { file: FILE, home: '/home/u' });

/** Line 1 is local_base_path; `top` starts at line 2; the job's own keys start at line 8 + the lines of `top`. */
export const config = (top = '', jobBody = ''): string =>
  `local_base_path: /home/u/Sync\n${top}sync_jobs:\n  docs:\n    local: docs\n    rclone_remote: gdrive\n    remote: Documents\n    schedule: "*/15 * * * *"\n${jobBody}  photos:\n    local: photos\n    rclone_remote: gdrive\n    remote: Photos\n    schedule: "0 3 * * *"\n`;

export function issuesOf(text: string): string[] {
  try {
    parse(text);
  } catch (e: unknown) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map(formatIssue);
  }
  assert.fail('the config was accepted');
}
