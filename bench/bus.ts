// A private session dbus-daemon (reference: dbus-systemd.md §4.1) listening on a path socket in the bench's temp dir.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, stopProcess } from './procs.js';

export interface PrivateBus {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startBus(dir: string): Promise<PrivateBus> {
  mkdirSync(join(dir, 'services'), { recursive: true });
  const socket = join(dir, 'bus.sock');
  const conf = join(dir, 'bus.conf');
  writeFileSync(
    conf,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${socket}</listen><auth>EXTERNAL</auth>
  <servicedir>${join(dir, 'services')}</servicedir>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
`,
  );
  const child = startProcess('dbus-daemon', [`--config-file=${conf}`, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('dbus-daemon printed no address within 10 s')), 10_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const line = text.split('\n')[0];
      if (text.includes('\n') && line) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    child.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
  });
  return { address, pid: child.pid!, stop: () => stopProcess(child) };
}
