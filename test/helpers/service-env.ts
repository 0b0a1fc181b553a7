// A private world for one real service process: temp HOME/XDG dirs, a config writer, a notify listener and a bus.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { startPrivateBus, type PrivateBus } from './dbus-daemon.js';
import { findProgram, IN_CI, testRclone } from './tools.js';
import { startDaemon, type DaemonProcess } from './daemon-process.js';
import { startNotifyListener, type NotifyListener } from './notify-socket.js';

export interface JobSpec {
  name: string;
  schedule?: string;
  extra?: string;
}

export interface ServiceEnv {
  dir: string;
  home: string;
  configPath: string;
  syncRoot: string;
  notify: NotifyListener;
  env: Record<string, string | undefined>;
  /** YAML text for a config with these jobs (local → local); `globals` are extra top-level lines. */
  configText(jobs: JobSpec[], globals?: string): string;
  /** Write in place (truncate + write). */
  writeConfig(text: string): void;
  /** Save by rename, like most editors. */
  saveConfigByRename(text: string): void;
  start(extraArgs?: string[], nodeArgs?: string[]): DaemonProcess;
}

export async function createServiceEnv(t: TestContext, options: { rclone: string; busAddress?: string }): Promise<ServiceEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-svc-'));
  const home = join(dir, 'home');
  const configDir = join(home, '.config', 'rclone-bisync-manager');
  const syncRoot = join(dir, 'sync');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(join(syncRoot, 'local'), { recursive: true });
  mkdirSync(join(syncRoot, 'remote'), { recursive: true });
  const notify = await startNotifyListener();
  const daemons: DaemonProcess[] = [];
  t.after(async () => {
    for (const d of daemons) await d.stop(5_000);
    await notify.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const configPath = join(configDir, 'config.yaml');
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CACHE_HOME: join(home, '.cache'),
    NOTIFY_SOCKET: notify.path,
    DBUS_SESSION_BUS_ADDRESS: options.busAddress ?? 'unix:path=/nonexistent/rbm-test-bus',
    // No system bus unless a test gives one (catch-up-scenarios.ts): the host's NetworkManager must not trigger runs.
    DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/rbm-test-system-bus',
    RCLONE_CONFIG: join(home, 'rclone.conf'),
  };
  return {
    dir,
    home,
    configPath,
    syncRoot,
    notify,
    env,
    configText(jobs, globals = '') {
      const lines = [
        `local_base_path: ${join(syncRoot, 'local')}`,
        `rclone_binary: ${options.rclone}`,
        // A max_parallel_jobs in `globals` replaces the default (a key may appear only once).
        /^max_parallel_jobs:/m.test(globals) ? '' : 'max_parallel_jobs: 2',
        globals,
        'sync_jobs:',
      ];
      for (const job of jobs) {
        lines.push(
          `  ${job.name}:`,
          `    local: ${job.name}`,
          `    rclone_remote: ""`,
          `    remote: ${join(syncRoot, 'remote', job.name)}`,
          `    schedule: "${job.schedule ?? '0 0 1 1 *'}"`,
        );
        if (job.extra) lines.push(job.extra);
      }
      return lines.filter((l) => l !== '').join('\n') + '\n';
    },
    writeConfig(text) {
      writeFileSync(configPath, text);
    },
    saveConfigByRename(text) {
      const tmp = `${configPath}.tmp-${process.pid}`;
      writeFileSync(tmp, text);
      renameSync(tmp, configPath);
    },
    start(extraArgs = [], nodeArgs = []) {
      const d = startDaemon({ args: ['--config', configPath, '--console-log', ...extraArgs], nodeArgs, env });
      daemons.push(d);
      return d;
    },
  };
}

/** A STATUS= message whose text matches. */
export function statusMatching(re: RegExp): (data: string) => boolean {
  return (data) => data.startsWith('STATUS=') && re.test(data.slice('STATUS='.length));
}

export interface Suite {
  /** The rclone under test (RBM_TEST_RCLONE), when present. */
  rclone: string | undefined;
  /** `skip` option for the file's tests: false, or why they cannot run here (under CI=true a missing program throws). */
  skip: string | false;
  /** The file's private session bus (started before the first test). */
  bus(): PrivateBus;
}

/** Module-level set-up of a test file that runs the real service: the programs it needs, and one private bus for all its tests. */
export function serviceSuite(programs: string[] = ['dbus-daemon', 'python3']): Suite {
  const rclone = testRclone();
  const missing = programs.filter((p) => !findProgram(p));
  if (!rclone) missing.push('rclone');
  if (IN_CI && missing.length > 0) throw new Error(`CI=true and missing: ${missing.join(', ')}`);
  const skip = missing.length > 0 ? `missing: ${missing.join(', ')}` : false;
  let bus: PrivateBus | undefined;
  before(async () => {
    if (!skip) bus = await startPrivateBus();
  });
  after(async () => {
    await bus?.stop();
  });
  return {
    rclone,
    skip,
    bus: () => {
      if (!bus) throw new Error('the private bus is not running');
      return bus;
    },
  };
}
