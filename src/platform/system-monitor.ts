// The system-bus monitor (issues 16 and 17): NetworkManager, UPower and logind, reduced to SystemFacts
// (src/sysbus/facts.ts). Driven by signals only, never polled:
//   - the initial properties come from Properties.GetAll (UPower's display device from GetDisplayDevice);
//   - changes from org.freedesktop.DBus.Properties.PropertiesChanged;
//   - logind's PrepareForSleep(b) becomes a 'sleep' event (true before a suspend, false after the resume);
//   - NameOwnerChanged: a service that appears later is read, one that goes away becomes `available: false`.
// Proxies are built from the XML below (dbus-next drops listeners for signals the introspection does not list, and
// python-dbusmock lists none). No system bus, or a service missing, is not an error: that part is unavailable and
// one line is logged per missing part (again only after it came back and went away). Every call is raced with a
// timeout (dbus-next has none). The socket is unref'd: the monitor never keeps the process alive; close() releases it.
//
// Usage:
//   const monitor = createSystemMonitor({ logger, env: process.env });
//   await monitor.ready;                            // the first reading is done (never rejects)
//   monitor.on('change', (facts, before) => …);    // after each change of the facts, in bus order
//   monitor.on('sleep', (preparing) => …);         // PrepareForSleep
//   monitor.facts();                                // the current facts (UNKNOWN_FACTS before ready)
//   await monitor.close();
//
// Sleep delay lock: logind's Inhibit replies with a file descriptor. It is asked for only when the connection
// negotiated unix fds; the dbus-next build here cannot (no usocket), and the bus would then never deliver the reply,
// so it is not called (docs/decisions.md "System bus monitor").
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import * as dbus from 'dbus-next';
import { errorText } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import {
  NETWORK_UNAVAILABLE,
  POWER_UNAVAILABLE,
  SLEEP_UNAVAILABLE,
  UNKNOWN_FACTS,
  networkFactsFrom,
  powerFactsFrom,
  sameFacts,
  type SystemFacts,
} from '../sysbus/facts.js';
import { systemClock } from './clock.js';

export const DEFAULT_SYSTEM_BUS_ADDRESS = 'unix:path=/var/run/dbus/system_bus_socket';
export const DEFAULT_SYSTEM_CALL_TIMEOUT_MS = 5000;

const DBUS_NAME = 'org.freedesktop.DBus';
const DBUS_PATH = '/org/freedesktop/DBus';
const PROPERTIES = 'org.freedesktop.DBus.Properties';
const NM_NAME = 'org.freedesktop.NetworkManager';
const NM_PATH = '/org/freedesktop/NetworkManager';
const UPOWER_NAME = 'org.freedesktop.UPower';
const UPOWER_PATH = '/org/freedesktop/UPower';
const UPOWER_DEVICE = 'org.freedesktop.UPower.Device';
const LOGIN_NAME = 'org.freedesktop.login1';
const LOGIN_PATH = '/org/freedesktop/login1';
const LOGIN_MANAGER = 'org.freedesktop.login1.Manager';

const PROPERTIES_XML = `<interface name="${PROPERTIES}">
  <method name="GetAll"><arg name="interface" type="s" direction="in"/><arg name="props" type="a{sv}" direction="out"/></method>
  <method name="Get"><arg name="interface" type="s" direction="in"/><arg name="name" type="s" direction="in"/><arg name="value" type="v" direction="out"/></method>
  <signal name="PropertiesChanged"><arg name="interface" type="s"/><arg name="changed" type="a{sv}"/><arg name="invalidated" type="as"/></signal>
</interface>`;

const node = (...interfaces: string[]): string => `<node>${interfaces.join('')}</node>`;

const XML = {
  dbus: node(`<interface name="${DBUS_NAME}">
  <signal name="NameOwnerChanged"><arg name="name" type="s"/><arg name="old_owner" type="s"/><arg name="new_owner" type="s"/></signal>
</interface>`),
  properties: node(PROPERTIES_XML),
  upower: node(PROPERTIES_XML, `<interface name="${UPOWER_NAME}"><method name="GetDisplayDevice"><arg name="device" type="o" direction="out"/></method></interface>`),
  login: node(PROPERTIES_XML, `<interface name="${LOGIN_MANAGER}">
  <method name="Inhibit"><arg name="what" type="s" direction="in"/><arg name="who" type="s" direction="in"/><arg name="why" type="s" direction="in"/><arg name="mode" type="s" direction="in"/><arg name="fd" type="h" direction="out"/></method>
  <signal name="PrepareForSleep"><arg name="start" type="b"/></signal>
</interface>`),
};

