// The server's bus connection: connecting, noticing when the bus goes away, owning and releasing the well-known
// name, and sending signals without ever throwing into the service.

import type { EventEmitter } from 'node:events';
import * as dbus from 'dbus-next';
import { RbmError, errorText } from '../errors.js';
import type { Logger } from '../ports.js';
import { nodeSocketAddress, sessionBusAddress } from './address.js';
import { BUS_NAME } from './contract.js';

/** How long close() waits for the bus to confirm the name is released. */
const RELEASE_NAME_WAIT_MS = 1000;

export interface BusConnection {
  readonly bus: dbus.MessageBus;
  /** Run `fn` (a signal or PropertiesChanged); a failure is logged unless the connection is closing or gone. */
  safely(what: string, fn: () => void): void;
  onDisconnect(listener: () => void): void;
  /** Own BUS_NAME; AlreadyRunning when another process has it, ServiceUnavailable when the bus refused the connection. */
  requestName(): Promise<void>;
  /** Release the name (when the bus is still there) and disconnect; no disconnect listener is called. */
  close(): Promise<void>;
  /** Disconnect at once after a failed start. */
  abort(): void;
}

function connect(busAddress: string | undefined): dbus.MessageBus {
  try {
    const address = busAddress || sessionBusAddress(process.env);
    if (!address) throw new Error('neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set');
    return dbus.sessionBus({ busAddress: nodeSocketAddress(address) });
  } catch (e: unknown) {
    throw new RbmError('ServiceUnavailable', `cannot connect to the session bus: ${errorText(e)}`, {
      hint: 'Run inside a login session, or set DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR (dbus-run-session starts a private bus).',
      cause: e,
    });
  }
}

function disconnectQuietly(bus: dbus.MessageBus): void {
  try {
    bus.disconnect();
  } catch {
    // already gone
  }
}

export function openBusConnection(busAddress: string | undefined, logger: Logger): BusConnection {
  const bus = connect(busAddress);
  let closing = false;
  let disconnected = false;
  const disconnectListeners: (() => void)[] = [];

  const connectFailure = new Promise<never>((_, reject) => {
    bus.once('error', (e: unknown) => {
      reject(new RbmError('ServiceUnavailable', `cannot connect to the session bus: ${errorText(e)}`, { cause: e }));
    });
  });
  connectFailure.catch(() => undefined);
  bus.on('error', (e: unknown) => {
    if (!closing) logger.warn('D-Bus connection error', { error: errorText(e) });
  });

  // dbus-next emits nothing on MessageBus when the daemon goes away (reference §3.1 gotcha 6): watch the stream.
  const fireDisconnect = (): void => {
    if (closing || disconnected) return;
    disconnected = true;
    logger.warn('lost the D-Bus connection');
    for (const listener of disconnectListeners) {
      try {
        listener();
      } catch (e: unknown) {
        logger.error('disconnect listener failed', { error: errorText(e) });
      }
    }
  };
  const connection = (bus as unknown as { _connection: EventEmitter & { stream?: EventEmitter } })._connection;
  connection.on('end', fireDisconnect);
  connection.stream?.on('close', fireDisconnect);

  return {
    bus,
    safely(what, fn) {
      try {
        fn();
      } catch (e: unknown) {
        if (!closing && !disconnected) logger.warn(`could not emit ${what}`, { error: errorText(e) });
      }
    },
    onDisconnect(listener) {
      disconnectListeners.push(listener);
    },
    async requestName() {
      const replyCode = await Promise.race([bus.requestName(BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE), connectFailure]);
      if (replyCode !== dbus.RequestNameReply.PRIMARY_OWNER && replyCode !== dbus.RequestNameReply.ALREADY_OWNER) {
        throw new RbmError('AlreadyRunning', `another process already owns ${BUS_NAME} on this bus`, {
          hint: 'Another rclone-bisync-manager is running: stop it first (systemctl --user stop rclone-bisync-manager).',
        });
      }
    },
    async close() {
      if (closing) return;
      closing = true;
      if (!disconnected) {
        const released = bus.releaseName(BUS_NAME).catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([released, new Promise((resolve) => (timer = setTimeout(resolve, RELEASE_NAME_WAIT_MS)))]);
        if (timer) clearTimeout(timer);
      }
      disconnectQuietly(bus);
    },
    abort() {
      closing = true;
      disconnectQuietly(bus);
    },
  };
}
