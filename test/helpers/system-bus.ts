// A private "system" bus for a test: a real dbus-daemon (the session config; the monitor only needs an address
// in DBUS_SYSTEM_BUS_ADDRESS) with python-dbusmock's networkmanager, upower and logind templates on it, and a probe
// connection that drives the mocks (Properties.Set, Mock.AddProperty, Mock.EmitSignal…) with typed values.
// Everything is stopped by stop() (or the test's `after`). The mocks introspect no signals; that is the
// monitor's concern, not this helper's.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import * as dbus from 'dbus-next';
import { startPrivateBus, type PrivateBus } from './dbus-daemon.js';
import { findProgram, IN_CI } from './tools.js';

/** Debian's python with the dbusmock module (the python3 on PATH may be another build). */
const PYTHON = '/usr/bin/python3';
export const SYSTEM_BUS_PACKAGES = 'dbus-daemon python3-dbusmock';

export type MockTemplate = 'networkmanager' | 'upower' | 'logind';

export const SERVICE_NAME: Readonly<Record<MockTemplate, string>> = {
  networkmanager: 'org.freedesktop.NetworkManager',
  upower: 'org.freedesktop.UPower',
  logind: 'org.freedesktop.login1',
};

export const NM = { name: 'org.freedesktop.NetworkManager', path: '/org/freedesktop/NetworkManager', iface: 'org.freedesktop.NetworkManager' } as const;
export const UPOWER = { name: 'org.freedesktop.UPower', path: '/org/freedesktop/UPower', iface: 'org.freedesktop.UPower', display: '/org/freedesktop/UPower/devices/DisplayDevice' } as const;
export const LOGIND = { name: 'org.freedesktop.login1', path: '/org/freedesktop/login1', iface: 'org.freedesktop.login1.Manager' } as const;
const MOCK_IFACE = 'org.freedesktop.DBus.Mock';
const PROPERTIES = 'org.freedesktop.DBus.Properties';

/** `skip` for a test file that needs the mocks (under CI=true a missing one throws, naming the packages). */
export function systemBusSkip(): string | false {
  const missing = findProgram('dbus-daemon') ? [] : ['dbus-daemon'];
  if (spawnSync(PYTHON, ['-c', 'import dbusmock'], { stdio: 'ignore' }).status !== 0) missing.push(`python3-dbusmock (for ${PYTHON})`);
  if (missing.length === 0) return false;
  const why = `missing: ${missing.join(', ')} (install: apt-get install ${SYSTEM_BUS_PACKAGES})`;
  if (IN_CI) throw new Error(`CI=true and ${why}`);
  return why;
}

export interface RunningMock {
  template: MockTemplate;
  /** SIGSTOP: it keeps its name and answers nothing; SIGCONT: it answers what queued up. */
  pause(): void;
  resume(): void;
  /** SIGTERM, then resolves when the process has exited. */
  stop(): Promise<void>;
}

