// The watch-off alert (issue 16): a job whose sync on change stopped at an inotify limit is announced once, with the
// watcher's message (the sysctl to raise); root-gone and a watch that works are not announced.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchOffEvent } from '../../src/alerts/events.js';
import { alertStatus } from '../helpers/alert-status.js';

const MESSAGE = 'Watching /home/u/docs needs more inotify watches than allowed (one per folder): raise fs.inotify.max_user_watches (sysctl -w fs.inotify.max_user_watches=524288, and in /etc/sysctl.d/ to keep it). The job runs on its schedule until then.';

test('a watch turning failed is one event with the message and the status command', () => {
  const status = { ...alertStatus('docs'), watch: { state: 'failed' as const, message: MESSAGE } };
  const event = watchOffEvent(status, 'watching');
  assert.deepEqual(
    event && { kind: event.kind, slot: event.slot, summary: event.summary, body: event.body, hint: event.hint, urgency: event.urgency, actions: event.actions },
    { kind: 'watch-off', slot: 'watch', summary: 'docs: sync on change is off', body: MESSAGE, hint: 'rbmctl status docs', urgency: 1, actions: ['details'] },
  );
  assert.equal(watchOffEvent(status, undefined)?.kind, 'watch-off', 'also when the watch failed before the alerts saw it');
});

test('no event while it stays failed, for root-gone, watching, off, or no watch at all', () => {
  const failed = { ...alertStatus('docs'), watch: { state: 'failed' as const, message: MESSAGE } };
  assert.equal(watchOffEvent(failed, 'failed'), undefined);
  for (const state of ['root-gone', 'watching', 'starting', 'off'] as const) {
    assert.equal(watchOffEvent({ ...alertStatus('docs'), watch: { state, message: 'x' } }, 'watching'), undefined, state);
  }
  assert.equal(watchOffEvent(alertStatus('docs'), 'watching'), undefined);
});