type Part = 'network' | 'power' | 'sleep';
const PARTS: readonly Part[] = ['network', 'power', 'sleep'];
const SERVICE_OF: Readonly<Record<Part, string>> = { network: NM_NAME, power: UPOWER_NAME, sleep: LOGIN_NAME };
const WHAT_IS_UNKNOWN: Readonly<Record<Part, string>> = {
  network: 'network state, connectivity and metered are unknown',
  power: 'battery and AC power are unknown',
  sleep: 'suspend and resume are not seen',
};

export interface SystemMonitorOptions {
  logger: Logger;
  /** DBUS_SYSTEM_BUS_ADDRESS is honoured (tests point it at a private bus). */
  env: Readonly<Record<string, string | undefined>>;
  clock?: Clock;
  /** Each call gives up after this long (default 5 s). */
  timeoutMs?: number;
}

export interface SystemMonitor {
  /** Settles once the first reading of every part is done (never rejects). */
  readonly ready: Promise<void>;
  facts(): SystemFacts;
  /** After each change of the facts, with the facts before it. Returns the unsubscribe function. */
  on(event: 'change', listener: (facts: SystemFacts, before: SystemFacts) => void): () => void;
  /** logind's PrepareForSleep: true right before a suspend, false after the resume. */
  on(event: 'sleep', listener: (preparing: boolean) => void): () => void;
  close(): Promise<void>;
}

/** A call the bus did not answer in time. */
class CallTimeout extends Error {}

type PropertiesProxy = dbus.ClientInterface & {
  GetAll(iface: string): Promise<Record<string, dbus.Variant>>;
  Get(iface: string, name: string): Promise<dbus.Variant>;
};

function unwrap(props: Record<string, dbus.Variant>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(props).map(([name, variant]) => [name, variant.value]));
}

/** The net.Socket under dbus-next's connection (not part of its typings). */
interface BusStream {
  unref?(): void;
  ref?(): void;
  destroy?(): void;
  destroyed?: boolean;
  supportsUnixFd?: boolean;
  once(event: 'close', listener: () => void): void;
}

function streamOf(bus: dbus.MessageBus): BusStream | undefined {
  return (bus as unknown as { _connection?: { stream?: BusStream } })._connection?.stream;
}

