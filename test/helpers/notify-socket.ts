// A NOTIFY_SOCKET listener for tests: python3 notify-listen.py binds a datagram socket (Node's dgram has no AF_UNIX)
// and reports each sd_notify message; waitFor() resolves on the first new message matching a predicate.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface NotifyMessage {
  pid: number | null;
  data: string;
}

export interface NotifyListener {
  /** The socket path to pass as NOTIFY_SOCKET. */
  path: string;
  messages: NotifyMessage[];
  /** Resolves with the first message at index ≥ `from` (default: any so far) matching `match`; rejects after timeoutMs. */
  waitFor(match: (data: string) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<NotifyMessage & { index: number }>;
  stop(): Promise<void>;
}

const script = join(dirname(fileURLToPath(import.meta.url)), 'notify-listen.py');

export async function startNotifyListener(python = 'python3'): Promise<NotifyListener> {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-notify-'));
  const path = join(dir, 'notify.sock');
  const child = spawn(python, [script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: NotifyMessage[] = [];
  const waiters = new Set<() => void>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`notify-listen.py exited with ${code}`)));
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as { listening?: string; pid?: number | null; data?: string };
      if (msg.listening !== undefined) {
        resolve();
        return;
      }
      messages.push({ pid: msg.pid ?? null, data: msg.data ?? '' });
      for (const w of [...waiters]) w();
    });
  });
  return {
    path,
    messages,
    waitFor(match, options = {}) {
      const from = options.from ?? 0;
      const timeoutMs = options.timeoutMs ?? 30_000;
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          for (let i = from; i < messages.length; i++) {
            const m = messages[i]!;
            if (match(m.data)) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve({ ...m, index: i });
              return true;
            }
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching notify message within ${timeoutMs} ms; got:\n${messages.map((m) => JSON.stringify(m.data)).join('\n')}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
