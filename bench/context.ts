// What every measure gets: mode, the rclone under test, the temp root, the private bus and notify listener, and
// lazily started shared pieces (sftp server).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PrivateBus } from './bus.js';
import type { NotifyListener } from './notify.js';
import type { RcloneInfo } from './rclone.js';
import { createWorld } from './service.js';
import type { World } from './service.js';
import { startSftp } from './sftp.js';
import type { SftpServer } from './sftp.js';

export interface BenchContext {
  quick: boolean;
  rclone: RcloneInfo;
  tmp: string;
  bus: PrivateBus;
  notify: NotifyListener;
  /** Progress line on stderr (stdout stays clean for --json). */
  progress(message: string): void;
  sftp(): Promise<SftpServer>;
  /** A fresh world (HOME, XDG dirs, config) under the temp root. */
  world(name: string, options?: { rcloneConfig?: string }): World;
}

export function createContext(base: Omit<BenchContext, 'sftp' | 'world'>): BenchContext {
  let sftp: Promise<SftpServer> | undefined;
  return {
    ...base,
    sftp() {
      sftp ??= startSftp(base.rclone.path, join(base.tmp, 'sftp'));
      return sftp;
    },
    world(name, options = {}) {
      const dir = join(base.tmp, name);
      mkdirSync(dir, { recursive: true });
      return createWorld(dir, { busAddress: base.bus.address, notify: base.notify, ...options });
    },
  };
}
