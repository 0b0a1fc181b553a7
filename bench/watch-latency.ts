// Sync on change, propagation latency (issue 16): the real service with `watch: true` and default settings on a
// private session bus, a 10,000-file tree (100 folders × 100) synced local↔local; 20 edits, each timed from the write
// to the new content on the other side, one after the other (the next edit once the job is idle again).
// And the watch cost on the service: RSS and CPU time over 10 s idle (after 40 s of rest, so V8 has given back the
// walk's heap) with a 100,000-file tree in 10,000 folders, `watch: true` against `watch: false`.
// Run: node --import tsx bench/watch-latency.ts RCLONE [EDITS] [sftp]   or   … RCLONE cost   (not yet part of `npm run bench`).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectClient, type RbmClient } from '../src/dbus/client.js';

const FOLDERS = 100;
const FILES_PER_FOLDER = 100;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 300_000, stepMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(stepMs);
  }
}

function startBus(dir: string): Promise<{ address: string; child: ChildProcess }> {
  const socket = join(dir, 'bus.sock');
  const child = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1', `--address=unix:path=${socket}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve({ address: chunk.toString().trim(), child }));
    child.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
  });
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function idle(client: RbmClient): Promise<void> {
  await until('the job to be idle', async () => {
    const s = await client.status();
    return s.running_jobs.length === 0 && s.queued_jobs.length === 0;
  }, 300_000, 20);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A real `rclone serve sftp` on 127.0.0.1 over `root`, and an rclone config naming it `box`. */
async function startSftp(rclone: string, dir: string, root: string): Promise<{ child: ChildProcess; configPath: string }> {
  const port = 20_000 + (process.pid % 20_000);
  const pass = 'rbm-bench-pass';
  const child = spawn(rclone, ['serve', 'sftp', root, `--addr=127.0.0.1:${port}`, '--user=rbm', `--pass=${pass}`, '--authorized-keys=', '--dir-cache-time=1ms'], { stdio: 'ignore' });
  await until('the sftp server', () => portOpen(port), 30_000, 50);
  const configPath = join(dir, 'rclone.conf');
  const obscured = execFileSync(rclone, ['obscure', pass], { encoding: 'utf8' }).trim();
  writeFileSync(configPath, `[box]\ntype = sftp\nhost = 127.0.0.1\nport = ${port}\nuser = rbm\npass = ${obscured}\nknown_hosts_file = \n`, { mode: 0o600 });
  return { child, configPath };
}

async function main(): Promise<void> {
  const rclone = process.argv[2];
  const edits = Number(process.argv[3] ?? 20);
  const sftp = process.argv[4] === 'sftp';
  if (!rclone) throw new Error('usage: watch-latency.ts RCLONE [EDITS]');
  const dir = mkdtempSync(join(tmpdir(), 'rbm-watch-latency-'));
  const local = join(dir, 'local', 'docs');
  const remote = sftp ? join(dir, 'sftp-root', 'share') : join(dir, 'remote', 'docs');
  for (let d = 0; d < FOLDERS; d++) {
    mkdirSync(join(local, `d${d}`), { recursive: true });
    for (let f = 0; f < FILES_PER_FOLDER; f++) writeFileSync(join(local, `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`);
  }
  mkdirSync(remote, { recursive: true });
  const home = join(dir, 'home');
  const configDir = join(home, '.config', 'rclone-bisync-manager');
  mkdirSync(configDir, { recursive: true });
  const config = join(configDir, 'config.yaml');
  const server = sftp ? await startSftp(rclone, dir, join(dir, 'sftp-root')) : undefined;
  const path2 = sftp ? '    rclone_remote: box\n    remote: share\n' : `    rclone_remote: ""\n    remote: ${remote}\n`;
  writeFileSync(config, `local_base_path: ${join(dir, 'local')}\nrclone_binary: ${rclone}\nwatch: true\nsync_jobs:\n  docs:\n    local: docs\n${path2}    schedule: "0 0 1 1 *"\n`);
  const bus = await startBus(dir);
  const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_STATE_HOME: join(home, '.local', 'state'), DBUS_SESSION_BUS_ADDRESS: bus.address, ...(server ? { RCLONE_CONFIG: server.configPath } : {}) };
  const daemon = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'src', 'bin', 'daemon.ts'), '--config', config], { env, stdio: 'ignore' });
  let client: RbmClient | undefined;
  try {
    await until('the service on the bus', async () => {
      try {
        client ??= await connectClient({ busAddress: bus.address, timeoutMs: 25_000, autoStart: false });
        return (await client.status()).jobs[0]?.watch === 'watching';
      } catch {
        return false;
      }
    }, 120_000, 100);
    await client!.sync(['docs']);
    await until('the first sync', () => {
      try {
        return readFileSync(join(remote, `d${FOLDERS - 1}`, `f${FILES_PER_FOLDER - 1}.txt`), 'utf8') !== '';
      } catch {
        return false;
      }
    });
    await idle(client!);
    const latencies: number[] = [];
    for (let i = 0; i < edits; i++) {
      const rel = join(`d${(i * 7) % FOLDERS}`, `f${(i * 13) % FILES_PER_FOLDER}.txt`);
      const text = `edit ${i} at ${Date.now()}\n`;
      const start = performance.now();
      writeFileSync(join(local, rel), text);
      await until(`edit ${i} on the other side`, () => {
        try {
          return readFileSync(join(remote, rel), 'utf8') === text;
        } catch {
          return false;
        }
      });
      latencies.push(performance.now() - start);
      await idle(client!);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    process.stdout.write(`${JSON.stringify({ remote: sftp ? 'sftp' : 'local', edits, files: FOLDERS * FILES_PER_FOLDER, medianMs: Math.round(quantile(sorted, 0.5)), p99Ms: Math.round(quantile(sorted, 0.99)), minMs: Math.round(sorted[0]!), latenciesMs: latencies.map(Math.round) })}\n`);
    process.stdout.write(`median ${fmt(quantile(sorted, 0.5))}, p99 ${fmt(quantile(sorted, 0.99))}, min ${fmt(sorted[0]!)}\n`);
  } finally {
    client?.close();
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
    bus.child.kill('SIGTERM');
    server?.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** VmRSS in KiB and utime+stime in clock ticks of a process. */
function procStats(pid: number): { rssKiB: number; ticks: number } {
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { rssKiB: Number(rss?.[1] ?? 0), ticks: Number(fields[11]) + Number(fields[12]) };
}

async function cost(rclone: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-watch-cost-'));
  const local = join(dir, 'local', 'docs');
  for (let a = 0; a < 100; a++) {
    for (let b = 0; b < 100; b++) {
      const folder = join(local, `a${a}`, `b${b}`);
      mkdirSync(folder, { recursive: true });
      for (let f = 0; f < 10; f++) writeFileSync(join(folder, `f${f}`), '');
    }
  }
  mkdirSync(join(dir, 'remote', 'docs'), { recursive: true });
  const bus = await startBus(dir);
  const results: Record<string, { rssMiB: number; idleCpuMs: number; readyMs: number }> = {};
  try {
    for (const watch of [false, true]) {
      const home = join(dir, `home-${watch}`);
      const configDir = join(home, '.config', 'rclone-bisync-manager');
      mkdirSync(configDir, { recursive: true });
      const config = join(configDir, 'config.yaml');
      writeFileSync(config, `local_base_path: ${join(dir, 'local')}\nrclone_binary: ${rclone}\nwatch: ${watch}\nsync_jobs:\n  docs:\n    local: docs\n    rclone_remote: ""\n    remote: ${join(dir, 'remote', 'docs')}\n    schedule: "0 0 1 1 *"\n`);
      const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_STATE_HOME: join(home, '.local', 'state'), DBUS_SESSION_BUS_ADDRESS: bus.address };
      const started = performance.now();
      const daemon = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'src', 'bin', 'daemon.ts'), '--config', config], { env, stdio: 'ignore' });
      let client: RbmClient | undefined;
      try {
        await until('the service', async () => {
          try {
            client ??= await connectClient({ busAddress: bus.address, timeoutMs: 25_000, autoStart: false });
            return (await client.status()).jobs[0]?.watch === (watch ? 'watching' : 'off');
          } catch {
            return false;
          }
        }, 120_000, 50);
        const readyMs = performance.now() - started;
        client?.close();
        await delay(40_000);
        const before = procStats(daemon.pid!);
        await delay(10_000);
        const after = procStats(daemon.pid!);
        results[watch ? 'watching' : 'not watching'] = { rssMiB: Math.round(after.rssKiB / 102.4) / 10, idleCpuMs: (after.ticks - before.ticks) * 10, readyMs: Math.round(readyMs) };
      } finally {
        daemon.kill('SIGTERM');
        await new Promise((resolve) => daemon.once('exit', resolve));
      }
    }
  } finally {
    bus.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

if (process.argv[3] === 'cost') await cost(process.argv[2] ?? 'rclone');
else await main();
