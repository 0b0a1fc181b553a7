// Desktop notifications over the session bus (org.freedesktop.Notifications), on a connection of their own.
// Every call is raced with a timeout (dbus-next has none; an activatable server that cannot start makes the bus
// wait up to 120 s); no server is not an error: one log line, again only after a server appeared and went away.
// GetCapabilities is asked once per server (its unique name). ActionInvoked and NotificationClosed come unicast
// to the connection that called Notify (dunst) or broadcast (python-dbusmock), so both are matched here.
import * as dbus from 'dbus-next';
import { errorText } from '../errors.js';
import type { Clock, Logger } from '../ports.js';

export const NOTIFICATIONS_NAME = 'org.freedesktop.Notifications';
const NOTIFICATIONS_PATH = '/org/freedesktop/Notifications';
const DBUS_NAME = 'org.freedesktop.DBus';
const DBUS_PATH = '/org/freedesktop/DBus';

export interface DesktopNotification {
  appName: string;
  /** 0 = a new notification; else the id it replaces. */
  replacesId: number;
  icon: string;
  summary: string;
  body: string;
  /** The spec's flat [key, label, …]. */
  actions: readonly string[];
  urgency: 0 | 1 | 2;
  category: string;
  desktopEntry: string;
  /** -1: the server's default (critical ones do not expire). */
  expireTimeoutMs: number;
}

export interface DesktopNotifierOptions {
  /** The session bus address as dbus-next takes it; undefined: no session bus (nothing is shown). */
  busAddress: string | undefined;
  clock: Clock;
  logger: Logger;
  /** Each call gives up after this long (default 5 s). */
  timeoutMs?: number;
  onAction(id: number, key: string): void;
  onClosed(id: number, reason: number): void;
  /** The notification server changed (appeared, went away, another one): earlier ids mean nothing now. */
  onServerChanged(): void;
}

export interface DesktopNotifier {
  /** The current server's capabilities, or undefined when there is no server (asked once per server). */
  capabilities(): Promise<readonly string[] | undefined>;
  /** Show it; resolves with the id, or undefined when no server took it (never rejects). */
  notify(notification: DesktopNotification): Promise<number | undefined>;
  close(): void;
}

export const DEFAULT_NOTIFY_TIMEOUT_MS = 5000;

/** A call the bus did not answer in time (the server is stuck, or the bus is gone). */
class CallTimeout extends Error {}

