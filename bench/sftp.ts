// `rclone serve sftp` on 127.0.0.1 (kernel-picked port) plus a throwaway rclone config naming it as a remote.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, stopProcess } from './procs.js';

export interface SftpServer {
  /** Remote name in the rclone config: paths are `<remote>:<dir>`. */
  remote: string;
  /** Directory served; `<remote>:x` is `<root>/x`. */
  root: string;
  /** RCLONE_CONFIG to give every rclone (and the service). */
  rcloneConfig: string;
  stop(): Promise<void>;
}

const USER = 'rbm';
const PASS = 'rbm-bench-pass';

export async function startSftp(rclone: string, dir: string): Promise<SftpServer> {
  const root = join(dir, 'sftp-root');
  mkdirSync(root, { recursive: true });
  const rcloneConfig = join(dir, 'rclone.conf');
  writeFileSync(rcloneConfig, '', { mode: 0o600 });
  const env = { ...process.env, RCLONE_CONFIG: rcloneConfig };
  const child = startProcess(rclone, ['serve', 'sftp', root, '--addr=127.0.0.1:0', `--user=${USER}`, `--pass=${PASS}`, '--authorized-keys=', '--log-level=NOTICE'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`rclone serve sftp did not start: ${text}`)), 15_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`rclone serve sftp exited with ${code}: ${text}`)));
  });
  const obscured = execFileSync(rclone, ['obscure', PASS], { encoding: 'utf8', env }).trim();
  const remote = 'benchsftp';
  writeFileSync(rcloneConfig, `[${remote}]\ntype = sftp\nhost = 127.0.0.1\nport = ${port}\nuser = ${USER}\npass = ${obscured}\nknown_hosts_file = \n`, { mode: 0o600 });
  return { remote, root, rcloneConfig, stop: () => stopProcess(child) };
}
