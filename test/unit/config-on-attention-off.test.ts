// A job turns the top-level on_attention off with `on_attention: []` or `on_attention: null` (its own command, if
// any, still wins); the top level itself still needs a command when the key is there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/parse.js';
import { ConfigError, formatIssue } from '../../src/errors.js';

const FILE = '/home/u/.config/rclone-bisync-manager/config.yaml';
const job = (name: string, own = ''): string => `  ${name}:\n    local: ${name}\n    rclone_remote: gdrive\n    remote: ${name}\n    schedule: "0 3 * * *"\n${own}`;
const text = (top: string, jobs: string): string => `local_base_path: /home/u/Sync\n${top}sync_jobs:\n${jobs}`;

test('on_attention: [] or null on a job turns the global command off for that job only', () => {
  const c = parseConfig(text('on_attention: [~/bin/alert]\n', job('docs', '    on_attention: []\n') + job('photos', '    on_attention:\n') + job('mail')), { file: FILE, home: '/home/u' });
  assert.deepEqual(c.jobs.map((j) => [j.name, j.alerts.onAttention]), [['docs', []], ['photos', []], ['mail', ['/home/u/bin/alert']]]);
});

test('at the top level an empty on_attention is still refused', () => {
  try {
    parseConfig(text('on_attention: []\n', job('docs')), { file: FILE, home: '/home/u' });
    assert.fail('accepted');
  } catch (e: unknown) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match(e.issues.map(formatIssue).join('\n'), /on_attention/);
  }
});