export function createDesktopNotifier(options: DesktopNotifierOptions): DesktopNotifier {
  const { clock, logger } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;
  let bus: dbus.MessageBus | undefined;
  let setUp: Promise<void> | undefined;
  let closed = false;
  /** The server's unique name and capabilities, once asked. */
  let server: { owner: string; caps: readonly string[] } | undefined;
  /** undefined: not known yet; false: reported missing (stay quiet until one answers). */
  let available: boolean | undefined;

  function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimer(timeoutMs, () => reject(new CallTimeout(`${what} timed out after ${timeoutMs} ms`)));
      promise.then(
        (value) => {
          timer.cancel();
          resolve(value);
        },
        (e: unknown) => {
          timer.cancel();
          reject(e instanceof Error ? e : new Error(errorText(e)));
        },
      );
    });
  }

  function call(destination: string, path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<dbus.Message> {
    const b = bus;
    if (!b) return Promise.reject(new Error('no session bus connection'));
    return withTimeout(`${iface}.${member}`, b.call(new dbus.Message({ destination, path, interface: iface, member, signature, body })) as Promise<dbus.Message>);
  }

  function dropConnection(): void {
    const b = bus;
    bus = undefined;
    setUp = undefined;
    server = undefined;
    if (b) {
      try {
        b.disconnect();
      } catch {
        // already gone
      }
    }
  }

  function onSignal(msg: dbus.Message): void {
    if (msg.type !== dbus.MessageType.SIGNAL) return;
    if (msg.interface === DBUS_NAME && msg.member === 'NameOwnerChanged' && msg.body[0] === NOTIFICATIONS_NAME) {
      server = undefined;
      options.onServerChanged();
      return;
    }
    if (msg.interface !== NOTIFICATIONS_NAME || (server && msg.sender !== server.owner)) return;
    const id = Number(msg.body[0]);
    if (msg.member === 'ActionInvoked') options.onAction(id, String(msg.body[1]));
    else if (msg.member === 'NotificationClosed') options.onClosed(id, Number(msg.body[1]));
  }

  function connect(): Promise<void> {
    if (setUp) return setUp;
    const address = options.busAddress;
    if (address === undefined) return Promise.reject(new Error('no session bus address (DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR)'));
    let b: dbus.MessageBus;
    try {
      b = dbus.sessionBus({ busAddress: address });
    } catch (e: unknown) {
      return Promise.reject(e instanceof Error ? e : new Error(errorText(e)));
    }
    bus = b;
    b.on('error', (e: unknown) => {
      // A bus that went away: the next notification connects again (and reports nothing new while none answers).
      logger.debug('notification bus connection error', { error: errorText(e) });
      if (bus === b) dropConnection();
    });
    b.on('message', onSignal);
    // dbus-next says nothing when the bus goes away: watch the socket, so the next notification connects again.
    const connection = (b as unknown as { _connection?: { stream?: { on(event: 'close', listener: () => void): void } } })._connection;
    connection?.stream?.on('close', () => {
      if (bus === b) dropConnection();
    });
    const match = (rule: string): Promise<dbus.Message> => call(DBUS_NAME, DBUS_PATH, DBUS_NAME, 'AddMatch', 's', [rule]);
    setUp = Promise.all([
      match(`type='signal',sender='${DBUS_NAME}',interface='${DBUS_NAME}',member='NameOwnerChanged',arg0='${NOTIFICATIONS_NAME}'`),
      match(`type='signal',interface='${NOTIFICATIONS_NAME}',path='${NOTIFICATIONS_PATH}'`),
    ]).then(() => undefined);
    setUp.catch(() => {
      if (bus === b) dropConnection();
    });
    return setUp;
  }

  function missing(e: unknown): undefined {
    // A call that timed out may have left the connection stuck (a bus that is gone): start afresh next time.
    if (e instanceof CallTimeout) dropConnection();
    if (available !== false) {
      logger.info('no desktop notification server answers on the session bus; notifications are skipped (not replayed) until one does', { error: errorText(e) });
    }
    available = false;
    server = undefined;
    return undefined;
  }

  function answered(): void {
    if (available === false) logger.info('a desktop notification server answers again');
    available = true;
  }

  async function capabilities(): Promise<readonly string[] | undefined> {
    if (closed) return undefined;
    if (server) return server.caps;
    try {
      await connect();
      // Asking for them may start (activate) the server; its unique name is asked afterwards.
      const reply = await call(NOTIFICATIONS_NAME, NOTIFICATIONS_PATH, NOTIFICATIONS_NAME, 'GetCapabilities', '', []);
      const caps = (reply.body[0] as unknown[]).map(String);
      const owner = await call(DBUS_NAME, DBUS_PATH, DBUS_NAME, 'GetNameOwner', 's', [NOTIFICATIONS_NAME]);
      server = { owner: String(owner.body[0]), caps };
      answered();
      return caps;
    } catch (e: unknown) {
      return missing(e);
    }
  }

  async function notify(n: DesktopNotification): Promise<number | undefined> {
    if (closed) return undefined;
    if ((await capabilities()) === undefined) return undefined;
    const hints = {
      urgency: new dbus.Variant('y', n.urgency),
      category: new dbus.Variant('s', n.category),
      'desktop-entry': new dbus.Variant('s', n.desktopEntry),
    };
    try {
      const reply = await call(NOTIFICATIONS_NAME, NOTIFICATIONS_PATH, NOTIFICATIONS_NAME, 'Notify', 'susssasa{sv}i', [
        n.appName, n.replacesId, n.icon, n.summary, n.body, [...n.actions], hints, n.expireTimeoutMs,
      ]);
      answered();
      return Number(reply.body[0]);
    } catch (e: unknown) {
      return missing(e);
    }
  }

  return {
    capabilities,
    notify,
    close() {
      closed = true;
      dropConnection();
    },
  };
}
