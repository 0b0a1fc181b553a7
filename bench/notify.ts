// A fake NOTIFY_SOCKET (reference: dbus-systemd.md §4.2). Node has no AF_UNIX datagram sockets, so a small python3
// listener receives the datagrams and prints, for each, the sender's pid (SCM_CREDENTIALS), the CLOCK_MONOTONIC time
// of receipt in ns (the same clock as process.hrtime) and the payload. Start-up is timed against that receipt time.

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startProcess, stopProcess } from './procs.js';

const LISTENER = `import json, os, socket, struct, sys, time
p = sys.argv[1]
if os.path.exists(p): os.unlink(p)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(p)
print("listening", flush=True)
while True:
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))
    t = time.monotonic_ns()
    pid = next((struct.unpack("iII", d[:12])[0] for l, k, d in anc if k == socket.SCM_CREDENTIALS), 0)
    print(json.dumps({"pid": pid, "ns": t, "data": data.decode("utf-8", "replace")}), flush=True)
`;

export interface NotifyMessage {
  pid: number;
  /** CLOCK_MONOTONIC at receipt, ns. */
  ns: bigint;
  data: string;
}

export interface NotifyListener {
  path: string;
  /** The first message from `pid` (past or future) whose payload satisfies `match`. */
  waitFor(pid: number, match: (data: string) => boolean, timeoutMs: number): Promise<NotifyMessage>;
  stop(): Promise<void>;
}

function pythonCommand(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export async function startNotifyListener(dir: string): Promise<NotifyListener> {
  const script = join(dir, 'notify-listen.py');
  const path = join(dir, 'notify.sock');
  writeFileSync(script, LISTENER);
  const child = startProcess(pythonCommand(), [script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const seen: NotifyMessage[] = [];
  const waiters = new Set<{ pid: number; match: (data: string) => boolean; resolve: (m: NotifyMessage) => void }>();
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the notify listener (python3) did not start within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`the notify listener (python3) exited with ${code}`)));
    lines.on('line', (line) => {
      if (line === 'listening') {
        clearTimeout(timer);
        resolve();
        return;
      }
      const raw = JSON.parse(line) as { pid: number; ns: number; data: string };
      // JSON numbers lose precision above 2^53 ns (~104 days of uptime): re-read the integer from the text.
      const ns = BigInt(/"ns": (\d+)/.exec(line)?.[1] ?? String(raw.ns));
      const message: NotifyMessage = { pid: raw.pid, ns, data: raw.data };
      if (seen.length > 10_000) seen.splice(0, 5_000);
      seen.push(message);
      for (const w of waiters) {
        if (w.pid === message.pid && w.match(message.data)) {
          waiters.delete(w);
          w.resolve(message);
        }
      }
    });
  });
  return {
    path,
    waitFor(pid, match, timeoutMs) {
      const old = seen.find((m) => m.pid === pid && match(m.data));
      if (old) return Promise.resolve(old);
      return new Promise((resolve, reject) => {
        const waiter = {
          pid,
          match,
          resolve: (m: NotifyMessage) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching sd_notify message from pid ${pid} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    stop: () => stopProcess(child),
  };
}
