// Real notification servers on a test's private session bus: dunst under Xvfb (what `dunst -print` reports for
// each notification: id, urgency, category, actions) and python-dbusmock's notification_daemon template (its
// recorded Notify calls; ActionInvoked emitted on demand). Started per test, stopped after it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { follow, run, type Follower } from './procs.js';
import { findProgram, IN_CI } from './tools.js';

const NAME = 'org.freedesktop.Notifications';
const PATH = '/org/freedesktop/Notifications';
/** Debian's python with the dbusmock module (the python3 on PATH may be another build). */
const PYTHON = '/usr/bin/python3';
export const NOTIFICATION_PACKAGES = 'dunst xvfb libnotify-bin python3-dbusmock dbus-x11 xauth';

/** `skip` for a test file that needs the notification servers (under CI=true a missing one throws, naming the packages). */
export function notificationServersSkip(): string | false {
  const missing = ['dbus-daemon', 'dunst', 'dunstctl', 'Xvfb', 'gdbus', 'busctl'].filter((p) => !findProgram(p));
  if (spawnSync(PYTHON, ['-c', 'import dbusmock'], { stdio: 'ignore' }).status !== 0) missing.push('python3-dbusmock');
  if (missing.length === 0) return false;
  const why = `missing: ${missing.join(', ')} (install: apt-get install ${NOTIFICATION_PACKAGES})`;
  if (IN_CI) throw new Error(`CI=true and ${why}`);
  return why;
}