export interface SystemBus {
  address: string;
  /** The environment a monitor (or a child process) should see: DBUS_SYSTEM_BUS_ADDRESS is this bus. */
  env: Record<string, string>;
  /** Start a dbusmock template; resolves once it owns its name. */
  startMock(template: MockTemplate): Promise<RunningMock>;
  /** A method call on the bus with typed arguments (dbus-next Variants for `v`). */
  call(destination: string, path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<unknown[]>;
  /** Properties.Set (the mock emits PropertiesChanged). */
  setProperty(service: { name: string; path: string }, iface: string, property: string, value: dbus.Variant): Promise<void>;
  /** Mock.AddProperty: for properties the template lacks (NetworkManager's Metered). */
  addProperty(service: { name: string; path: string }, iface: string, property: string, value: dbus.Variant): Promise<void>;
  /** Mock.UpdateProperties: several at once, one PropertiesChanged. */
  updateProperties(service: { name: string; path: string }, iface: string, values: Record<string, dbus.Variant>): Promise<void>;
  /** Mock.EmitSignal on the service's main object. */
  emitSignal(service: { name: string; path: string }, iface: string, member: string, signature: string, args: dbus.Variant[]): Promise<void>;
  /** Stop only the dbus-daemon (the bus goes away under its clients). */
  stopDaemon(): Promise<void>;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  return exited;
}

/** Resolves when `name` has an owner on the bus, from NameOwnerChanged (no polling). */
async function ownerAppears(probe: dbus.MessageBus, name: string, failed: Promise<never>): Promise<void> {
  let seen: () => void = () => {};
  const appeared = new Promise<void>((resolve) => {
    seen = resolve;
  });
  const onMessage = (msg: dbus.Message): void => {
    if (msg.type === dbus.MessageType.SIGNAL && msg.member === 'NameOwnerChanged' && msg.body[0] === name && msg.body[2] !== '') seen();
  };
  probe.on('message', onMessage);
  try {
    await probe.call(new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'AddMatch', signature: 's', body: [`type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${name}'`] }));
    const has = await probe.call(new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'NameHasOwner', signature: 's', body: [name] }));
    if (has?.body[0] !== true) await Promise.race([appeared, failed]);
  } finally {
    probe.removeListener('message', onMessage);
  }
}

/** A private bus standing in for the system bus, with a probe connection; stopped after the test. */
export async function startSystemBus(t: TestContext): Promise<SystemBus> {
  const daemon: PrivateBus = await startPrivateBus();
  const probe = dbus.sessionBus({ busAddress: daemon.address });
  probe.on('error', () => {}); // the bus going away (stopDaemon) is what some tests want
  const env = { DBUS_SYSTEM_BUS_ADDRESS: daemon.address };
  const mocks: ChildProcess[] = [];

  async function call(destination: string, path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<unknown[]> {
    const reply = await probe.call(new dbus.Message({ destination, path, interface: iface, member, signature, body }));
    return (reply?.body ?? []) as unknown[];
  }

  let stopped = false;
  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    for (const child of mocks) child.kill('SIGCONT');
    await Promise.all(mocks.map(stopChild));
    probe.disconnect();
    await daemon.stop();
  }
  t.after(stop);

  return {
    address: daemon.address,
    env,
    async startMock(template) {
      const child = spawn(PYTHON, ['-m', 'dbusmock', '--system', '--template', template], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      mocks.push(child);
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (stderr.length < 10_000) stderr += chunk;
      });
      const failed = new Promise<never>((_resolve, reject) => {
        child.once('exit', (code, signal) => reject(new Error(`dbusmock ${template} exited (${code ?? signal}) before owning ${SERVICE_NAME[template]}: ${stderr}`)));
        child.once('error', reject);
      });
      failed.catch(() => {});
      await ownerAppears(probe, SERVICE_NAME[template], failed);
      return {
        template,
        pause: () => void child.kill('SIGSTOP'),
        resume: () => void child.kill('SIGCONT'),
        stop: async () => {
          child.kill('SIGCONT'); // a paused one would not see the SIGTERM
          await stopChild(child);
        },
      };
    },
    call,
    async setProperty(service, iface, property, value) {
      await call(service.name, service.path, PROPERTIES, 'Set', 'ssv', [iface, property, value]);
    },
    async addProperty(service, iface, property, value) {
      await call(service.name, service.path, MOCK_IFACE, 'AddProperty', 'ssv', [iface, property, value]);
    },
    async updateProperties(service, iface, values) {
      await call(service.name, service.path, MOCK_IFACE, 'UpdateProperties', 'sa{sv}', [iface, values]);
    },
    async emitSignal(service, iface, member, signature, args) {
      await call(service.name, service.path, MOCK_IFACE, 'EmitSignal', 'sssav', [iface, member, signature, args]);
    },
    stopDaemon: () => daemon.stop(),
    stop,
  };
}
