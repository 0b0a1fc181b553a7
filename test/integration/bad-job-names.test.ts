// Issue 14: one request parser answers the D-Bus and the CLI for bad job names. The real service process (real
// rclone, a first real sync done) on a private bus gets every bad name of test/helpers/bad-job-names.ts through
// busctl and gdbus processes (InvalidArgs, the message naming the argument and what is wrong), rbmctl gets exit 2
// with the same text (as a process, with the service and without it; in this process for the NUL no argv can
// carry), and afterwards nothing has changed: the home directory (config, state, listings), both trees, the job list.
import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { main } from '../../src/cli/main.js';
import { BAD_NAMES, TOO_MANY_NAMES, listEntryMessage, singleNameMessage, type BadName } from '../helpers/bad-job-names.js';
import { hashOf, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { run } from '../helpers/procs.js';
import { createServiceEnv, serviceSuite, statusMatching } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'busctl', 'gdbus', 'python3']);
const { rclone, skip } = suite;

const INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs';
const JOBS = ['photos', 'docs'];
const FILES = ['a.txt', 'sub/b.txt'];
const MTIME = 1_700_000_000;
const TOKEN = 'e'.repeat(64);

/** One Manager method with a bad name in the argument `argument`: its signature, arguments and the expected message. */
interface BadCall {
  member: string;
  signature: string;
  /** busctl's spelling of the arguments. */
  busctl: string[];
  /** gdbus's spelling (GVariant text). */
  gdbus: string[];
  message: string;
}

/** A GVariant text string literal (JSON's escapes are GVariant's for these names). */
const gv = (text: string): string => JSON.stringify(text);

function badCalls(bad: BadName): BadCall[] {
  const n = bad.name;
  const calls: BadCall[] = [
    { member: 'Sync', signature: 'asa{sv}', busctl: ['1', n, '0'], gdbus: [`[${gv(n)}]`, '{}'], message: listEntryMessage(bad, 'jobs') },
    { member: 'Pause', signature: 'as', busctl: ['2', 'photos', n], gdbus: [`['photos', ${gv(n)}]`], message: `jobs[1]: ${bad.problem}` },
    { member: 'Cancel', signature: 'as', busctl: ['1', n], gdbus: [`[${gv(n)}]`], message: listEntryMessage(bad, 'jobs') },
    { member: 'AddJob', signature: 'sa{sv}', busctl: [n, '0'], gdbus: [gv(n), '{}'], message: singleNameMessage(bad, 'name') },
    { member: 'RemoveJob', signature: 's', busctl: [n], gdbus: [gv(n)], message: singleNameMessage(bad, 'name') },
    { member: 'PendingDeletes', signature: 's', busctl: [n], gdbus: [gv(n)], message: singleNameMessage(bad, 'job') },
    { member: 'PendingOverwrites', signature: 'suu', busctl: [n, '0', '10'], gdbus: [gv(n), '0', '10'], message: singleNameMessage(bad, 'job') },
    { member: 'Approve', signature: 'ss', busctl: [n, TOKEN], gdbus: [gv(n), gv(TOKEN)], message: singleNameMessage(bad, 'job') },
  ];
  // History('') is every job's history (docs/dbus.md), not a name.
  if (n !== '') calls.push({ member: 'History', signature: 'su', busctl: [n, '5'], gdbus: [gv(n), '5'], message: singleNameMessage(bad, 'job') });
  return calls;
}

