// Hardening, hostile input: a seeded config fuzzer (mutations of examples/config.yaml) through parseConfig in-process
// and through a running service's Reload; a D-Bus fuzzer (random signatures, types and sizes) against the real service
// process; and hostile paths (spaces, quotes, unicode, leading dashes, `..`) checked in the argv rclone receives.
// Bounded: 2000 + 50 config variants, 400 D-Bus calls; RBM_HARDENING_LONG=1: 20000 + 500, 5000.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as dbus from 'dbus-next';
import { parseConfig } from '../../src/config/parse.js';
import { isWithin } from '../../src/config/paths.js';
import { JOB_NAME_PATTERN } from '../../src/config/types.js';
import { nodeSocketAddress } from '../../src/dbus/address.js';
import { jobObjectPath } from '../../src/dbus/contract.js';
import { BUS_NAME, ConfigError, ERROR_TABLE, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { CAPS_175 } from '../helpers/caps.js';
import { hashOf, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { createRng, mutateConfig, randomSignature, randomValue, splitSignature } from '../helpers/fuzz.js';
import { createPairEnv, figure, LONG, readArgvLog, startService, waitIdle, waitForRun, waitUntil, writeRcloneWrapper } from '../helpers/hardening.js';
import { serviceSuite } from '../helpers/service-env.js';

const suite = serviceSuite();
const SEED = Number(process.env.RBM_FUZZ_SEED ?? 20240601);
const EXAMPLE = readFileSync(join(PROJECT_ROOT, 'examples', 'config.yaml'), 'utf8');

/** Every issue names the file and a line:col inside the text (one past the end for "missing"), and the message repeats it. */
function assertLocated(e: ConfigError, file: string, text: string | Buffer, what: string): void {
  assert.ok(e.issues.length > 0, `${what}: a rejection lists at least one problem`);
  const lineCount = (typeof text === 'string' ? text : text.toString('utf8')).split('\n').length;
  for (const issue of e.issues) {
    assert.equal(issue.file, file, what);
    assert.ok(Number.isInteger(issue.line) && issue.line >= 1 && issue.line <= lineCount + 1, `${what}: line ${issue.line} of ${lineCount}`);
    assert.ok(Number.isInteger(issue.col) && issue.col >= 1, `${what}: col ${issue.col}`);
    assert.ok(issue.message.length > 0, what);
    assert.ok(e.message.includes(`${file}:${issue.line}:${issue.col}`), `${what}: the message names ${file}:${issue.line}:${issue.col}`);
  }
}

test(`config fuzzer: ${figure(2000, 20000)} mutations of examples/config.yaml through parseConfig: only located ConfigErrors, no crash, no hang`, { timeout: figure(120_000, 900_000) }, (t) => {
  const rng = createRng(SEED);
  const counts = { valid: 0, rejected: 0, byMutation: new Map<string, number>() };
  let slowestMs = 0;
  let slowest = '';
  for (let i = 0; i < figure(2000, 20000); i++) {
    const { text, applied } = mutateConfig(EXAMPLE, rng, LONG);
    const what = `variant ${i} (${applied.join('+')}, seed ${SEED})`;
    const began = performance.now();
    try {
      const config = parseConfig(text, { file: 'fuzz.yaml', home: '/home/fuzz', ...(rng.chance(0.5) ? { caps: CAPS_175 } : {}) });
      counts.valid++;
      // What passes is sane: names by the pattern, every local inside local_base_path.
      for (const job of config.jobs) {
        assert.match(job.name, JOB_NAME_PATTERN, what);
        assert.ok(isWithin(config.global.localBasePath, job.local), `${what}: ${job.local} inside ${config.global.localBasePath}`);
      }
    } catch (e: unknown) {
      if (!(e instanceof ConfigError)) throw new Error(`${what} crashed the parser: ${e instanceof Error ? e.stack : String(e)}`);
      assertLocated(e, 'fuzz.yaml', text, what);
      counts.rejected++;
    }
    const ms = performance.now() - began;
    if (ms > slowestMs) [slowestMs, slowest] = [ms, applied.join('+')];
    for (const m of applied) counts.byMutation.set(m, (counts.byMutation.get(m) ?? 0) + 1);
  }
  // Beyond the size limit (long mode also reaches it through the mutations): refused at line 1 before YAML parsing.
  const huge = EXAMPLE + `# ${'x'.repeat(1_100_000)}\n`;
  assert.throws(() => parseConfig(huge, { file: 'fuzz.yaml', home: '/home/fuzz' }), (e: unknown) => e instanceof ConfigError && /fuzz\.yaml:1:1/.test(e.message));
  t.diagnostic(`seed ${SEED}: ${counts.valid} accepted, ${counts.rejected} rejected with a location; slowest ${slowestMs.toFixed(0)} ms (${slowest})`);
  t.diagnostic(`mutations applied: ${[...counts.byMutation].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  assert.ok(counts.rejected > counts.valid, 'most mutations are caught');
  assert.ok(counts.valid > 0, 'some mutations are harmless (comments, spacing) and accepted');
});

test(`config fuzzer through a running service: ${figure(50, 500)} variants saved and reloaded; InvalidConfig keeps the old config and names a location`, { skip: suite.skip, timeout: figure(120_000, 900_000) }, async (t) => {
  const { env } = await createPairEnv(t, suite.rclone!, []);
  // The example, made safe to run here: its paths under the test dir, its schedules never due during the test.
  const base = EXAMPLE.replace('local_base_path: ~/Sync', `local_base_path: ${join(env.syncRoot, 'local')}`)
    .replace('remote: /mnt/backup/photos', `remote: ${join(env.dir, 'backup')}`)
    .replace(/schedule: "[^"]*"/g, 'schedule: "0 0 1 1 *"')
    .replace('rclone_binary: rclone', `rclone_binary: ${suite.rclone!}`);
  env.writeConfig(base);
  const svc = await startService(t, env, suite.bus().address);
  const jobNames = async (): Promise<string[]> => (await svc.client.status()).jobs.map((j) => j.name);
  let good = await jobNames();
  assert.deepEqual(good, ['documents', 'photos-backup']);
  const rng = createRng(SEED + 1);
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < figure(50, 500); i++) {
    const { text, applied } = mutateConfig(base, rng, LONG);
    const what = `variant ${i} (${applied.join('+')}, seed ${SEED + 1})`;
    writeFileSync(env.configPath, text);
    try {
      await svc.client.reload();
      accepted++;
      assert.equal((await svc.client.status()).config_error, '', what);
      good = await jobNames();
    } catch (e: unknown) {
      assert.equal((e as { code?: string }).code, 'InvalidConfig', `${what}: ${String(e)}`);
      rejected++;
      const status = await svc.client.status();
      assert.match(status.config_error, /config\.yaml:\d+:\d+/, `${what}: the error names a location`);
      assert.deepEqual(status.jobs.map((j) => j.name), good, `${what}: the last good config stays in force`);
    }
  }
  t.diagnostic(`${accepted} variants accepted, ${rejected} rejected with InvalidConfig; the service answered throughout`);
  assert.ok(rejected > 0);
  assert.equal(svc.daemon.child.exitCode, null);
  assert.doesNotMatch(svc.daemon.output(), /\(bug\)|uncaught/);
  assert.deepEqual(await svc.stop(), { code: 0, signal: null });
});

const ALLOWED_ERRORS = new Set<string>([
  ...Object.entries(ERROR_TABLE).filter(([code]) => code !== 'Internal').map(([, [name]]) => name),
  'org.freedesktop.DBus.Error.UnknownMethod',
  'org.freedesktop.DBus.Error.UnknownObject',
  'org.freedesktop.DBus.Error.UnknownInterface',
  'org.freedesktop.DBus.Error.UnknownProperty',
  'org.freedesktop.DBus.Error.PropertyReadOnly',
]);

test(`D-Bus fuzzer against the real service: ${figure(400, 5000)} calls with random signatures, types and sizes get proper replies; the service stays up`, { skip: suite.skip, timeout: figure(120_000, 900_000) }, async (t) => {
  const { env, local } = await createPairEnv(t, suite.rclone!, ['fuzz', 'photos']);
  writeFiles(local('fuzz'), { 'a.txt': 'a\n' });
  env.writeConfig(env.configText([{ name: 'fuzz' }, { name: 'photos' }], 'shutdown_grace: 1'));
  const svc = await startService(t, env, suite.bus().address);
  const raw = dbus.sessionBus({ busAddress: nodeSocketAddress(suite.bus().address) });
  t.after(() => raw.disconnect());
  const clientErrors: string[] = [];
  raw.on('error', (e: unknown) => clientErrors.push(String(e)));
  const members: [path: string, iface: string, member: string, signature: string][] = [
    ...Object.entries({ Sync: 'asa{sv}', Status: '', ListJobs: '', Reload: '', AddJob: 'sa{sv}', RemoveJob: 's', Pause: 'as', Resume: 'as', Cancel: 'as', History: 'su', PendingDeletes: 's', PendingApproval: 'suu', PendingOverwrites: 'suu', Approve: 'ss', Snooze: 'ast', Unsnooze: 'as' }).map(
      ([m, sig]) => [OBJECT_PATH, MANAGER_INTERFACE, m, sig] as [string, string, string, string],
    ),
    [jobObjectPath('fuzz'), JOB_INTERFACE, 'Sync', 'a{sv}'],
    [jobObjectPath('nope'), JOB_INTERFACE, 'Sync', 'a{sv}'],
    [OBJECT_PATH, 'org.freedesktop.DBus.Properties', 'Get', 'ss'],
    [OBJECT_PATH, 'org.freedesktop.DBus.Properties', 'GetAll', 's'],
    [OBJECT_PATH, 'org.freedesktop.DBus.Properties', 'Set', 'ssv'],
    [jobObjectPath('fuzz'), 'org.freedesktop.DBus.Properties', 'Set', 'ssv'],
    [OBJECT_PATH, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects', ''],
    [OBJECT_PATH, 'org.freedesktop.DBus.Introspectable', 'Introspect', ''],
  ];
  // Connected first: dbus-next marshals calls queued before the handshake inside its stream handler, where a body it
  // cannot marshal kills the whole connection instead of rejecting that one call.
  await raw.call(new dbus.Message({ destination: BUS_NAME, path: OBJECT_PATH, interface: MANAGER_INTERFACE, member: 'Status' }));
  const rng = createRng(SEED + 2);
  const known = ['fuzz', 'photos', MANAGER_INTERFACE, JOB_INTERFACE, 'State', 'Schedule'];
  const outcome = new Map<string, number>();
  const bad: string[] = [];
  const total = figure(400, 5000);
  for (let i = 0; i < total; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, total - i) }, async (_, k) => {
        const [path, iface, member, right] = rng.pick(members);
        const signature = rng.chance(0.5) ? right : randomSignature(rng);
        let body: unknown[];
        try {
          body = splitSignature(signature).map((type) => randomValue(type, rng, known));
        } catch {
          body = [];
        }
        const what = `call ${i + k}: ${member}(${signature})`;
        let result: string;
        let timer: NodeJS.Timeout | undefined;
        try {
          const call = raw.call(new dbus.Message({ destination: BUS_NAME, path, interface: iface, member, signature, body }));
          const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no reply within 25 s')), 25_000)));
          await Promise.race([call, late]);
          result = 'ok';
        } catch (e: unknown) {
          if (e instanceof dbus.DBusError) result = e.type;
          else if (e instanceof Error && e.message === 'no reply within 25 s') result = 'timeout';
          // dbus-next refuses some bodies before sending (out-of-range numbers, values unlike the signature).
          else result = `client-side: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
        } finally {
          clearTimeout(timer);
        }
        outcome.set(result, (outcome.get(result) ?? 0) + 1);
        if (result !== 'ok' && !result.startsWith('client-side') && !ALLOWED_ERRORS.has(result)) bad.push(`${what} → ${result}`);
      }),
    );
  }
  t.diagnostic(`replies: ${[...outcome].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k.replace(/^.*\.Error\./, '')} ${v}`).join(', ')}`);
  assert.deepEqual(bad, [], 'only proper error replies (never Internal, never a timeout or a lost connection)');
  assert.deepEqual(clientErrors, [], 'the fuzzing connection itself stayed sound');
  assert.ok([...outcome.keys()].filter((k) => k !== 'ok' && !k.startsWith('client-side')).length >= 3, 'several kinds of rejection were exercised');
  assert.equal(svc.daemon.child.exitCode, null, 'the service is up');
  // Fuzzed AddJob/RemoveJob calls rewrite the config file, and the file watcher reloads it on its own a little later:
  // the service is back to running once that reload commits.
  await waitUntil('the service to be running again after the reloads the fuzz caused', async () => (await svc.client.status()).state === 'running');
  assert.doesNotMatch(svc.daemon.output(), /\(bug\)|uncaught/, 'no internal error was logged');
  await waitIdle(svc.client);
  assert.deepEqual(await svc.stop(), { code: 0, signal: null });
});

test('hostile paths (spaces, quotes, unicode, leading dashes, "..") reach rclone as single arguments inside local_base_path', { skip: suite.skip }, async (t) => {
  const { env } = await createPairEnv(t, suite.rclone!, []);
  const base = join(env.dir, 'base dir');
  const aliasRoot = join(env.dir, 'aliased');
  mkdirSync(aliasRoot, { recursive: true });
  // An alias remote lets Path2 be `odd:<anything>`, including a leading dash after the colon.
  writeFileSync(env.env.RCLONE_CONFIG!, `[odd]\ntype = alias\nremote = ${aliasRoot}\n`);
  const argvLog = join(env.dir, 'argv.log');
  const wrapper = writeRcloneWrapper(env.dir, suite.rclone!, { argvLog });
  const jobs: { name: string; local: string; rcloneRemote: string; remote: string; localAbs: string; path2: string; remoteDir: string }[] = [
    { name: 'spaces', local: 'with space/and  two', rcloneRemote: '""', remote: join(env.dir, 'r', 'with space'), localAbs: join(base, 'with space/and  two'), path2: '', remoteDir: '' },
    { name: 'quotes', local: `it's "quoted"`, rcloneRemote: '""', remote: join(env.dir, 'r', `it's "q"`), localAbs: join(base, `it's "quoted"`), path2: '', remoteDir: '' },
    { name: 'unicode', local: '日本語/é ü', rcloneRemote: 'odd', remote: 'Ω ß/😀', localAbs: join(base, '日本語/é ü'), path2: 'odd:Ω ß/😀', remoteDir: join(aliasRoot, 'Ω ß/😀') },
    { name: 'dashes', local: '-rf --dry-run', rcloneRemote: 'odd', remote: '--delete-after', localAbs: join(base, '-rf --dry-run'), path2: 'odd:--delete-after', remoteDir: join(aliasRoot, '--delete-after') },
    { name: 'dotdot', local: 'x/../y', rcloneRemote: '""', remote: join(env.dir, 'r', 'a', '..', 'b'), localAbs: join(base, 'y'), path2: join(env.dir, 'r', 'b'), remoteDir: join(env.dir, 'r', 'b') },
  ];
  for (const j of jobs) {
    if (j.path2 === '') j.path2 = j.remoteDir = j.remote;
    writeFiles(j.localAbs, { [`${j.name} 'file' "x" -n.txt`]: `${j.name}\n`, '-leading.txt': 'dash\n' });
  }
  const yaml = (s: string): string => JSON.stringify(s);
  const text = [
    `local_base_path: ${yaml(base)}`,
    `rclone_binary: ${yaml(wrapper)}`,
    'max_parallel_jobs: 2',
    'sync_jobs:',
    ...jobs.flatMap((j) => [`  ${j.name}:`, `    local: ${yaml(j.local)}`, `    rclone_remote: ${j.rcloneRemote}`, `    remote: ${yaml(j.remote)}`, '    schedule: "0 0 1 1 *"']),
  ].join('\n');
  env.writeConfig(text + '\n');

  // Escapes are refused where they are written, before anything runs.
  for (const [local, why] of [['../escape', /escapes local_base_path/], ['/etc', /outside local_base_path/], ['a/../../b', /escapes local_base_path/]] as const) {
    assert.throws(() => parseConfig(text.replace(yaml(jobs[0]!.local), yaml(local)), { file: 'c.yaml', home: env.home }), (e: unknown) => e instanceof ConfigError && why.test(e.message) && /c\.yaml:\d+:\d+ sync_jobs\.spaces\.local/.test(e.message));
  }
  for (const name of ['-rf', '../x', 'a b', "it's", 'ü', '.hidden']) {
    assert.throws(() => parseConfig(text.replace('  spaces:', `  ${yaml(name)}:`), { file: 'c.yaml', home: env.home }), (e: unknown) => e instanceof ConfigError && /c\.yaml:\d+:\d+/.test(e.message), `job name ${name}`);
  }

  const svc = await startService(t, env, suite.bus().address);
  const ids = await svc.client.sync([]);
  assert.equal(ids.length, jobs.length);
  for (const [k, j] of jobs.entries()) {
    const record = await waitForRun(svc.client, j.name, ids[k]!);
    assert.match(record.result, /^(success|no-changes)$/, `${j.name}: ${record.message}`);
    assert.deepEqual(treeHashes(j.remoteDir), treeHashes(j.localAbs), `${j.name}: the odd names arrived`);
    assert.equal(treeHashes(j.remoteDir)['-leading.txt'], hashOf('dash\n'));
  }
  const argvs = readArgvLog(argvLog).filter((a) => a[0] === 'bisync' && !a.includes('--help')); // not the capability probe
  assert.ok(argvs.length >= jobs.length, `${argvs.length} bisync runs recorded`);
  for (const argv of argvs) {
    const job = jobs.find((j) => j.localAbs === argv[1]);
    assert.ok(job, `Path1 is exactly one job's resolved local dir: ${JSON.stringify(argv[1])}`);
    assert.ok(isWithin(base, argv[1]!), `${argv[1]} is inside local_base_path`);
    assert.equal(argv[2], job.path2, `${job.name}: Path2 is one argument`);
    for (const arg of argv.slice(3)) assert.match(arg, /^(-v|--[a-z][a-z0-9-]*(=[\s\S]*)?)$/, `${job.name}: every other argument is a flag, values attached with = (${JSON.stringify(arg)})`);
  }
  // Every other rclone call (seeding) carries the paths whole too.
  // (version and help calls are the capability probe)
  for (const argv of readArgvLog(argvLog).filter((a) => !['bisync', 'version', 'help'].includes(a[0]!) && !a.includes('--help'))) {
    // `rclone backend features PATH` (the hash detection) has a subcommand before its path.
    const operands = argv[0] === 'backend' ? argv.slice(2) : argv.slice(1);
    for (const arg of operands.filter((a) => !a.startsWith('--'))) {
      assert.ok(jobs.some((j) => arg === j.localAbs || arg === j.path2 || arg.startsWith(`${j.localAbs}/`) || arg.startsWith(`${j.path2}/`)), `${argv[0]}: ${JSON.stringify(arg)} is a job path`);
    }
  }
  assert.deepEqual(await svc.stop(), { code: 0, signal: null });
});