export function createSystemMonitor(options: SystemMonitorOptions): SystemMonitor {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SYSTEM_CALL_TIMEOUT_MS;
  const address = options.env['DBUS_SYSTEM_BUS_ADDRESS'] || DEFAULT_SYSTEM_BUS_ADDRESS;
  const events = new EventEmitter();
  let current: SystemFacts = UNKNOWN_FACTS;
  let closed = false;
  let bus: dbus.MessageBus | undefined;
  /** Rejects when the connection fails or closes, so no call waits for a bus that is gone. */
  let gone: Promise<never> = new Promise<never>(() => {});
  let streamClosed: Promise<void> = Promise.resolve();
  /** Raw properties per part: what the last GetAll said, with the PropertiesChanged applied since. */
  let nmProps: Record<string, unknown> = {};
  let upowerProps: Record<string, unknown> = {};
  let deviceProps: Record<string, unknown> = {};
  let devicePath: string | undefined;
  let deviceProxy: PropertiesProxy | undefined;
  /** Bumped when a part goes away or is read again: an older reading that comes back late is dropped. */
  const generation: Record<Part, number> = { network: 0, power: 0, sleep: 0 };
  /** Logged as missing and not seen since: stay quiet until it answers. */
  const reportedMissing = new Set<Part>();
  let inhibitFd: number | undefined;
  let inhibitorTried = false;
  let loginProxy: dbus.ProxyObject | undefined;

  function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimer(timeoutMs, () => reject(new CallTimeout(`${what} timed out after ${timeoutMs} ms`)));
      const settle = (fn: () => void): void => {
        timer.cancel();
        fn();
      };
      Promise.race([promise, gone]).then(
        (value) => settle(() => resolve(value)),
        (e: unknown) => settle(() => reject(e instanceof Error ? e : new Error(errorText(e)))),
      );
    });
  }

  function emitChange(next: SystemFacts): void {
    const before = current;
    if (sameFacts(before, next)) return;
    current = next;
    logger.debug('system facts changed', { network: next.network, power: next.power, sleep: next.sleep });
    for (const listener of events.listeners('change') as ((facts: SystemFacts, before: SystemFacts) => void)[]) {
      try {
        listener(next, before);
      } catch (e: unknown) {
        logger.error('a system facts listener failed', { error: errorText(e) });
      }
    }
  }

  function setPart(part: Part, facts: SystemFacts[Part]): void {
    emitChange({ ...current, [part]: facts });
  }

  function reportAvailable(part: Part): void {
    if (reportedMissing.delete(part)) logger.info(`${SERVICE_OF[part]} answers on the system bus again`);
  }

  function reportMissing(part: Part, reason: unknown): void {
    generation[part] += 1;
    if (!reportedMissing.has(part) && !closed) {
      reportedMissing.add(part);
      logger.info(`${SERVICE_OF[part]} is not available on the system bus: ${WHAT_IS_UNKNOWN[part]}`, { error: errorText(reason) });
    }
    const unavailable = { network: NETWORK_UNAVAILABLE, power: POWER_UNAVAILABLE, sleep: SLEEP_UNAVAILABLE }[part];
    setPart(part, unavailable);
  }

  /** How each part is read (set once the proxies exist). */
  const readers: Record<Part, () => Promise<void>> = { network: async () => {}, power: async () => {}, sleep: async () => {} };

  /**
   * A signal from the service's current owner (dbus-next drops the others): applied when the part is known. A part
   * given up on while its service kept the name (a reading that timed out) is read again: the service answers now.
   * During the first reading nothing is applied: the reading covers it.
   */
  function heardFrom(part: Part, apply: () => void): void {
    if (closed) return;
    if (current[part].available) apply();
    else if (reportedMissing.has(part)) void readers[part]();
  }

  function propertiesOf(object: dbus.ProxyObject): PropertiesProxy {
    return object.getInterface(PROPERTIES) as PropertiesProxy;
  }

  async function readNetwork(nm: dbus.ProxyObject): Promise<void> {
    const gen = ++generation.network;
    try {
      const props = unwrap(await withTimeout('NetworkManager GetAll', propertiesOf(nm).GetAll(NM_NAME)));
      if (gen !== generation.network || closed) return;
      nmProps = props;
      reportAvailable('network');
      setPart('network', networkFactsFrom(nmProps));
    } catch (e: unknown) {
      if (gen === generation.network) reportMissing('network', e);
    }
  }

  async function followDisplayDevice(b: dbus.MessageBus, path: string): Promise<PropertiesProxy> {
    if (deviceProxy && devicePath === path) return deviceProxy;
    const proxy = propertiesOf(await withTimeout('UPower display device', b.getProxyObject(UPOWER_NAME, path, XML.properties)));
    proxy.on('PropertiesChanged', (iface: string, changed: Record<string, dbus.Variant>) => {
      if (iface !== UPOWER_DEVICE || devicePath !== path) return;
      heardFrom('power', () => {
        deviceProps = { ...deviceProps, ...unwrap(changed) };
        setPart('power', powerFactsFrom(upowerProps, deviceProps));
      });
    });
    deviceProxy = proxy;
    devicePath = path;
    return proxy;
  }

  async function readPower(b: dbus.MessageBus, upower: dbus.ProxyObject): Promise<void> {
    const gen = ++generation.power;
    try {
      const props = unwrap(await withTimeout('UPower GetAll', propertiesOf(upower).GetAll(UPOWER_NAME)));
      const manager = upower.getInterface(UPOWER_NAME) as dbus.ClientInterface & { GetDisplayDevice(): Promise<string> };
      const path = await withTimeout('UPower GetDisplayDevice', manager.GetDisplayDevice());
      const device = await followDisplayDevice(b, path);
      // A display device that cannot be read leaves the percentage unknown; OnBattery still counts.
      const display = await withTimeout('UPower display device GetAll', device.GetAll(UPOWER_DEVICE)).then(unwrap, (e: unknown) => {
        logger.debug('the UPower display device could not be read', { error: errorText(e) });
        return {};
      });
      if (gen !== generation.power || closed) return;
      upowerProps = props;
      deviceProps = display;
      reportAvailable('power');
      setPart('power', powerFactsFrom(upowerProps, deviceProps));
    } catch (e: unknown) {
      if (gen === generation.power) reportMissing('power', e);
    }
  }

  async function readSleep(login: dbus.ProxyObject): Promise<void> {
    const gen = ++generation.sleep;
    try {
      // Any answer will do: logind is there (and a bus-activated one is started by the call).
      await withTimeout('logind Get', propertiesOf(login).Get(LOGIN_MANAGER, 'PreparingForSleep'));
      if (gen !== generation.sleep || closed) return;
      reportAvailable('sleep');
      setPart('sleep', { available: true });
      await takeDelayLock();
    } catch (e: unknown) {
      if (gen === generation.sleep) reportMissing('sleep', e);
    }
  }

  /** A logind delay lock, only on a connection that negotiated unix fds (else the reply would never come). */
  async function takeDelayLock(): Promise<void> {
    const b = bus;
    if (!b || !loginProxy || inhibitFd !== undefined || closed) return;
    if (streamOf(b)?.supportsUnixFd !== true) {
      if (!inhibitorTried) logger.info('no logind delay lock: this D-Bus connection cannot receive file descriptors; a suspend is seen through PrepareForSleep only');
      inhibitorTried = true;
      return;
    }
    inhibitorTried = true;
    try {
      const manager = loginProxy.getInterface(LOGIN_MANAGER) as dbus.ClientInterface & { Inhibit(what: string, who: string, why: string, mode: string): Promise<number> };
      const fd = await withTimeout('logind Inhibit', manager.Inhibit('sleep', 'rclone-bisync-manager', 'saving job state', 'delay'));
      if (closed) closeSync(fd);
      else inhibitFd = fd;
    } catch (e: unknown) {
      logger.info('logind refused a delay lock; a suspend is seen through PrepareForSleep only', { error: errorText(e) });
    }
  }

  function releaseDelayLock(): void {
    const fd = inhibitFd;
    inhibitFd = undefined;
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch (e: unknown) {
      logger.debug('closing the logind delay lock failed', { error: errorText(e) });
    }
  }

  function onPrepareForSleep(preparing: boolean): void {
    logger.info(preparing ? 'the machine is about to suspend' : 'the machine resumed');
    for (const listener of events.listeners('sleep') as ((preparing: boolean) => void)[]) {
      try {
        listener(preparing);
      } catch (e: unknown) {
        logger.error('a sleep listener failed', { error: errorText(e) });
      }
    }
    // The listeners had their say (synchronously): let the suspend go on, and take a new lock after the resume.
    if (preparing) releaseDelayLock();
    else void takeDelayLock();
  }

  function connect(): dbus.MessageBus | undefined {
    let b: dbus.MessageBus;
    try {
      // sessionBus() with an explicit address is dbus-next's systemBus() without its own read of process.env.
      // negotiateUnixFd: a build that can take fds (usocket) negotiates them, so Inhibit may be asked; this one cannot.
      b = dbus.sessionBus({ busAddress: address, negotiateUnixFd: true } as dbus.SessionBusOptions); // the option is missing from the typings
    } catch (e: unknown) {
      for (const part of PARTS) reportMissing(part, e);
      return undefined;
    }
    let fail: (e: Error) => void = () => {};
    gone = new Promise<never>((_resolve, reject) => {
      fail = reject;
    });
    gone.catch(() => {});
    // dbus-next also reports errors that leave the connection usable (a refused match rule): only the socket
    // closing ends it. The last error says why (ENOENT: no system bus).
    let lastError: Error | undefined;
    b.on('error', (e: unknown) => {
      logger.debug('system bus connection error', { error: errorText(e) });
      lastError = e instanceof Error ? e : new Error(errorText(e));
    });
    const stream = streamOf(b);
    // Referenced during the first reading (whoever awaits `ready` expects it to settle), unreferenced after it.
    void ready.then(() => stream?.unref?.());
    streamClosed = new Promise<void>((resolve) => {
      if (!stream || stream.destroyed === true) resolve();
      else stream.once('close', resolve);
    });
    void streamClosed.then(() => {
      const why = lastError ?? new Error(`the system bus connection (${address}) closed`);
      fail(why);
      if (closed) return;
      for (const part of PARTS) reportMissing(part, why);
    });
    return b;
  }

  async function start(): Promise<void> {
    const b = connect();
    if (!b) return;
    bus = b;
    let objects: dbus.ProxyObject[];
    try {
      objects = await withTimeout(
        'system bus proxies',
        Promise.all([
          b.getProxyObject(DBUS_NAME, DBUS_PATH, XML.dbus),
          b.getProxyObject(NM_NAME, NM_PATH, XML.properties),
          b.getProxyObject(UPOWER_NAME, UPOWER_PATH, XML.upower),
          b.getProxyObject(LOGIN_NAME, LOGIN_PATH, XML.login),
        ]),
      );
    } catch (e: unknown) {
      for (const part of PARTS) reportMissing(part, e);
      return;
    }
    const [daemon, nm, upower, login] = objects as [dbus.ProxyObject, dbus.ProxyObject, dbus.ProxyObject, dbus.ProxyObject];
    loginProxy = login;
    // Listen before reading, so no change falls between the reading and the subscription.
    readers.network = () => readNetwork(nm);
    readers.power = () => readPower(b, upower);
    readers.sleep = () => readSleep(login);
    propertiesOf(nm).on('PropertiesChanged', (iface: string, changed: Record<string, dbus.Variant>, invalidated: string[]) => {
      if (iface !== NM_NAME) return;
      heardFrom('network', () => {
        if (invalidated.length > 0) return void readNetwork(nm);
        nmProps = { ...nmProps, ...unwrap(changed) };
        setPart('network', networkFactsFrom(nmProps));
      });
    });
    propertiesOf(upower).on('PropertiesChanged', (iface: string, changed: Record<string, dbus.Variant>) => {
      if (iface !== UPOWER_NAME) return;
      heardFrom('power', () => {
        upowerProps = { ...upowerProps, ...unwrap(changed) };
        setPart('power', powerFactsFrom(upowerProps, deviceProps));
      });
    });
    login.getInterface(LOGIN_MANAGER).on('PrepareForSleep', (preparing: boolean) => {
      heardFrom('sleep', () => {});
      onPrepareForSleep(preparing);
    });
    daemon.getInterface(DBUS_NAME).on('NameOwnerChanged', (name: string, _old: string, owner: string) => {
      const part = PARTS.find((p) => SERVICE_OF[p] === name);
      if (!part || closed) return;
      if (owner === '') {
        if (part === 'sleep') releaseDelayLock();
        reportMissing(part, `${name} left the bus`);
      } else void readers[part]();
    });
    await Promise.all(PARTS.map((part) => readers[part]()));
  }

  let startedReading: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    startedReading = resolve;
  });
  start()
    .catch((e: unknown) => {
      logger.error('the system bus monitor failed to start', { error: errorText(e) });
    })
    .finally(startedReading);

  return {
    ready,
    facts: () => current,
    on(event: 'change' | 'sleep', listener: (...args: never[]) => void): () => void {
      const handler = listener as unknown as (...args: unknown[]) => void;
      events.on(event, handler);
      return () => events.off(event, handler);
    },
    async close(): Promise<void> {
      if (closed) return streamClosed;
      closed = true;
      releaseDelayLock();
      events.removeAllListeners();
      const b = bus;
      bus = undefined;
      if (b) {
        try {
          b.disconnect();
        } catch {
          // already gone
        }
        streamOf(b)?.destroy?.();
      }
      await streamClosed;
    },
  };
}
