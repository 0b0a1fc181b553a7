// A real `rclone serve sftp` on 127.0.0.1 with a throwaway rclone config that names it as a remote.
// The port is picked by the kernel (--addr 127.0.0.1:0) and read from the server's log; stop() and
// start() reuse the same port, so a remote can go down and come back. --dir-cache-time=1ms: tests write to the
// served directory behind the server's back, so its VFS must not cache listings; not 0s, because from rclone 1.7x a
// zero cache time re-arms the VFS's per-directory cache cleanup at once, forever: thousands of goroutines contending
// on one lock, and every later request on that server slower than the one before (seen as a CI run that never ended).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface SftpServer {
  /** Remote name in the config (`<name>:path`). */
  name: string;
  port: number;
  /** Served directory on disk. */
  root: string;
  /** Environment for rclone processes: RCLONE_CONFIG points at the throwaway config. */
  env: Record<string, string | undefined>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export const SFTP_USER = 'rbm';
export const SFTP_PASS = 'rbm-test-pass';

function launch(rclone: string, root: string, addr: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(rclone, ['serve', 'sftp', root, `--addr=${addr}`, `--user=${SFTP_USER}`, `--pass=${SFTP_PASS}`, '--authorized-keys=', '--dir-cache-time=1ms', '--log-level=NOTICE'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rclone serve sftp did not start: ${text}`));
    }, 15_000);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      text += chunk;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        child.stderr?.removeAllListeners('data');
        child.stderr?.resume();
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rclone serve sftp exited ${code}: ${text}`));
    });
  });
}

export async function startSftpServer(t: TestContext, rclone: string, dir: string): Promise<SftpServer> {
  const root = join(dir, 'sftp-root');
  mkdirSync(root, { recursive: true });
  const configPath = join(dir, 'rclone.conf');
  const cacheDir = join(dir, 'rclone-cache');
  const baseEnv = { ...process.env, RCLONE_CONFIG: configPath, RCLONE_CACHE_DIR: cacheDir };
  writeFileSync(configPath, '');
  let { child, port } = await launch(rclone, root, '127.0.0.1:0', baseEnv);
  let running: ChildProcess | undefined = child;
  const obscured = execFileSync(rclone, ['obscure', SFTP_PASS], { encoding: 'utf8', env: baseEnv }).trim();
  const name = 'box';
  writeFileSync(configPath, `[${name}]\ntype = sftp\nhost = 127.0.0.1\nport = ${port}\nuser = ${SFTP_USER}\npass = ${obscured}\nknown_hosts_file = \n`, { mode: 0o600 });
  const stop = async (): Promise<void> => {
    const current = running;
    running = undefined;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      current.once('exit', () => resolve());
      current.kill('SIGTERM');
    });
  };
  t.after(stop);
  return {
    name,
    get port() {
      return port;
    },
    root,
    env: baseEnv,
    stop,
    async start(): Promise<void> {
      if (running) return;
      ({ child, port } = await launch(rclone, root, `127.0.0.1:${port}`, baseEnv));
      running = child;
    },
  };
}