test('bad job names: InvalidArgs from the one parser over busctl, gdbus and rbmctl, and nothing changes', { skip }, async (t) => {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  const address = suite.bus().address;
  env.writeConfig(env.configText(JOBS.map((name) => ({ name }))));
  const sides = (job: string) => ({ local: join(env.syncRoot, 'local', job), remote: join(env.syncRoot, 'remote', job) });
  for (const job of JOBS) {
    writeFiles(sides(job).local, Object.fromEntries(FILES.map((f) => [f, `${job} ${f}\n`])));
    for (const f of FILES) utimesSync(join(sides(job).local, f), MTIME, MTIME);
  }
  env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  await env.notify.waitFor(statusMatching(/^2 jobs, idle$/));

  const rbmctl = (args: string[], processEnv = env.env) => run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], { cwd: PROJECT_ROOT, env: processEnv });
  const first = await rbmctl(['sync', ...JOBS, '--wait']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const expectedTree = (job: string) => Object.fromEntries(FILES.map((f) => [f, hashOf(`${job} ${f}\n`)]));
  for (const job of JOBS) {
    assert.deepEqual(treeHashes(sides(job).local), expectedTree(job), `${job} local after the first sync`);
    assert.deepEqual(treeHashes(sides(job).remote), expectedTree(job), `${job} remote after the first sync`);
  }

  const listJobs = async (): Promise<string> => {
    const r = await run('busctl', [`--address=${address}`, '--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'ListJobs']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const snapshot = async () => ({ home: treeHashes(env.home), trees: JOBS.map((job) => [treeHashes(sides(job).local), treeHashes(sides(job).remote)]), jobs: await listJobs() });
  const before = await snapshot();
  assert.ok(Object.keys(before.home).some((p) => p.includes('state')), 'the first sync left state to compare');

  // busctl: the message names the argument and what is wrong.
  for (const bad of BAD_NAMES.filter((b) => b.onBus)) {
    for (const call of badCalls(bad)) {
      const r = await run('busctl', [`--address=${address}`, 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, call.member, call.signature, ...call.busctl]);
      assert.notEqual(r.code, 0, `busctl ${call.member} ${bad.what}`);
      assert.ok(r.stderr.includes(call.message), `busctl ${call.member} ${bad.what}: ${r.stderr.slice(0, 300)}`);
    }
  }
  const tooMany = `jobs: ${TOO_MANY_NAMES.problem}`;
  for (const [member, signature, tail] of [['Sync', 'asa{sv}', ['0']], ['Pause', 'as', []]] as const) {
    const r = await run('busctl', [`--address=${address}`, 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, member, signature, String(TOO_MANY_NAMES.names.length), ...TOO_MANY_NAMES.names, ...tail]);
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.includes(tooMany), `busctl ${member} 10,000 names: ${r.stderr.slice(0, 300)}`);
  }

  // gdbus: the error name too.
  const gdbus = (member: string, args: string[]) => run('gdbus', ['call', '--address', address, '--dest', BUS_NAME, '--object-path', OBJECT_PATH, '--method', `${MANAGER_INTERFACE}.${member}`, ...args]);
  for (const bad of BAD_NAMES.filter((b) => b.onBus)) {
    for (const call of badCalls(bad)) {
      const r = await gdbus(call.member, call.gdbus);
      assert.notEqual(r.code, 0, `gdbus ${call.member} ${bad.what}`);
      assert.ok(r.stderr.includes(`GDBus.Error:${INVALID_ARGS}: ${call.message}`), `gdbus ${call.member} ${bad.what}: ${r.stderr.slice(0, 300)}`);
    }
  }
  const gdbusMany = await gdbus('Pause', [`[${TOO_MANY_NAMES.names.map(gv).join(', ')}]`]);
  assert.ok(gdbusMany.stderr.includes(`GDBus.Error:${INVALID_ARGS}: ${tooMany}`), gdbusMany.stderr.slice(0, 300));
  // A D-Bus string cannot hold a NUL: gdbus refuses to send it, so it never reaches the service at all.
  for (const bad of BAD_NAMES.filter((b) => !b.onBus)) {
    const r = await gdbus('Pause', [`[${gv(bad.name)}]`]);
    assert.notEqual(r.code, 0, `gdbus Pause ${bad.what}`);
    assert.ok(!r.stderr.includes('GDBus.Error:'), `no reply came from the service: ${r.stderr.slice(0, 300)}`);
  }

  // rbmctl as a process: exit 2 and exactly the service's message, for each command that takes a name.
  const rbmctlCases: [string[], (bad: BadName) => string][] = [
    [['sync'], (bad) => listEntryMessage(bad, 'jobs')],
    [['pause'], (bad) => listEntryMessage(bad, 'jobs')],
    [['history'], (bad) => singleNameMessage(bad, 'job')],
    [['remove-job'], (bad) => singleNameMessage(bad, 'name')],
    [['approve'], (bad) => singleNameMessage(bad, 'job')],
  ];
  for (const [i, bad] of BAD_NAMES.filter((b) => b.inArgv).entries()) {
    // Two commands per name (not all: each process costs a Node start-up), every command at least once.
    for (const [command, message] of [rbmctlCases[i % rbmctlCases.length]!, rbmctlCases[(i + 2) % rbmctlCases.length]!]) {
      const r = await rbmctl([...command, bad.name]);
      assert.equal(r.code, 2, `rbmctl ${command.join(' ')} ${bad.what}: ${r.stderr.slice(0, 300)}`);
      assert.equal(r.stderr, `rbmctl: ${message(bad)}\n`, `rbmctl ${command.join(' ')} ${bad.what}`);
    }
  }
  const rbmctlMany = await rbmctl(['pause', ...TOO_MANY_NAMES.names]);
  assert.equal(rbmctlMany.code, 2);
  assert.equal(rbmctlMany.stderr, `rbmctl: ${tooMany}\n`);
  // Without any service the answer is the same: rbmctl's own parser gave it.
  const alone = await rbmctl(['sync', '../x'], { ...env.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/rbm-no-bus' });
  assert.equal(alone.code, 2, alone.stderr);
  assert.equal(alone.stderr, `rbmctl: ${listEntryMessage(BAD_NAMES.find((b) => b.name === '../x')!, 'jobs')}\n`);

  // rbmctl's main() in this process for the names no argv can carry.
  for (const bad of BAD_NAMES.filter((b) => !b.inArgv)) {
    for (const [command, message] of rbmctlCases) {
      let stderr = '';
      const code = await main([...command, bad.name], { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) }, stdin: process.stdin, env: env.env });
      assert.equal(code, 2, `rbmctl ${command.join(' ')} ${bad.what}`);
      assert.equal(stderr, `rbmctl: ${message(bad)}\n`);
    }
  }

  assert.deepEqual(await snapshot(), before, 'no bad call changed the config, the state, the listings, the trees or the job list');
  const status = await rbmctl(['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^photos +idle/m);
});