/** Wait until the notification service owns its name on the bus (gdbus wait returns when it appears). */
async function waitForName(busAddress: string): Promise<void> {
  const r = await run('gdbus', ['wait', '--session', '--timeout', '60', NAME], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: busAddress } });
  if (r.code !== 0) throw new Error(`${NAME} never appeared on the test bus: ${r.stderr}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  return exited;
}

export interface ShownNotification {
  id: number;
  appname: string;
  summary: string;
  body: string;
  icon: string;
  category: string;
  desktopEntry: string;
  /** LOW, NORMAL or CRITICAL. */
  urgency: string;
  /** key → label. */
  actions: Record<string, string>;
}

/** The blocks `dunst -print` writes, one per notification (a new one or a replacement). */
export function parseDunstPrint(lines: readonly string[]): ShownNotification[] {
  const out: ShownNotification[] = [];
  let fields: Record<string, string> | undefined;
  let actions: Record<string, string> = {};
  let key = '';
  for (const line of lines) {
    if (line === '{') {
      fields = {};
      actions = {};
      key = '';
      continue;
    }
    if (!fields) continue;
    if (line === '}') {
      const unquote = (v = ''): string => v.replace(/^'([\s\S]*)'$/, '$1');
      out.push({
        id: Number(fields.id),
        appname: unquote(fields.appname),
        summary: unquote(fields.summary),
        body: unquote(fields.body),
        icon: unquote(fields.icon),
        category: (fields.category ?? '').trim(),
        desktopEntry: unquote(fields.desktop_entry),
        urgency: (fields.urgency ?? '').trim(),
        actions,
      });
      fields = undefined;
      continue;
    }
    const action = /^\t\t"(.*)": "(.*)"$/.exec(line);
    if (key === 'actions' && action) {
      actions[action[1]!] = action[2]!;
      continue;
    }
    const field = /^\t([a-z_ ]+): ?(.*)$/.exec(line);
    if (field) {
      key = field[1]!;
      fields[key] = field[2]!;
    } else if (key !== '' && key !== 'actions') {
      fields[key] += `\n${line}`;
    }
  }
  return out;
}

export interface DunstServer {
  /** Every notification dunst showed so far (replacements too), in order. */
  shown(): ShownNotification[];
  /** Resolves with the first shown notification matching (already shown ones too). */
  waitFor(match: (n: ShownNotification) => boolean, what: string): Promise<ShownNotification>;
  /** Click the notification at this position among those displayed (dunstctl action: its default action, or its only one). */
  click(position: number): Promise<void>;
  stop(): Promise<void>;
}

/** Xvfb on a free display and dunst on the bus (its config: markup full, the dmenu trick to pick an action). */
export async function startDunst(t: TestContext, busAddress: string): Promise<DunstServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-dunst-'));
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const display = await new Promise<string>((resolve, reject) => {
    let text = '';
    (xvfb.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) resolve(`:${text.trim()}`);
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
  });
  const config = join(dir, 'dunstrc');
  writeFileSync(config, '[global]\n    markup = full\n');
  const dunst: Follower = follow('dunst', ['-config', config, '-print'], { ...process.env, DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: busAddress });
  t.after(async () => {
    await dunst.stop();
    await stopChild(xvfb);
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForName(busAddress);
  const shown = (): ShownNotification[] => parseDunstPrint(dunst.lines);
  return {
    shown,
    async waitFor(match, what) {
      // A notification block ends with a lone '}': wait for lines until a complete block matches.
      await dunst.waitFor(() => shown().some(match), what);
      return shown().find(match)!;
    },
    async click(position) {
      const r = await run('dunstctl', ['action', String(position)], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: busAddress } });
      if (r.code !== 0) throw new Error(`dunstctl action failed: ${r.stderr}`);
    },
    stop: async () => {
      await dunst.stop();
      await stopChild(xvfb);
    },
  };
}

export interface NotifyCall {
  appName: string;
  replacesId: number;
  icon: string;
  summary: string;
  body: string;
  actions: string[];
  hints: Record<string, unknown>;
  expireTimeout: number;
}

export interface MockNotificationServer {
  /** The Notify calls so far (GetCalls), in order. */
  notifyCalls(): Promise<NotifyCall[]>;
  /** Resolves once `count` Notify calls were made. */
  waitForNotifyCalls(count: number): Promise<NotifyCall[]>;
  /** Emit ActionInvoked(id, key) as a server does when the person clicks. */
  invokeAction(id: number, key: string): Promise<void>;
  stop(): Promise<void>;
}

/** python-dbusmock's notification_daemon, with the `actions` capability (its default caps lack it). */
export async function startMockNotificationServer(t: TestContext, busAddress: string, caps = 'actions body'): Promise<MockNotificationServer> {
  const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: busAddress };
  const mock = spawn(PYTHON, ['-m', 'dbusmock', '--template', 'notification_daemon', '-p', JSON.stringify({ capabilities: caps })], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // Every call on the mock emits MethodCalled: follow them to wait for Notify calls without polling.
  const monitor = follow('gdbus', ['monitor', '--session', '--dest', NAME], env);
  t.after(async () => {
    await monitor.stop();
    await stopChild(mock);
  });
  await waitForName(busAddress);
  const busctl = (args: string[]) => run('busctl', ['--address', busAddress, ...args]);
  async function notifyCalls(): Promise<NotifyCall[]> {
    const r = await busctl(['--json=short', 'call', NAME, PATH, 'org.freedesktop.DBus.Mock', 'GetCalls']);
    if (r.code !== 0) throw new Error(`GetCalls failed: ${r.stderr}`);
    const calls = (JSON.parse(r.stdout) as { data: [[number, string, { data: unknown }[]][]] }).data[0];
    return calls
      .filter(([, method]) => method === 'Notify')
      .map(([, , args]) => {
        const v = args.map((a) => a.data);
        return {
          appName: v[0] as string,
          replacesId: v[1] as number,
          icon: v[2] as string,
          summary: v[3] as string,
          body: v[4] as string,
          actions: v[5] as string[],
          hints: v[6] as Record<string, unknown>,
          expireTimeout: v[7] as number,
        };
      });
  }
  return {
    notifyCalls,
    async waitForNotifyCalls(count) {
      await monitor.waitFor(() => monitor.lines.filter((l) => l.includes("MethodCalled ('Notify'")).length >= count, `${count} Notify calls`);
      return notifyCalls();
    },
    async invokeAction(id, key) {
      const r = await busctl(['call', NAME, PATH, 'org.freedesktop.DBus.Mock', 'EmitSignal', 'sssav', NAME, 'ActionInvoked', 'us', '2', 'u', String(id), 's', key]);
      if (r.code !== 0) throw new Error(`EmitSignal failed: ${r.stderr}`);
    },
    stop: async () => {
      await monitor.stop();
      await stopChild(mock);
    },
  };
}
