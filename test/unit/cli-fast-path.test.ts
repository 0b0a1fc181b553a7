// rbmctl's plain read-only forms (`status`, `status JOB`, `jobs`, each with or without --json) skip yargs
// (src/cli/main.ts fastReadCommand). Each form must give exactly what yargs gives: the same argv plus an option that
// only yargs handles (`--timeout 25`, the default) is the reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { fastReadCommand, main } from '../../src/cli/main.js';
import { RbmError } from '../../src/errors.js';
import type { JobView, RbmClient, StatusView } from '../../src/dbus/client.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

function jobView(name: string, patch: Partial<JobView> = {}): JobView {
  return {
    name, path: `/io/github/rbmanager/RcloneBisyncManager1/job/${name}`, state: 'idle', paused: false, local: `/home/u/${name}`,
    remote: `remote:${name}`, schedule: '*/5 * * * *', active: true, dry_run: false, last_result: 'success', last_message: 'done',
    last_error: '', last_run_id: 7n, last_run_usec: BigInt(NOW - 60_000) * 1000n, last_finished_usec: BigInt(NOW - 50_000) * 1000n,
    next_run_usec: BigInt(NOW + 240_000) * 1000n, current_run_id: 0n, needs_resync: false, needs_approval: false, hash_warning: false,
    cpu_limit_applied: true, ...patch,
  };
}

const STATUS: StatusView = {
  state: 'running', version: '0.1.0', config_path: '/home/u/.config/rclone-bisync-manager/config.yaml', config_error: '',
  rclone_version: '1.75.2', running_jobs: [], queued_jobs: [],
  jobs: [jobView('photos'), jobView('docs', { needs_approval: true, state: 'needs-approval', last_result: 'needs-approval' })],
};

async function rbmctl(argv: string[], fail?: RbmError) {
  let stdout = '';
  let stderr = '';
  const calls: string[] = [];
  const client = {
    status: () => {
      calls.push('status');
      return fail ? Promise.reject(fail) : Promise.resolve(STATUS);
    },
    close: () => undefined,
  } as unknown as RbmClient;
  const stdin = new PassThrough();
  stdin.end('');
  const code = await main(
    argv,
    { stdout: { write: (t: string) => (stdout += t), isTTY: false }, stderr: { write: (t: string) => (stderr += t) }, stdin, env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/fake' } },
    { connect: () => Promise.resolve(client), now: () => NOW },
  );
  return { code, stdout, stderr, calls };
}

test('only the plain read-only forms are taken without yargs', () => {
  assert.deepEqual(fastReadCommand(['status']), { command: 'status', job: undefined, json: false, short: false });
  assert.deepEqual(fastReadCommand(['status', 'photos', '--json']), { command: 'status', job: 'photos', json: true, short: false });
  assert.deepEqual(fastReadCommand(['--json', 'jobs']), { command: 'jobs', job: undefined, json: true, short: false });
  assert.deepEqual(fastReadCommand(['status', '--short']), { command: 'status', job: undefined, json: false, short: true });
  assert.deepEqual(fastReadCommand(['status', 'photos', '--short']), { command: 'status', job: 'photos', json: false, short: true });
  for (const argv of [[], ['status', '--help'], ['status', '-h'], ['status', 'a', 'b'], ['status', '--', 'x'], ['status', '--json', '--json'], ['jobs', 'x'], ['sync'], ['history'], ['--version'], ['status', '--timeout', '5'], ['status', '--json=true'], ['status', '--short', '--short'], ['jobs', '--short'], ['status', '--short=true']]) {
    assert.equal(fastReadCommand(argv), undefined, argv.join(' '));
  }
});

test('each plain form prints exactly what the yargs path prints, with the same exit code', async () => {
  for (const argv of [['status'], ['status', '--json'], ['status', 'docs'], ['status', 'docs', '--json'], ['jobs'], ['--json', 'jobs'], ['status', 'nosuch'], ['status', '--short'], ['status', 'photos', '--short']]) {
    const fast = await rbmctl(argv);
    const parsed = await rbmctl([...argv, '--timeout', '25']);
    assert.deepEqual(fast, parsed, argv.join(' '));
    assert.deepEqual(fast.calls, ['status'], `${argv.join(' ')} asked the service once`);
  }
  // A name no job can have is refused by the one request parser before anything is asked, on both paths.
  for (const argv of [['status', '../x'], ['status', ''], ['status', 'x'.repeat(65)], ['status', 'a\u0007b']]) {
    const fast = await rbmctl(argv);
    const parsed = await rbmctl([...argv, '--timeout', '25']);
    assert.deepEqual(fast, parsed, argv.join(' '));
    assert.equal(fast.code, 2, argv.join(' '));
    assert.deepEqual(fast.calls, [], `${JSON.stringify(argv)} never reached the service`);
    assert.match(fast.stderr, /^rbmctl: job: /);
  }
  // --short is one line of text: with --json it is a usage error on both paths, before anything is asked.
  for (const argv of [['status', '--short', '--json'], ['status', 'docs', '--json', '--short']]) {
    const fast = await rbmctl(argv);
    const parsed = await rbmctl([...argv, '--timeout', '25']);
    assert.deepEqual(fast, parsed, argv.join(' '));
    assert.equal(fast.code, 2, argv.join(' '));
    assert.deepEqual(fast.calls, [], argv.join(' '));
    assert.match(fast.stderr, /^rbmctl: --short prints one line of text: it does not go with --json\n/);
  }
  const unknown = await rbmctl(['status', 'nosuch']);
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /no job named 'nosuch'/);
});

test('errors on the plain forms are reported as on every other path', async () => {
  // (A service that is not running falls back to the state directory on both paths: test/unit/cli-main.test.ts.)
  const timeout = new RbmError('Internal', 'no reply from the service within 25 s', { hint: 'Check the service: systemctl --user status rclone-bisync-manager' });
  const fast = await rbmctl(['status'], timeout);
  const parsed = await rbmctl(['status', '--timeout', '25'], timeout);
  assert.deepEqual(fast, parsed);
  assert.equal(fast.code, 70);
  assert.match(fast.stderr, /^rbmctl: no reply from the service within 25 s\nCheck the service/);
});
